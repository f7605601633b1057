using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using PaymentGate.Tests.Facilitator;
using PaymentGate.Tests.Paywall;
using PaymentGate.Tests.Sessions;
using Sessions.PaymentGate.Sessions;
using Sessions.Payments.X402;
using Sessions.Testing;

namespace PaymentGate.Tests.Proxy;

// Credentials meant for the gate (payments, session tokens, mandate approvals, a client's payer context) never reach an
// upstream, on any route; a vault access token, meant for VaultApi, does.
public sealed class CredentialForwardingTests(InfrastructureFixture infrastructure)
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    const string ForgedPayerContext = "forged.payer.context";
    const string VaultBearer = "Bearer vat_for-vaultapi";
    const string VaultTokenHeader = "Vault-Access-Token";

    /// <summary>Every service at once (mcpserver, sessionapi, vaultapi as YARP sees them): records each request's headers.</summary>
    sealed class HeaderRecorder : LoopbackServer
    {
        public ConcurrentQueue<(string Path, Dictionary<string, string> Headers)> Calls { get; } = new();

        public static async Task<HeaderRecorder> StartAsync()
        {
            var recorder = new HeaderRecorder();
            await recorder.ListenAsync(app => app.Run(async context =>
            {
                recorder.Calls.Enqueue((context.Request.Path.Value!,
                    context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase)));
                await Results.Json(new { jsonrpc = "2.0", id = 1, result = new { } }).ExecuteAsync(context);
            }));
            return recorder;
        }

        public Dictionary<string, string> Single(string path) => Assert.Single(Calls, c => c.Path == path).Headers;
    }

    static HttpRequestMessage Request(HttpMethod method, string path, params (string Name, string Value)[] headers)
    {
        var request = new HttpRequestMessage(method, path);
        foreach (var (name, value) in headers)
            request.Headers.TryAddWithoutValidation(name, value);
        return request;
    }

    /// <summary>A PAYMENT-SIGNATURE for the GET route's offer, signed by <paramref name="payer"/>.</summary>
    static async Task<string> PayAsync(SessionGateHarness gate, TestPayer payer, string path)
    {
        using var offer = await gate.WithTokenAsync(HttpMethod.Get, path, token: null);
        Assert.Equal(HttpStatusCode.PaymentRequired, offer.StatusCode);
        var v2 = X402HeaderCodec.Decode(offer.Headers.GetValues(X402HeaderCodec.PaymentRequiredHeader).Single(), X402JsonContext.Strict.PaymentRequired).Value!;
        var accepted = v2.Accepts.Single();
        return PaywallHarness.V2Header(accepted, payer.Sign(value: System.Numerics.BigInteger.Parse(accepted.Amount)), v2.Resource.Url);
    }

    static void AssertNoGateCredential(Dictionary<string, string> received)
    {
        foreach (var name in new[] { SessionSpending.TokenHeader, X402HeaderCodec.PaymentSignatureHeader, X402HeaderCodec.PaymentHeaderV1,
                     MandateGuard.ApprovalHeader })
            Assert.False(received.ContainsKey(name), $"{name} reached the upstream: {received.GetValueOrDefault(name)}");
        Assert.DoesNotContain("Payment ", received.GetValueOrDefault("Authorization") ?? "");
        Assert.NotEqual(ForgedPayerContext, received.GetValueOrDefault("X-Payer-Context"));
    }

    [Fact]
    public async Task No_route_forwards_a_credential_meant_for_the_gate_and_vault_access_tokens_still_reach_vaultapi()
    {
        await using var recorder = await HeaderRecorder.StartAsync();
        await using var gate = await SessionGateHarness.StartAsync(infrastructure, new()
        {
            // YARP forwards to the recorder; the gate's own SessionApi/VaultApi clients still reach the in-process services.
            ["services:mcpserver:http:0"] = recorder.Url,
            ["services:sessionapi:http:0"] = recorder.Url,
            ["services:vaultapi:http:0"] = recorder.Url,
        });
        var payer = await gate.FundedPayerAsync();
        var (id, token, _) = await gate.OpenAsync(payer, 100_000);
        (string, string)[] gateOnly =
        [
            (SessionSpending.TokenHeader, token), (MandateGuard.ApprovalHeader, "apr_x"), ("X-Payer-Context", ForgedPayerContext),
            ("Authorization", "Payment eyJub3QiOiJhIGNyZWRlbnRpYWwifQ"),
        ];

        // A free route without organisation, and a built-in free route of SessionApi.
        using (var ping = await gate.Http.SendAsync(Request(HttpMethod.Get, "/api/ping", gateOnly), Ct))
            Assert.Equal(HttpStatusCode.OK, ping.StatusCode);
        using (var history = await gate.Http.SendAsync(Request(HttpMethod.Get, $"/api/sessions/{id}/history", gateOnly), Ct))
            Assert.Equal(HttpStatusCode.OK, history.StatusCode);
        // Payment headers alone (one per request: two would be ambiguous) on the free route.
        using (var x402 = await gate.Http.SendAsync(Request(HttpMethod.Get, "/api/ping?v=2", (X402HeaderCodec.PaymentSignatureHeader, "e30=")), Ct))
            Assert.Equal(HttpStatusCode.OK, x402.StatusCode);
        // An organisation's free route (identified by the token) with both forms of vault access token beside it.
        using (var vault = await gate.Http.SendAsync(Request(HttpMethod.Get, "/api/vaults/current",
                   [.. gateOnly.Where(h => h.Item1 != "Authorization"), ("Authorization", VaultBearer), (VaultTokenHeader, "vat_other")]), Ct))
            Assert.Equal(HttpStatusCode.OK, vault.StatusCode);
        // A priced route paid by the session, and one paid with x402.
        using (var debit = await gate.Http.SendAsync(Request(HttpMethod.Get, "/api/content/notes/a", (SessionSpending.TokenHeader, token),
                   ("X-Payer-Context", ForgedPayerContext)), Ct))
            Assert.Equal(HttpStatusCode.OK, debit.StatusCode);
        var payment = await PayAsync(gate, payer, "/api/content/notes/b");
        using (var paid = await gate.Http.SendAsync(Request(HttpMethod.Get, "/api/content/notes/b", (X402HeaderCodec.PaymentSignatureHeader, payment),
                   (SessionSpending.TokenHeader, token), ("X-Payer-Context", ForgedPayerContext)), Ct))
            Assert.Equal(HttpStatusCode.OK, paid.StatusCode);
        // MCP: a free message with the token (identified) and the other credentials.
        var mcp = Request(HttpMethod.Post, "/mcp", gateOnly);
        mcp.Content = new StringContent("""{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}""", System.Text.Encoding.UTF8, "application/json");
        mcp.Headers.TryAddWithoutValidation("Accept", "application/json, text/event-stream");
        using (var initialize = await gate.Http.SendAsync(mcp, Ct))
            Assert.Equal(HttpStatusCode.OK, initialize.StatusCode);

        Assert.Equal(7, recorder.Calls.Count);
        foreach (var (path, received) in recorder.Calls)
            AssertNoGateCredential(received);
        var vaultCall = recorder.Single("/api/vaults/current");
        Assert.Equal(VaultBearer, vaultCall["Authorization"]);
        Assert.Equal("vat_other", vaultCall[VaultTokenHeader]);
        // Where the gate vouches for a payer it signs its own context; elsewhere there is none.
        Assert.All(recorder.Calls.Where(c => c.Path == "/api/ping"), c => Assert.False(c.Headers.ContainsKey("X-Payer-Context")));
        Assert.True(recorder.Single("/api/content/notes/a").ContainsKey("X-Payer-Context"));
    }
}
