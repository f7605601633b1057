using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using PaymentGate.Tests.Receipts;
using PaymentGate.Tests.Sessions;
using Sessions.PaymentGate.Sessions;
using Sessions.Payments.Receipts;
using Sessions.ServiceDefaults.Payers;
using Sessions.Testing;
using static PaymentGate.Tests.Mcp.McpClient;
using static PaymentGate.Tests.Sessions.SessionGateHarness;

namespace PaymentGate.Tests.Mcp;

// MCP tool calls paid by a session (Payment-Session header, SessionApi in-process): each priced call debits its tool's price,
// a tool error is credited back, free tools are identified (payer context with the session) but not charged.
public sealed class McpSessionTests(InfrastructureFixture infrastructure) : IAsyncLifetime
{
    SessionGateHarness _gate = null!;
    FakeMcpServer _mcp = null!;

    public async ValueTask InitializeAsync()
    {
        _mcp = await FakeMcpServer.StartAsync();
        _gate = await SessionGateHarness.StartAsync(infrastructure, new() { ["services:mcpserver:http:0"] = _mcp.Url });
    }

    public async ValueTask DisposeAsync()
    {
        await _gate.DisposeAsync();
        await _mcp.DisposeAsync();
    }

    [Fact]
    public async Task Session_token_pays_each_priced_call_charges_no_tool_error_and_identifies_free_tools()
    {
        var payer = await _gate.FundedPayerAsync();
        var (id, token, _) = await _gate.OpenAsync(payer, 100_000);
        var signer = _gate.GateServices.GetRequiredService<PayerContextSigner>();

        for (var i = 1; i <= 3; i++)
        {
            using var response = await PostAsync(_gate.Http, ToolCall("put-content", new { key = $"k{i}", value = "v" }), token);
            var answer = await ReadAsync(response);
            Assert.Null(answer["result"]!["isError"]);
            Assert.NotNull(answer["result"]!["_meta"]!["sessions/receipt"]);
            Assert.Equal((100_000 - i * 10_000).ToString(), Header(response, SessionSpending.BalanceHeader));
        }
        var call = _mcp.ToolCalls("put-content").Last();
        Assert.True(signer.TryVerify(call.PayerContext, out var context, out _));
        Assert.Equal((payer.Lower, id), (context!.Payer, context.SessionId));

        using (var failed = await PostAsync(_gate.Http, ToolCall("fail-tool"), token))
        {
            Assert.True((await ReadAsync(failed))["result"]!["isError"]!.GetValue<bool>());
            Assert.Equal("70000", Header(failed, SessionSpending.BalanceHeader));
        }
        // The failed call's hold was released: three debits, none for it, nothing to credit back.
        Assert.Equal(3, await _gate.LedgerCountAsync(id, "debit"));
        Assert.Equal(0, await _gate.LedgerCountAsync(id, "credit"));

        using (var status = await PostAsync(_gate.Http, ToolCall("session-status"), token))
        {
            Assert.Null((await ReadAsync(status))["result"]!["isError"]);
            Assert.True(signer.TryVerify(_mcp.ToolCalls("session-status").Single().PayerContext, out var identified, out _));
            // The live balance (the gate's Redis), for session-status: SessionApi's ledger may not have folded the debits yet.
            Assert.Equal((payer.Lower, id, "70000"), (identified!.Payer, identified.SessionId, identified.SessionBalance));
        }
        Assert.Equal(3, await _gate.LedgerCountAsync(id, "debit"));   // the free tool was not charged
        // No token ever reaches the server.
        Assert.All(_mcp.Calls, c => Assert.DoesNotContain(token, c.Body!.ToJsonString()));
    }

