using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using PaymentGate.Tests.Facilitator;
using Sessions.Payments.X402;
using Sessions.ServiceDefaults.Payers;
using Sessions.Testing;

namespace PaymentGate.Tests.Paywall;

// The paywall end to end with the gate's real local facilitator: 402 in both generations, v2 and v1 payments settled on the
// ledger, the payer context forwarded, free routes untouched, upstream failures not charged.
public sealed class PaywallFlowTests(InfrastructureFixture infrastructure) : IAsyncLifetime
{
    PaywallHarness _gate = null!;
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _gate = await PaywallHarness.StartAsync(infrastructure);

    public ValueTask DisposeAsync() => _gate.DisposeAsync();

    [Fact]
    public async Task Unpaid_request_gets_402_in_both_generations_and_the_upstream_is_not_called()
    {
        using var response = await _gate.SendAsync(HttpMethod.Get, "/api/content/notes/a?x=1", null);

        Assert.Equal(HttpStatusCode.PaymentRequired, response.StatusCode);
        var v2 = X402HeaderCodec.Decode(response.Headers.GetValues("PAYMENT-REQUIRED").Single(), X402JsonContext.Strict.PaymentRequired).Value!;
        Assert.Equal(2, v2.X402Version);
        Assert.Equal("http://localhost/api/content/notes/a?x=1", v2.Resource.Url);
        Assert.Equal("application/json", v2.Resource.MimeType);
        Assert.False(string.IsNullOrEmpty(v2.Resource.Description));
        var accepted = Assert.Single(v2.Accepts);
        Assert.Equal(("exact", "eip155:84532", "1000", "0x036CbD53842c5426634e7929541eC2318f3dCF7e", "0x209693Bc6afc0C5328bA36FaF03C514EF312287C"),
            (accepted.Scheme, accepted.Network, accepted.Amount, accepted.Asset, accepted.PayTo));
        Assert.Equal("""{"name":"USDC","version":"2"}""", accepted.Extra!.Value.GetRawText());

        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
        Assert.Equal(1, body.RootElement.GetProperty("x402Version").GetInt32());
        Assert.False(string.IsNullOrEmpty(body.RootElement.GetProperty("error").GetString()));
        var v1 = body.RootElement.GetProperty("accepts").EnumerateArray().Single();
        Assert.Equal("base-sepolia", v1.GetProperty("network").GetString());
        Assert.Equal("1000", v1.GetProperty("maxAmountRequired").GetString());
        Assert.Equal("http://localhost/api/content/notes/a?x=1", v1.GetProperty("resource").GetString());
        Assert.Equal("application/json", v1.GetProperty("mimeType").GetString());
        Assert.Equal(300, v1.GetProperty("maxTimeoutSeconds").GetInt32());
        Assert.Equal("USDC", v1.GetProperty("extra").GetProperty("name").GetString());
        foreach (var member in new[] { "scheme", "asset", "payTo", "description" })
            Assert.True(v1.TryGetProperty(member, out _), member);

        Assert.Empty(_gate.Upstream.Calls);
        Assert.Empty(await _gate.PaymentsAsync());
    }

    [Fact]
    public async Task V2_payment_is_verified_forwarded_with_a_payer_context_settled_and_answered_with_the_settlement()
    {
        var payer = new TestPayer();
        await _gate.FundAsync(payer);
        var header = await _gate.PayV2Async(payer, HttpMethod.Put, "/api/content/notes/a");

        using var response = await _gate.SendAsync(HttpMethod.Put, "/api/content/notes/a", header, content: JsonContent.Create(new { value = "hello" }));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var settlement = PaywallHarness.SettlementOf(response);
        Assert.True(settlement.Success);
        Assert.False(string.IsNullOrEmpty(settlement.Transaction));
        Assert.Equal(settlement, PaywallHarness.SettlementOf(response, "X-PAYMENT-RESPONSE"));

        // The upstream got the body and a payer context the gate signed, and no payment header.
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal("notes/a", body.GetProperty("key").GetString());
        var signer = _gate.Factory.Services.GetRequiredService<PayerContextSigner>();
        Assert.True(signer.TryVerify(body.GetProperty("payerContext").GetString(), out var context, out var error), error);
        Assert.Equal(payer.Lower, context!.Payer);
        Assert.Equal("demo", context.Organization);
        Assert.Matches("^pay_[0-9a-f]{32}$", context.PaymentId);
        Assert.False(string.IsNullOrEmpty(context.RequestId));

        var row = Assert.Single(await _gate.PaymentsAsync());
        Assert.Equal((context.PaymentId, "served", payer.Lower, "10000", settlement.Transaction), (row.Id, row.Status, row.Payer, row.Amount, row.Transaction));
        Assert.Equal("990000", await _gate.BalanceAsync(payer.Lower));
        Assert.Equal("10000", await _gate.BalanceAsync(TestPayer.PayTo.ToLowerInvariant()));
    }

