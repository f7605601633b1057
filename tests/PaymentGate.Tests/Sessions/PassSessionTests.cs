using System.Net;
using PaymentGate.Tests.Facilitator;
using Sessions.PaymentGate.Sessions;
using Sessions.Payments.Receipts;
using Sessions.Testing;
using static PaymentGate.Tests.Sessions.SessionGateHarness;

namespace PaymentGate.Tests.Sessions;

// Passes (Prudra): the organisation sells one for a configured price and lifetime; its requests cost nothing more until it
// expires. Also: a top-up is checked against the payer's own session before any money moves.
public sealed class PassSessionTests(InfrastructureFixture infrastructure) : IAsyncLifetime
{
    SessionGateHarness _gate = null!;

    public async ValueTask InitializeAsync() => _gate = await SessionGateHarness.StartAsync(infrastructure, new()
    {
        ["Gate:Organizations:demo:Pass:Price"] = "$0.005",
        ["Gate:Organizations:demo:Pass:TtlSeconds"] = "3600",
    });

    public ValueTask DisposeAsync() => _gate.DisposeAsync();

    [Fact]
    public async Task One_payment_opens_a_pass_whose_requests_cost_nothing_until_it_expires()
    {
        var payer = await _gate.FundedPayerAsync();
        var (id, token, pass) = await _gate.OpenAsync(payer, 0, kind: "pass", expectedAmount: "5000");
        Assert.Equal(("pass", "0", "5000"), (pass.GetProperty("kind").GetString(), pass.GetProperty("balance").GetString(), pass.GetProperty("deposit").GetString()));
        var lifetime = pass.GetProperty("expiresAt").GetDateTimeOffset() - pass.GetProperty("createdAt").GetDateTimeOffset();
        Assert.Equal(TimeSpan.FromHours(1), lifetime);

        for (var i = 0; i < 20; i++)
        {
            using var response = await _gate.WithTokenAsync(HttpMethod.Get, $"/api/content/p{i}", token);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("0", Header(response, SessionSpending.BalanceHeader));
            // Its signed receipt says what this request cost: nothing (issue 19).
            var receipt = Receipt.TryParse(Jws.PayloadOf(Header(response, "Sessions-Receipt")!))!;
            Assert.Equal(("session", id, "0"), (receipt.Method, receipt.SessionId, receipt.Amount));
        }
        Assert.Equal(995_000, await _gate.BalanceAsync(payer.Lower));
        using (var get = await _gate.WithTokenAsync(HttpMethod.Get, $"/api/sessions/{id}", token))
            Assert.Equal(20, (await JsonAsync(get, HttpStatusCode.OK)).GetProperty("requestCount").GetInt64());

        _gate.Clock.Advance(TimeSpan.FromHours(1) + TimeSpan.FromSeconds(1));
        using var expired = await _gate.WithTokenAsync(HttpMethod.Get, "/api/content/late", token);
        Assert.Equal(HttpStatusCode.PaymentRequired, expired.StatusCode);
        Assert.Equal(20, _gate.Upstream.Calls.Count);
    }

    [Fact]
    public async Task Top_up_of_someone_elses_session_is_refused_before_any_charge()
    {
        var owner = await _gate.FundedPayerAsync();
        var (id, _, _) = await _gate.OpenAsync(owner, 10_000);
        var stranger = await _gate.FundedPayerAsync();

        var payment = await _gate.PayAsync(stranger, $"/api/sessions/{id}/topup", new { amount = "5000" }, "5000");
        using var response = await _gate.PostJsonAsync($"/api/sessions/{id}/topup", new { amount = "5000" }, payment);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(1_000_000, await _gate.BalanceAsync(stranger.Lower));
    }
}