    // Review finding: the server binds members case-insensitively (last wins), so {"name":"session-status","Name":"put-content"}
    // would be priced as the free tool and run as the priced one. Such bodies (and exact repeats, issue 13) are refused at the
    // gate with a JSON-RPC Invalid Request, never forwarded; free tools get a context marked IdentifiedOnly (McpServer refuses
    // priced tools on it).
    [Theory]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"session-status","Name":"put-content","arguments":{"key":"k","value":"v"}}}""")]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"session-status","name":"put-content","arguments":{"key":"k","value":"v"}}}""")]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"put-content","name":"session-status","arguments":{"key":"k","value":"v"}}}""")]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":"tools/list","Method":"tools/call","params":{"name":"put-content","arguments":{"key":"k","value":"v"}}}""")]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"session-status","arguments":{"Key":"a","key":"b"}}}""")]
    public async Task Repeated_or_case_variant_members_are_refused_and_charge_nothing(string body)
    {
        var payer = await _gate.FundedPayerAsync();
        var (id, token, _) = await _gate.OpenAsync(payer, 100_000);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/mcp") { Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json") };
        request.Headers.Accept.ParseAdd("application/json");
        request.Headers.Accept.ParseAdd("text/event-stream");
        request.Headers.TryAddWithoutValidation(SessionSpending.TokenHeader, token);
        using var response = await _gate.Http.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var error = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).RootElement;
        Assert.Equal(-32600, error.GetProperty("error").GetProperty("code").GetInt32());
        Assert.Contains("a member name is repeated", error.GetProperty("error").GetProperty("message").GetString());
        Assert.DoesNotContain(_mcp.Calls, call => call.Method == "tools/call");
        Assert.Equal(0, await _gate.LedgerCountAsync(id, "debit"));
    }

    [Fact]
    public async Task A_free_tool_gets_a_payer_context_marked_identified_only()
    {
        var payer = await _gate.FundedPayerAsync();
        var (_, token, _) = await _gate.OpenAsync(payer, 100_000);
        using var response = await PostAsync(_gate.Http, ToolCall("session-status"), token);
        await ReadAsync(response);
        Assert.True(_gate.GateServices.GetRequiredService<PayerContextSigner>()
            .TryVerify(_mcp.ToolCalls("session-status").Single().PayerContext, out var identified, out _));
        Assert.True(identified!.IdentifiedOnly);

        using var paid = await PostAsync(_gate.Http, ToolCall("put-content", new { key = "k", value = "v" }), token);
        await ReadAsync(paid);
        Assert.True(_gate.GateServices.GetRequiredService<PayerContextSigner>()
            .TryVerify(_mcp.ToolCalls("put-content").Single().PayerContext, out var charged, out _));
        Assert.False(charged!.IdentifiedOnly);
    }

    [Fact]
    public async Task Unknown_session_token_on_a_priced_call_gets_the_payment_required_result_saying_why()
    {
        var answer = await CallAsync(_gate.Http, ToolCall("get-content", new { key = "k" }), "st_" + new string('a', 43));

        var result = answer["result"]!;
        Assert.True(result["isError"]!.GetValue<bool>());
        Assert.Contains("unknown", result["structuredContent"]!["error"]!.GetValue<string>());
        Assert.Equal("1000", result["structuredContent"]!["accepts"]![0]!["amount"]!.GetValue<string>());
        Assert.Empty(_mcp.ToolCalls("get-content"));
    }

    [Fact]
    public async Task Depleted_session_gets_the_payment_required_result_with_a_top_up_hint()
    {
        var payer = await _gate.FundedPayerAsync();
        var (id, token, _) = await _gate.OpenAsync(payer, 10_000);
        Assert.Null((await CallAsync(_gate.Http, ToolCall("put-content", new { key = "k", value = "v" }), token))["result"]!["isError"]);

        var answer = await CallAsync(_gate.Http, ToolCall("get-content", new { key = "k" }), token);

        var required = answer["result"]!["structuredContent"]!.AsObject();
        Assert.True(answer["result"]!["isError"]!.GetValue<bool>());
        Assert.Equal($"/api/sessions/{id}/topup", required["topUp"]!["path"]!.GetValue<string>());
        Assert.Equal(2, required["x402Version"]!.GetValue<int>());
        Assert.Single(_mcp.ToolCalls("put-content"));
        Assert.Empty(_mcp.ToolCalls("get-content"));
        Assert.IsType<JsonArray>(required["accepts"]);
    }

    [Fact]
    public async Task SessionApi_down_is_a_503_problem_that_is_also_the_JSON_RPC_error_of_the_call()
    {
        var payer = await _gate.FundedPayerAsync();
        var (_, token, _) = await _gate.OpenAsync(payer, 10_000);
        _gate.SessionApiLink.Down = true;
        var call = ToolCall("put-content", new { key = "k", value = "v" });

        using var response = await PostAsync(_gate.Http, call, token);

        Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken))!.AsObject();
        Assert.Equal(("Sessions unavailable", 503), (problem["title"]!.GetValue<string>(), problem["status"]!.GetValue<int>()));
        Assert.Equal("2.0", problem["jsonrpc"]!.GetValue<string>());
        Assert.Equal(call["id"]!.GetValue<int>(), problem["id"]!.GetValue<int>());
        Assert.Equal(-32603, problem["error"]!["code"]!.GetValue<int>());
        Assert.StartsWith("Sessions unavailable: ", problem["error"]!["message"]!.GetValue<string>());
        Assert.Equal(503, problem["error"]!["data"]!["httpStatus"]!.GetValue<int>());
        Assert.Empty(_mcp.ToolCalls("put-content"));
        _gate.SessionApiLink.Down = false;
    }

    // Issue 19: the JWS of a session-paid tool call rides in the result's _meta["sessions/receipt"] (and the header).
    [Fact]
    public async Task A_session_paid_tool_call_carries_its_receipt_in_the_result_meta()
    {
        var payer = await _gate.FundedPayerAsync();
        var (id, token, _) = await _gate.OpenAsync(payer, 100_000);

        using var response = await PostAsync(_gate.Http, ToolCall("put-content", new { key = "k", value = "v" }), token);
        var answer = await ReadAsync(response);

        var jws = answer["result"]!["_meta"]!["sessions/receipt"]!.GetValue<string>();
        Assert.Equal(jws, response.Headers.GetValues("Sessions-Receipt").Single());
        var check = new ReceiptVerifier(await ReceiptAssertions.JwksAsync(_gate.Http)).Verify(jws);
        Assert.True(check.IsValid, check.Error);
        Assert.Equal(("session", id, "POST /mcp tools/call put-content", "10000", "90000"),
            (check.Receipt!.Method, check.Receipt.SessionId, check.Receipt.Route, check.Receipt.Amount, check.Receipt.BalanceAfter));

        using var failed = await PostAsync(_gate.Http, ToolCall("fail-tool"), token);
        var failedAnswer = await ReadAsync(failed);
        Assert.Null(failedAnswer["result"]!["_meta"]);
        Assert.False(failed.Headers.Contains("Sessions-Receipt"));
    }
}
