using Sessions.SessionApi.Mandates;
using Sessions.SessionApi.Sessions;
using Sessions.SessionApi.Webhooks;
using Sessions.Testing;
using Sessions.Testing.Fuzz;
using SessionApi.Tests.Sessions;

namespace SessionApi.Tests.Fuzz;

// Issue 13 fuzzing: SessionApi's JSON bodies, 10,000 seeded cases per decoder through binding and the problem it becomes,
// and a sample over HTTP to the public endpoints (mandates, approvals): never a 5xx or an internal name, every error coded,
// no row written in sessionsdb.
public sealed class PublicBodyFuzzTests(InfrastructureFixture infrastructure) : IAsyncLifetime
{
    const int HttpSample = 250;
    SessionHarness _api = null!;

    public async ValueTask InitializeAsync() => _api = await SessionHarness.StartAsync(infrastructure);

    public ValueTask DisposeAsync() => _api.DisposeAsync();

    const string User = "0x1111111111111111111111111111111111111111", Agent = "0x2222222222222222222222222222222222222222";
    const string Signature = "0x" + "ab0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000001b";

    static readonly string[] Mandates =
    [
        $$$"""{"terms":{"user":"{{{User}}}","agent":"{{{Agent}}}","maxPerTransaction":"1000","maxPerDay":"5000","allowedMerchants":["demo"],"expiresAt":4102444800,"nonce":"n1"},"signature":"{{{Signature}}}","agentSignature":"{{{Signature}}}","metadata":{"agent":"fuzz"}}""",
        $$$"""{"terms":{"user":"{{{User}}}","agent":"{{{Agent}}}","requireApprovalAbove":"10","nonce":"n2"},"signature":"{{{Signature}}}","agentSignature":"{{{Signature}}}"}""",
    ];

    static readonly string[] SignedActions = [$$$"""{"timestamp":1767225600,"signature":"{{{Signature}}}"}"""];

    [Fact]
    public async Task Create_mandate_bodies() =>
        await FuzzAsync<CreateMandateRequest>("/api/mandates", Mandates, 13_0101);

    [Theory]
    [InlineData("/api/mandates/mnd_fuzz/revoke", 13_0102)]
    [InlineData("/api/approvals/apr_fuzz/approve", 13_0103)]
    [InlineData("/api/approvals/apr_fuzz/deny", 13_0104)]
    public async Task Signed_action_bodies(string path, int seed) => await FuzzAsync<SignedActionRequest>(path, SignedActions, seed);

    // Reached by the gate (payer context) and the operator (admin key) only: their decoders are fuzzed without HTTP.
    [Fact]
    public async Task Gate_and_admin_decoders()
    {
        await JsonBodyDecoderFuzz.RunAsync<OpenSessionRequest>(_api.Services,
            ["""{"organization":"demo","payer":"0x1111111111111111111111111111111111111111","kind":"prepaid","deposit":"1000","paymentId":"pay_1","ttlSeconds":600}"""], 13_0105);
        await JsonBodyDecoderFuzz.RunAsync<FoldDebitsRequest>(_api.Services,
            ["""{"debits":[{"sessionId":"ses_0123456789abcdef0123456789abcdef","key":"k","amount":"1000","route":"GET /api/x","at":1767225600000}]}"""], 13_0106);
        await JsonBodyDecoderFuzz.RunAsync<ChargeRequest>(_api.Services, ["""{"amount":"1000","idempotencyKey":"k","approvalId":"apr_1"}"""], 13_0107);
        await JsonBodyDecoderFuzz.RunAsync<RegisterWebhookRequest>(_api.Services,
            ["""{"url":"https://example.com/hook","events":["session.opened"],"organization":"demo"}"""], 13_0108);
        await JsonBodyDecoderFuzz.RunAsync<ExternalEventRequest>(_api.Services, ["""{"key":"k1","event":"vault.sealed","data":{"vaultId":"v"}}"""], 13_0109);
    }

    async Task FuzzAsync<TBody>(string path, string[] valid, int seed)
    {
        var bound = await JsonBodyDecoderFuzz.RunAsync<TBody>(_api.Services, valid, seed);
        Assert.InRange(bound, 500, 9_500);

        var rows = await JsonFuzzOracle.RowsAsync(_api.ConnectionString);
        await JsonBodyHttpFuzz.RunAsync(_api.Client, HttpMethod.Post, path, valid, seed + 100, HttpSample);
        Assert.Equal(rows, await JsonFuzzOracle.RowsAsync(_api.ConnectionString));
    }
}
