using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using PaymentGate.Tests.Facilitator;
using PaymentGate.Tests.Mpp;
using PaymentGate.Tests.Paywall;
using PaymentGate.Tests.Receipts;
using Sessions.Payments.Mpp;
using Sessions.Payments.Receipts;
using Sessions.Payments.X402;
using Sessions.ServiceDefaults.Payers;
using Sessions.Testing;
using static PaymentGate.Tests.Mcp.McpClient;

namespace PaymentGate.Tests.Mcp;

// MCP over MPP at the gate (mppx 0.11 Transport.mcp / McpClient): an unpaid priced tools/call from an MPP client
// (Accept-Payment) is the JSON-RPC error -32042 with the challenge in error.data; the credential object in
// params._meta["org.paymentauth/credential"] pays through the same checks and ledger as Authorization: Payment, and the
// receipt comes back in result._meta["org.paymentauth/receipt"]; failed credentials are -32043 (-32602 malformed).
public sealed class McpMppTests(InfrastructureFixture infrastructure) : IAsyncLifetime
{
    McpGateHarness _harness = null!;
    PaywallHarness _gate = null!;
    FakeMcpServer _mcp = null!;
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _harness = await McpGateHarness.StartAsync(infrastructure, new() { ["Gate:Mpp:ChallengeKey"] = MppClient.ChallengeKey });
        (_gate, _mcp) = (_harness.Gate, _harness.Mcp);
    }

    public ValueTask DisposeAsync() => _harness.DisposeAsync();

    PayerContextSigner Signer => _gate.Factory.Services.GetRequiredService<PayerContextSigner>();

    /// <summary>One POST as mppx's fetch sends it (Accept-Payment on every request), or without the header.</summary>
    async Task<JsonObject> SendAsync(JsonObject message, bool acceptPayment = true)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/mcp") { Content = new StringContent(message.ToJsonString(), Encoding.UTF8, "application/json") };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        if (acceptPayment)
            request.Headers.TryAddWithoutValidation("Accept-Payment", "evm/charge");
        using var response = await _gate.Http.SendAsync(request, Ct);
        // MPP's MCP transport answers in a normal 200 body (status 402 belongs to the HTTP schemes).
        return await ReadAsync(response);
    }

    static JsonObject WithCredential(JsonObject call, JsonNode credential)
    {
        call["params"]!["_meta"] = new JsonObject { ["org.paymentauth/credential"] = credential, ["progressToken"] = 7 };
        return call;
    }

    /// <summary>The challenge object of error.data (or of a result's payment-required _meta), checked to be this gate's, payable.</summary>
    static PaymentChallenge ChallengeOf(JsonNode data)
    {
        Assert.Equal(402, data["httpStatus"]!.GetValue<int>());
        var json = Assert.Single(data["challenges"]!.AsArray())!.AsObject();
        var challenge = new PaymentChallenge
        {
            Id = json["id"]!.GetValue<string>(), Realm = json["realm"]!.GetValue<string>(), Method = json["method"]!.GetValue<string>(),
            Intent = json["intent"]!.GetValue<string>(), Expires = json["expires"]!.GetValue<string>(),
            Description = json["description"]?.GetValue<string>(),
            // The request travels decoded; its id was computed over the JCS base64url form.
            Request = Base64Url.Encode(Jcs.CanonicalizeToUtf8(JsonSerializer.SerializeToElement(json["request"]))),
        };
        Assert.True(challenge.HasValidId(Encoding.UTF8.GetBytes(MppClient.ChallengeKey)), "challenge id is not the gate's HMAC");
        Assert.True(DateTimeOffset.Parse(challenge.Expires!, System.Globalization.CultureInfo.InvariantCulture) > DateTimeOffset.UtcNow);
        return challenge;
    }

    /// <summary>What mppx's McpClient puts in _meta: Credential.deserialize of the header form (the challenge with its request decoded).</summary>
    static JsonObject Credential(TestPayer payer, PaymentChallenge challenge, JsonObject? challengeJson = null) => new()
    {
        ["challenge"] = challengeJson ?? ChallengeJson(challenge),
        ["payload"] = JsonSerializer.SerializeToNode(MppClient.Authorization(payer, challenge)),
        ["source"] = MppEvm.SourceDid(84532, payer.Address),
    };

    static JsonObject ChallengeJson(PaymentChallenge challenge)
    {
        var json = new JsonObject
        {
            ["id"] = challenge.Id, ["realm"] = challenge.Realm, ["method"] = challenge.Method, ["intent"] = challenge.Intent,
            ["request"] = JsonNode.Parse(MppClient.RequestOf(challenge).GetRawText()), ["expires"] = challenge.Expires,
        };
        if (challenge.Description is not null)
            json["description"] = challenge.Description;
        return json;
    }

    async Task<PaymentChallenge> ChallengeAsync(string tool)
    {
        var answer = await SendAsync(ToolCall(tool));
        return ChallengeOf(answer["error"]!["data"]!);
    }

    static JsonNode ErrorOf(JsonObject answer, int code, string problemType)
    {
        var error = answer["error"]!;
        Assert.True(code == error["code"]!.GetValue<int>(), answer.ToJsonString());
        Assert.Equal(MppClient.ProblemBase + problemType, error["data"]!["problem"]!["type"]!.GetValue<string>());
        return error;
    }

    [Fact]
    public async Task Unpaid_call_from_an_mpp_client_is_error_32042_with_a_payable_challenge_and_nothing_runs()
    {
        var call = ToolCall("put-content", new { key = "k", value = "v" });
        var answer = await SendAsync(call);

        Assert.Equal(call["id"]!.GetValue<int>(), answer["id"]!.GetValue<int>());
        Assert.Null(answer["result"]);
        var error = answer["error"]!;
        Assert.Equal(-32042, error["code"]!.GetValue<int>());
        Assert.False(string.IsNullOrEmpty(error["message"]!.GetValue<string>()));
        // Like mppx: no problem for a call that has not paid yet.
        Assert.Null(error["data"]!["problem"]);
        var challenge = ChallengeOf(error["data"]!);
        Assert.Equal(("evm", "charge", "localhost"), (challenge.Method, challenge.Intent, challenge.Realm));
        Assert.Equal("""{"amount":"10000","currency":"0x036CbD53842c5426634e7929541eC2318f3dCF7e","methodDetails":{"chainId":84532,"credentialTypes":["authorization"],"decimals":6},"recipient":"0x209693Bc6afc0C5328bA36FaF03C514EF312287C"}""",
            Encoding.UTF8.GetString(Jcs.CanonicalizeToUtf8(MppClient.RequestOf(challenge))));

        Assert.Empty(_mcp.ToolCalls("put-content"));
        Assert.Empty(await _gate.PaymentsAsync());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Credential_in_meta_pays_once_with_a_payer_context_and_the_receipt_in_meta(bool sse)
    {
        _mcp.Sse = sse;
        var payer = new TestPayer();
        await _gate.FundAsync(payer);
        var challenge = await ChallengeAsync("put-content");

        var answer = await SendAsync(WithCredential(ToolCall("put-content", new { key = "k", value = "v" }), Credential(payer, challenge)));

        var result = answer["result"]!;
        Assert.Null(result["isError"]);
        Assert.Equal("ok put-content", result["content"]![0]!["text"]!.GetValue<string>());
        var receipt = result["_meta"]!["org.paymentauth/receipt"]!;
        Assert.Equal(("success", "evm", challenge.Id), (receipt["status"]!.GetValue<string>(), receipt["method"]!.GetValue<string>(),
            receipt["challengeId"]!.GetValue<string>()));
        Assert.True(DateTimeOffset.TryParse(receipt["timestamp"]!.GetValue<string>(), out _));
        Assert.Null(result["_meta"]!["x402/payment-response"]);
        // Issue 19: the gate's signed receipt beside MPP's own.
        var signed = new ReceiptVerifier(await ReceiptAssertions.JwksAsync(_gate.Http)).Verify(result["_meta"]!["sessions/receipt"]!.GetValue<string>());
        Assert.Equal(("mpp", "POST /mcp tools/call put-content"), (signed.Receipt?.Method, signed.Receipt?.Route));

        var call = Assert.Single(_mcp.ToolCalls("put-content"));
        Assert.True(Signer.TryVerify(call.PayerContext, out var context, out var error), error);
        Assert.Equal((payer.Lower, "demo"), (context!.Payer, context.Organization));
        var meta = call.Body!["params"]!["_meta"]!.AsObject();
        Assert.False(meta.ContainsKey("org.paymentauth/credential"));
        Assert.Equal(7, meta["progressToken"]!.GetValue<int>());

        var row = Assert.Single(await _gate.PaymentsAsync());
        Assert.Equal((context.PaymentId, "served", "10000", receipt["reference"]!.GetValue<string>()), (row.Id, row.Status, row.Amount, row.Transaction));
        Assert.Equal("990000", await _gate.BalanceAsync(payer.Lower));
    }

    [Fact]
    public async Task Replayed_credential_is_error_32043_invalid_challenge_with_a_fresh_challenge()
    {
        var payer = new TestPayer();
        await _gate.FundAsync(payer);
        var challenge = await ChallengeAsync("get-content");
        var credential = Credential(payer, challenge);
        var first = await SendAsync(WithCredential(ToolCall("get-content", new { key = "k" }), credential.DeepClone()));
        Assert.NotNull(first["result"]!["_meta"]!["org.paymentauth/receipt"]);

        var replay = await SendAsync(WithCredential(ToolCall("get-content", new { key = "k" }), credential.DeepClone()), acceptPayment: false);

        var error = ErrorOf(replay, -32043, "invalid-challenge");
        Assert.Equal(402, error["data"]!["problem"]!["status"]!.GetValue<int>());
        Assert.NotEqual(challenge.Id, ChallengeOf(error["data"]!).Id);
        Assert.Single(_mcp.ToolCalls("get-content"));
        Assert.Equal("999000", await _gate.BalanceAsync(payer.Lower));
    }

    [Theory]
    [InlineData("amount")]
    [InlineData("expires")]
    [InlineData("cheaper-tool")]
    public async Task Tampered_challenge_is_error_32043_and_nothing_runs(string tamper)
    {
        var payer = new TestPayer();
        await _gate.FundAsync(payer);
        var challenge = await ChallengeAsync(tamper == "cheaper-tool" ? "get-content" : "put-content");
        var json = ChallengeJson(challenge);
        if (tamper == "amount")
            json["request"]!["amount"] = "1";
        if (tamper == "expires")
            json["expires"] = MppChallengerTime(DateTimeOffset.UtcNow.AddHours(1));

        var answer = await SendAsync(WithCredential(ToolCall("put-content", new { key = "k", value = "v" }), Credential(payer, challenge, json)));

        // A challenge of the $0.001 tool does not pay the $0.01 one: the binding says so, in mppx's words "insufficient".
        ErrorOf(answer, -32043, tamper == "cheaper-tool" ? "payment-insufficient" : "invalid-challenge");
        Assert.Empty(_mcp.ToolCalls("put-content"));
        Assert.Empty(await _gate.PaymentsAsync());
        Assert.Equal("1000000", await _gate.BalanceAsync(payer.Lower));
    }

    static string MppChallengerTime(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public async Task Malformed_credential_is_invalid_params_and_two_payments_are_a_bad_request()
    {
        var payer = new TestPayer();
        await _gate.FundAsync(payer);
        var challenge = await ChallengeAsync("put-content");
        // The header form's base64url request where mppx's object belongs.
        var json = ChallengeJson(challenge);
        json["request"] = challenge.Request;
        var malformed = await SendAsync(WithCredential(ToolCall("put-content", new { key = "k", value = "v" }), Credential(payer, challenge, json)));
        ErrorOf(malformed, -32602, "malformed-credential");

        var both = WithCredential(ToolCall("put-content", new { key = "k", value = "v" }), Credential(payer, challenge));
        both["params"]!["_meta"]!["x402/payment"] = new JsonObject { ["x402Version"] = 2 };
        var error = ErrorOf(await SendAsync(both), -32043, "bad-request");
        Assert.Equal(400, error["data"]!["httpStatus"]!.GetValue<int>());

        Assert.Empty(_mcp.ToolCalls("put-content"));
        Assert.Empty(await _gate.PaymentsAsync());
    }

    [Fact]
    public async Task Tool_error_is_delivered_without_settlement_or_receipt()
    {
        var payer = new TestPayer();
        await _gate.FundAsync(payer);
        var challenge = await ChallengeAsync("fail-tool");

        var answer = await SendAsync(WithCredential(ToolCall("fail-tool"), Credential(payer, challenge)));

        Assert.True(answer["result"]!["isError"]!.GetValue<bool>());
        Assert.Equal("boom", answer["result"]!["content"]![0]!["text"]!.GetValue<string>());
        Assert.Null(answer["result"]!["_meta"]);
        Assert.Single(_mcp.ToolCalls("fail-tool"), c => c.PayerContext is not null);
        Assert.Equal("1000000", await _gate.BalanceAsync(payer.Lower));
        Assert.DoesNotContain(await _gate.PaymentsAsync(), p => p.Status == "served");
    }

    [Fact]
    public async Task An_x402_client_keeps_its_flow_and_the_result_also_carries_the_mpp_challenge_for_mppx_McpClient()
    {
        var payer = new TestPayer();
        await _gate.FundAsync(payer);

        // Without Accept-Payment: x402's payment-required tool result, with MPP's challenge in its _meta.
        var unpaid = await SendAsync(ToolCall("get-content", new { key = "k" }), acceptPayment: false);
        var result = unpaid["result"]!;
        Assert.True(result["isError"]!.GetValue<bool>());
        var required = result["structuredContent"]!.Deserialize(X402JsonContext.Strict.PaymentRequired)!;
        Assert.Equal("1000", Assert.Single(required.Accepts).Amount);
        var challenge = ChallengeOf(result["_meta"]!["org.paymentauth/payment-required"]!);

        // x402 pays as before and gets its settlement, no MPP receipt.
        var paid = await SendAsync(ToolCall("get-content", new { key = "k" }, Payment(payer, required.Accepts.Single(), required.Resource)), acceptPayment: false);
        Assert.True(paid["result"]!["_meta"]!["x402/payment-response"]!["success"]!.GetValue<bool>());
        Assert.Null(paid["result"]!["_meta"]!["org.paymentauth/receipt"]);

        // mppx's McpClient pays from the result's challenge with no header at all.
        var mpp = await SendAsync(WithCredential(ToolCall("get-content", new { key = "k" }), Credential(payer, challenge)), acceptPayment: false);
        Assert.NotNull(mpp["result"]!["_meta"]!["org.paymentauth/receipt"]);

        Assert.Equal(2, _mcp.ToolCalls("get-content").Count(c => c.PayerContext is not null));
        Assert.Equal("998000", await _gate.BalanceAsync(payer.Lower));
    }
}
