using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using PaymentGate.Tests.Facilitator;
using PaymentGate.Tests.Paywall;
using PaymentGate.Tests.Receipts;
using Sessions.Payments.Receipts;
using Sessions.Payments.X402;
using Sessions.ServiceDefaults.Payers;
using Sessions.Testing;
using static PaymentGate.Tests.Mcp.McpClient;

namespace PaymentGate.Tests.Mcp;

// MCP at the gate with the real local facilitator in front of a fake MCP server: free messages pass, a priced tools/call is
// answered with the x402 MCP payment-required result, paid in _meta["x402/payment"] (settled only for a result without
// isError, the settlement in the result's _meta, JSON or SSE), replays refused, and prices learnt from GET /mcp/pricing.
public sealed class McpGateTests(InfrastructureFixture infrastructure) : IAsyncLifetime
{
    McpGateHarness _harness = null!;
    PaywallHarness _gate = null!;
    FakeMcpServer _mcp = null!;
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _harness = await McpGateHarness.StartAsync(infrastructure);
        (_gate, _mcp) = (_harness.Gate, _harness.Mcp);
    }

    public ValueTask DisposeAsync() => _harness.DisposeAsync();

    PayerContextSigner Signer => _gate.Factory.Services.GetRequiredService<PayerContextSigner>();

    [Fact]
    public async Task Initialize_tools_list_notifications_and_free_tools_pass_unpaid_without_a_payer()
    {
        var initialize = await CallAsync(_gate.Http, new JsonObject { ["jsonrpc"] = "2.0", ["id"] = "init-1", ["method"] = "initialize", ["params"] = new JsonObject() });
        Assert.Equal("init-1", initialize["id"]!.GetValue<string>());
        Assert.Equal("fake", initialize["result"]!["serverInfo"]!["name"]!.GetValue<string>());
        using (var notification = await PostAsync(_gate.Http, new JsonObject { ["jsonrpc"] = "2.0", ["method"] = "notifications/initialized" }))
            Assert.Equal(HttpStatusCode.Accepted, notification.StatusCode);
        var list = await CallAsync(_gate.Http, new JsonObject { ["jsonrpc"] = "2.0", ["id"] = 2, ["method"] = "tools/list" });
        Assert.NotNull(list["result"]!["tools"]);
        var status = await CallAsync(_gate.Http, ToolCall("session-status"));
        Assert.Null(status["result"]!["isError"]);

        Assert.Equal(["initialize", "notifications/initialized", "tools/list", "tools/call"], _mcp.Calls.Select(c => c.Method));
        Assert.All(_mcp.Calls, call => Assert.Null(call.PayerContext));
        Assert.Empty(await _gate.PaymentsAsync());
        using var get = await _gate.Http.GetAsync("/mcp", Ct);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, get.StatusCode);
    }

    [Fact]
    public async Task Unpaid_priced_call_gets_the_payment_required_tool_result_and_the_server_is_not_called()
    {
        var call = ToolCall("put-content", new { key = "notes/a", value = "hello" });
        using var response = await PostAsync(_gate.Http, call);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var answer = await ReadAsync(response);
        Assert.Equal(call["id"]!.GetValue<int>(), answer["id"]!.GetValue<int>());
        var result = answer["result"]!;
        Assert.True(result["isError"]!.GetValue<bool>());
        var structured = result["structuredContent"]!;
        Assert.True(JsonNode.DeepEquals(structured, JsonNode.Parse(result["content"]![0]!["text"]!.GetValue<string>())));
        Assert.Equal("text", result["content"]![0]!["type"]!.GetValue<string>());

        var required = structured.Deserialize(X402JsonContext.Strict.PaymentRequired)!;
        Assert.Equal(2, required.X402Version);
        Assert.Equal("mcp://tool/put-content", required.Resource.Url);
        Assert.Equal("Stores a value", required.Resource.Description);
        Assert.False(string.IsNullOrEmpty(required.Error));
        var accepted = Assert.Single(required.Accepts);
        Assert.Equal(("exact", "eip155:84532", "10000", "0x036CbD53842c5426634e7929541eC2318f3dCF7e", TestPayer.PayTo),
            (accepted.Scheme, accepted.Network, accepted.Amount, accepted.Asset, accepted.PayTo));
        Assert.Equal("""{"name":"USDC","version":"2"}""", accepted.Extra!.Value.GetRawText());

        Assert.Empty(_mcp.ToolCalls("put-content"));
        Assert.Empty(await _gate.PaymentsAsync());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Paid_call_is_forwarded_once_with_a_payer_context_settled_and_answered_with_the_settlement_in_meta(bool sse)
    {
        _mcp.Sse = sse;
        var payer = new TestPayer();
        await _gate.FundAsync(payer);
        var payment = await PayAsync(_gate.Http, payer, "put-content", new { key = "k", value = "v" });

        using var response = await PostAsync(_gate.Http, ToolCall("put-content", new { key = "k", value = "v" }, payment));

        Assert.Equal(sse ? "text/event-stream" : "application/json", response.Content.Headers.ContentType?.MediaType);
        var answer = await ReadAsync(response);
        var result = answer["result"]!;
        Assert.Null(result["isError"]);
        Assert.Equal("ok put-content", result["content"]![0]!["text"]!.GetValue<string>());
        var settlement = result["_meta"]!["x402/payment-response"]!.Deserialize(X402JsonContext.Strict.SettleResponse)!;
        Assert.True(settlement.Success);
        Assert.Equal("eip155:84532", settlement.Network);
        Assert.False(string.IsNullOrEmpty(settlement.Transaction));
        Assert.Equal(payer.Lower, settlement.Payer?.ToLowerInvariant());
        // Issue 19: the gate's signed receipt of the paid call beside the settlement.
        var receipt = new ReceiptVerifier(await ReceiptAssertions.JwksAsync(_gate.Http)).Verify(result["_meta"]!["sessions/receipt"]!.GetValue<string>());
        Assert.True(receipt.IsValid, receipt.Error);
        Assert.Equal(("x402-v2", "POST /mcp tools/call put-content", settlement.Transaction), (receipt.Receipt!.Method, receipt.Receipt.Route, receipt.Receipt.Reference));
        if (sse)
            Assert.Contains("notifications/message", await response.Content.ReadAsStringAsync(Ct));

        // The server saw the call once, with a signed payer context and without the payment proof; other _meta kept.
        var call = Assert.Single(_mcp.ToolCalls("put-content"));
        Assert.True(Signer.TryVerify(call.PayerContext, out var context, out var error), error);
        Assert.Equal((payer.Lower, "demo"), (context!.Payer, context.Organization));
        Assert.Matches("^pay_[0-9a-f]{32}$", context.PaymentId);
        var meta = call.Body!["params"]!["_meta"]!.AsObject();
        Assert.False(meta.ContainsKey("x402/payment"));
        Assert.Equal(7, meta["progressToken"]!.GetValue<int>());

        var row = Assert.Single(await _gate.PaymentsAsync());
        Assert.Equal((context.PaymentId, "served", "10000", settlement.Transaction), (row.Id, row.Status, row.Amount, row.Transaction));
        Assert.Equal("990000", await _gate.BalanceAsync(payer.Lower));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Tool_error_is_delivered_without_settlement_and_nothing_moves(bool sse)
    {
        _mcp.Sse = sse;
        var payer = new TestPayer();
        await _gate.FundAsync(payer);
        var payment = await PayAsync(_gate.Http, payer, "fail-tool");

        var answer = await CallAsync(_gate.Http, ToolCall("fail-tool", payment: payment));

        Assert.True(answer["result"]!["isError"]!.GetValue<bool>());
        Assert.Equal("boom", answer["result"]!["content"]![0]!["text"]!.GetValue<string>());
        Assert.Null(answer["result"]!["_meta"]);
        Assert.Single(_mcp.ToolCalls("fail-tool"), c => c.PayerContext is not null);
        Assert.Equal("1000000", await _gate.BalanceAsync(payer.Lower));
        Assert.DoesNotContain(await _gate.PaymentsAsync(), p => p.Status == "served");
    }

    [Fact]
    public async Task Replayed_payment_is_refused_with_the_payment_required_result()
    {
        var payer = new TestPayer();
        await _gate.FundAsync(payer);
        var payment = await PayAsync(_gate.Http, payer, "get-content", new { key = "k" });
        var first = await CallAsync(_gate.Http, ToolCall("get-content", new { key = "k" }, payment.DeepClone()));
        Assert.True(first["result"]!["_meta"]!["x402/payment-response"]!["success"]!.GetValue<bool>());

        var replay = await CallAsync(_gate.Http, ToolCall("get-content", new { key = "k" }, payment.DeepClone()));

        Assert.True(replay["result"]!["isError"]!.GetValue<bool>());
        Assert.Contains("already", replay["result"]!["structuredContent"]!["error"]!.GetValue<string>());
        Assert.Single(_mcp.ToolCalls("get-content"), c => c.PayerContext is not null);
        Assert.Equal("999000", await _gate.BalanceAsync(payer.Lower));
    }

    // Issue 13 defect 3: a tools/call whose tool name is repeated (exactly or in another case) carries a valid payment for one of
    // them. The gate prices nothing it cannot read unambiguously: refused (JSON-RPC Invalid Request), nothing forwarded, settled or moved.
    [Theory]
    [InlineData("\"name\":\"get-content\",\"name\":\"put-content\"")]
    [InlineData("\"name\":\"put-content\",\"name\":\"get-content\"")]
    [InlineData("\"name\":\"put-content\",\"NAME\":\"get-content\"")]
    public async Task Paid_call_with_a_repeated_tool_name_is_neither_priced_nor_charged(string names)
    {
        var payer = new TestPayer();
        await _gate.FundAsync(payer);
        var payment = await PayAsync(_gate.Http, payer, "put-content", new { key = "k", value = "v" });
        var body = "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"tools/call\",\"params\":{" + names + ",\"arguments\":{\"key\":\"k\",\"value\":\"v\"},"
            + "\"_meta\":{\"x402/payment\":" + payment.ToJsonString() + "}}}";
        using var request = new HttpRequestMessage(HttpMethod.Post, "/mcp") { Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json") };
        request.Headers.Accept.ParseAdd("application/json");
        request.Headers.Accept.ParseAdd("text/event-stream");

        using var response = await _gate.Http.SendAsync(request, Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        // As McpServer answers an unreadable message: the JSON-RPC error alone, which the C# SDK's client reads back.
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement;
        Assert.Equal(("2.0", JsonValueKind.Null, -32600), (error.GetProperty("jsonrpc").GetString(), error.GetProperty("id").ValueKind,
            error.GetProperty("error").GetProperty("code").GetInt32()));
        Assert.Contains("a member name is repeated", error.GetProperty("error").GetProperty("message").GetString());
        Assert.Empty(_mcp.ToolCalls("put-content"));
        Assert.All(_mcp.Calls, call => Assert.Null(call.PayerContext));
        Assert.Empty(await _gate.PaymentsAsync());
        Assert.Equal("1000000", await _gate.BalanceAsync(payer.Lower));
    }

    [Fact]
    public async Task Payment_for_another_price_or_not_an_object_is_refused_before_anything_runs()
    {
        var payer = new TestPayer();
        await _gate.FundAsync(payer);
        // get-content's $0.001 payment offered for put-content ($0.01).
        var cheap = await PayAsync(_gate.Http, payer, "get-content");
        var unmatched = await CallAsync(_gate.Http, ToolCall("put-content", new { key = "k", value = "v" }, cheap));
        Assert.True(unmatched["result"]!["isError"]!.GetValue<bool>());
        Assert.Contains("does not match", unmatched["result"]!["structuredContent"]!["error"]!.GetValue<string>());

        var base64 = await CallAsync(_gate.Http, ToolCall("put-content", new { key = "k", value = "v" }, JsonValue.Create("eyJ4NDAyVmVyc2lvbiI6Mn0=")));
        Assert.Contains("object", base64["result"]!["structuredContent"]!["error"]!.GetValue<string>());
        // Read as strictly as a PAYMENT-SIGNATURE header, named as _meta, and only v2.
        var undecodable = await CallAsync(_gate.Http, ToolCall("put-content", new { key = "k", value = "v" }, new JsonObject { ["x402Version"] = 2 }));
        Assert.StartsWith("invalid _meta[\"x402/payment\"]: ", undecodable["result"]!["structuredContent"]!["error"]!.GetValue<string>());
        var v1 = new JsonObject { ["x402Version"] = 1, ["scheme"] = "exact", ["network"] = "base-sepolia", ["payload"] = cheap["payload"]!.DeepClone() };
        var v1Answer = await CallAsync(_gate.Http, ToolCall("put-content", new { key = "k", value = "v" }, v1));
        Assert.Equal("invalid _meta[\"x402/payment\"]: MCP payments are x402 v2 PaymentPayloads",
            v1Answer["result"]!["structuredContent"]!["error"]!.GetValue<string>());

        Assert.Empty(_mcp.ToolCalls("put-content"));
        Assert.Equal("1000000", await _gate.BalanceAsync(payer.Lower));
    }

    [Fact]
    public async Task Without_prices_a_priced_call_fails_closed_with_503_and_free_messages_still_pass()
    {
        _mcp.PricingDown = true;

        using var response = await PostAsync(_gate.Http, ToolCall("put-content", new { key = "k", value = "v" }));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal("2.0", problem.GetProperty("jsonrpc").GetString());
        Assert.Equal(-32603, problem.GetProperty("error").GetProperty("code").GetInt32());
        Assert.Empty(_mcp.ToolCalls("put-content"));
        var list = await CallAsync(_gate.Http, new JsonObject { ["jsonrpc"] = "2.0", ["id"] = 1, ["method"] = "tools/list" });
        Assert.NotNull(list["result"]);
    }

    [Fact]
    public async Task Prices_are_learnt_once_and_listed_in_api_pricing()
    {
        var pricing = await _gate.Http.GetFromJsonAsync<JsonElement>("/api/pricing", Ct);
        var tools = pricing.GetProperty("tools").EnumerateArray().ToDictionary(t => t.GetProperty("name").GetString()!);
        Assert.Equal(["fail-tool", "get-content", "put-content", "session-status"], tools.Keys);
        Assert.Equal(("10000", "$0.01", true, "/mcp"), (tools["put-content"].GetProperty("amount").GetString(), tools["put-content"].GetProperty("price").GetString(),
            tools["put-content"].GetProperty("paid").GetBoolean(), tools["put-content"].GetProperty("path").GetString()));
        Assert.False(tools["session-status"].GetProperty("paid").GetBoolean());

        for (var i = 0; i < 3; i++)
            await CallAsync(_gate.Http, ToolCall("get-content", new { key = "k" }));
        Assert.Equal(1, _mcp.PricingRequests);
    }
}