    [Fact]
    public async Task V1_payment_in_X_PAYMENT_is_settled_and_answered_with_X_PAYMENT_RESPONSE()
    {
        var payer = new TestPayer();
        await _gate.FundAsync(payer);
        var (_, offer) = await _gate.OfferAsync(HttpMethod.Get, "/api/content/notes/b");
        Assert.Equal("base-sepolia", offer.Accepts.Single().Network);

        using var response = await _gate.SendAsync(HttpMethod.Get, "/api/content/notes/b", PaywallHarness.V1Header(payer.Sign(value: 1000)), "X-PAYMENT");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var settlement = PaywallHarness.SettlementOf(response, "X-PAYMENT-RESPONSE");
        Assert.True(settlement.Success);
        Assert.Equal("999000", await _gate.BalanceAsync(payer.Lower));
        Assert.Equal("served", Assert.Single(await _gate.PaymentsAsync()).Status);
    }

    [Fact]
    public async Task Free_route_needs_no_payment_and_a_client_payer_context_is_stripped()
    {
        var forged = _gate.Factory.Services.GetRequiredService<PayerContextSigner>().Sign(new PayerContext
        {
            Payer = "0x0000000000000000000000000000000000000001", Organization = "demo", ExpiresAt = DateTimeOffset.UtcNow.AddMinutes(1).ToUnixTimeSeconds(),
        });
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/ping");
        request.Headers.Add(PayerContextSigner.HeaderName, forged);

        using var response = await _gate.Http.SendAsync(request, Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True((await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("pong").GetBoolean());
        var call = Assert.Single(_gate.Upstream.Calls);
        Assert.Null(call.PayerContext);
    }

    [Fact]
    public async Task Paid_request_replaces_a_forged_payer_context_with_the_gates_own()
    {
        var payer = new TestPayer();
        await _gate.FundAsync(payer);
        var header = await _gate.PayV2Async(payer, HttpMethod.Get, "/api/content/k");
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/content/k");
        request.Headers.Add("PAYMENT-SIGNATURE", header);
        request.Headers.Add(PayerContextSigner.HeaderName, "v1.forged.forged");

        using var response = await _gate.Http.SendAsync(request, Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var forwarded = Assert.Single(_gate.Upstream.Calls).PayerContext;
        Assert.True(_gate.Factory.Services.GetRequiredService<PayerContextSigner>().TryVerify(forwarded, out var context, out _));
        Assert.Equal(payer.Lower, context!.Payer);
    }

    [Theory]
    [InlineData("/api/content/fail-1", HttpStatusCode.InternalServerError)]
    [InlineData("/api/content/missing-1", HttpStatusCode.NotFound)]
    public async Task Upstream_error_is_passed_through_without_settling_and_the_payment_may_be_presented_again(string path, HttpStatusCode status)
    {
        var payer = new TestPayer();
        await _gate.FundAsync(payer);
        var header = await _gate.PayV2Async(payer, HttpMethod.Get, path);

        using var first = await _gate.SendAsync(HttpMethod.Get, path, header);
        using var second = await _gate.SendAsync(HttpMethod.Get, path, header);

        Assert.Equal(status, first.StatusCode);
        Assert.False(first.Headers.Contains("PAYMENT-RESPONSE"));
        Assert.Equal(status, second.StatusCode);
        Assert.Equal(2, _gate.Upstream.CallsTo(path));
        Assert.Equal("1000000", await _gate.BalanceAsync(payer.Lower));
        Assert.Equal("released", Assert.Single(await _gate.PaymentsAsync()).Status);
    }

    [Fact]
    public async Task Pricing_lists_organisations_and_routes_in_atomic_units_and_dollars()
    {
        var pricing = await _gate.Http.GetFromJsonAsync<JsonElement>("/api/pricing", Ct);

        var demo = pricing.GetProperty("organizations").EnumerateArray().Single();
        Assert.Equal("demo", demo.GetProperty("id").GetString());
        Assert.Equal("0x209693Bc6afc0C5328bA36FaF03C514EF312287C", demo.GetProperty("payTo").GetString());
        var routes = pricing.GetProperty("routes").EnumerateArray().ToList();
        var put = routes.Single(r => r.GetProperty("method").GetString() == "PUT");
        Assert.Equal(("/api/content/{**key}", "10000", "$0.01", "eip155:84532", "0x036CbD53842c5426634e7929541eC2318f3dCF7e"),
            (put.GetProperty("path").GetString(), put.GetProperty("amount").GetString(), put.GetProperty("price").GetString(),
             put.GetProperty("network").GetString(), put.GetProperty("asset").GetString()));
        var get = routes.Single(r => r.GetProperty("method").GetString() == "GET" && r.GetProperty("path").GetString() == "/api/content/{**key}");
        Assert.Equal(("1000", "$0.001"), (get.GetProperty("amount").GetString(), get.GetProperty("price").GetString()));
        var ping = routes.Single(r => r.GetProperty("path").GetString() == "/api/ping");
        Assert.False(ping.GetProperty("paid").GetBoolean());
        Assert.Contains(routes, r => r.GetProperty("path").GetString() == "/mcp");
    }
}
