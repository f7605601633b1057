using System.Net;
using System.Text.Json;
using Sessions.Payments.X402;
using Sessions.Testing;
using static PaymentGate.Tests.Sessions.SessionGateHarness;

namespace PaymentGate.Tests.Sessions;

// Issue 18: a 402 says whether (and which) sessions its route's organisation sells, in an x402 v2 extension and a Link
// header, so that a client opts in only where it can; the session's own 402 (top-up hint) stays as it was.
public sealed class SessionAdvertisementTests(InfrastructureFixture infrastructure) : IAsyncLifetime
{
    SessionGateHarness _gate = null!;
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _gate = await SessionGateHarness.StartAsync(infrastructure, new()
    {
        ["Gate:Organizations:demo:Pass:Price"] = "$0.005",
        ["Gate:Organizations:demo:Pass:TtlSeconds"] = "3600",
        ["Gate:Sessions:MinimumDeposit"] = "2000",
        ["Gate:Sessions:MaximumDeposit"] = "500000",
        ["Gate:Organizations:plain:PayTo"] = "0x857b06519E91e3A54538791bDbb0E22373e36b66",
        ["Gate:Organizations:plain:PrepaidSessions"] = "false",
        ["Gate:Routes:20:Organization"] = "plain",
        ["Gate:Routes:20:Method"] = "GET",
        ["Gate:Routes:20:Path"] = "/api/plain/{**key}",
        ["Gate:Routes:20:Price"] = "$0.002",
    });

    public ValueTask DisposeAsync() => _gate.DisposeAsync();

    static PaymentRequired Offer(HttpResponseMessage response) =>
        X402HeaderCodec.Decode(response.Headers.GetValues(X402HeaderCodec.PaymentRequiredHeader).Single(), X402JsonContext.Strict.PaymentRequired).Value!;

    [Fact]
    public async Task A_route_of_an_organisation_selling_sessions_advertises_prepaid_and_pass_as_configured()
    {
        using var response = await _gate.Http.GetAsync("/api/content/notes/a", Ct);

        Assert.Equal(HttpStatusCode.PaymentRequired, response.StatusCode);
        var info = Offer(response).Extensions!.Value.GetProperty("sessions").GetProperty("info");
        Assert.Equal("""
            {"organization":"demo","open":"/api/sessions","topUp":"/api/sessions/{id}/topup","close":"/api/sessions/{id}/close","token":"Payment-Session","kinds":{"prepaid":{"minimumDeposit":"2000","maximumDeposit":"500000"},"pass":{"price":"5000","ttlSeconds":3600}}}
            """, info.GetRawText());
        Assert.Equal("</api/sessions>; rel=\"payment-session\"", Header(response, "Link"));
        // The offer itself is unchanged: v2 clients match `accepted` against exactly this.
        Assert.Equal("1000", Offer(response).Accepts.Single().Amount);
    }

    [Fact]
    public async Task A_route_of_an_organisation_selling_none_advertises_nothing_and_sells_no_prepaid_session()
    {
        using var response = await _gate.Http.GetAsync("/api/plain/a", Ct);

        Assert.Equal(HttpStatusCode.PaymentRequired, response.StatusCode);
        Assert.Equal("2000", Offer(response).Accepts.Single().Amount);
        Assert.Null(Offer(response).Extensions);
        Assert.Null(Header(response, "Link"));
        using var open = await _gate.PostJsonAsync("/api/sessions", new { deposit = "5000", organization = "plain" });
        var problem = await JsonAsync(open, HttpStatusCode.BadRequest);
        Assert.Contains("sells no prepaid sessions", problem.GetProperty("errors").GetProperty("kind")[0].GetString());
    }

    [Fact]
    public async Task A_sessions_own_402_with_the_top_up_hint_carries_no_advertisement()
    {
        var payer = await _gate.FundedPayerAsync();
        var open = new { deposit = "2000", organization = "demo" };   // two organisations: the body names one
        using var opened = await _gate.PostJsonAsync("/api/sessions", open, await _gate.PayAsync(payer, "/api/sessions", open, "2000"));
        await JsonAsync(opened, HttpStatusCode.Created);
        var token = Header(opened, "Payment-Session");
        for (var i = 0; i < 2; i++)
            (await _gate.WithTokenAsync(HttpMethod.Get, $"/api/content/s{i}", token)).Dispose();

        using var response = await _gate.WithTokenAsync(HttpMethod.Get, "/api/content/s2", token);

        Assert.Equal(HttpStatusCode.PaymentRequired, response.StatusCode);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement;
        Assert.Equal("1000", body.GetProperty("topUp").GetProperty("minimum").GetString());
        Assert.Null(Offer(response).Extensions);
        Assert.Null(Header(response, "Link"));
    }
}
