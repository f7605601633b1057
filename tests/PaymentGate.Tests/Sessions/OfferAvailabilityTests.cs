using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Sessions.PaymentGate.Sessions;
using Sessions.Testing;
using static PaymentGate.Tests.Sessions.SessionGateHarness;

namespace PaymentGate.Tests.Sessions;

// Issue 20's session-level term: while the availability over the session's last 4 requests is under 90%, each answer is
// credited 20% of its price (failed answers are never charged); once the window is clean again, the full price applies.
public sealed class OfferAvailabilityTests(InfrastructureFixture infrastructure) : IAsyncLifetime
{
    SessionGateHarness _gate = null!;
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _gate = await SessionGateHarness.StartAsync(infrastructure, new()
    {
        ["Gate:Organizations:demo:Offers:AvailabilityBasisPoints"] = "9000",
        ["Gate:Organizations:demo:Offers:AvailabilityWindow"] = "4",
        ["Gate:Organizations:demo:Offers:AvailabilityCreditPercent"] = "20",
    });

    public ValueTask DisposeAsync() => _gate.DisposeAsync();

    [Fact]
    public async Task Answers_while_the_windows_availability_is_under_the_bound_are_credited_once_each()
    {
        var payer = await _gate.FundedPayerAsync();
        using var offered = await _gate.Http.PostAsJsonAsync("/api/offers", new { expectedRequests = 10, routes = new[] { "GET /api/content/{**key}" } }, Ct);
        var answer = await JsonAsync(offered, HttpStatusCode.Created);
        Assert.Equal((9000L, 4, 20), (answer.GetProperty("offer").GetProperty("sla").GetProperty("availabilityBasisPoints").GetInt64(),
            answer.GetProperty("offer").GetProperty("sla").GetProperty("availabilityWindow").GetInt32(),
            answer.GetProperty("offer").GetProperty("sla").GetProperty("availabilityCreditPercent").GetInt32()));
        var body = new { offer = answer.GetProperty("jws").GetString() };
        using var opened = await _gate.PostJsonAsync("/api/sessions", body, await _gate.PayAsync(payer, "/api/sessions", body, "10000"));
        var session = await JsonAsync(opened, HttpStatusCode.Created);
        var (id, token) = (session.GetProperty("id").GetString()!, session.GetProperty("token").GetString()!);

        // Window before each: [], [1], [1 0], [1 0 1], [1 0 1 1], [0 1 1 1], [1 1 1 1].
        var balances = new List<string?>();
        foreach (var key in new[] { "ok-1", "fail-1", "ok-2", "ok-3", "ok-4", "ok-5", "ok-6" })
        {
            using var response = await _gate.WithTokenAsync(HttpMethod.Get, $"/api/content/{key}", token);
            balances.Add(Header(response, SessionSpending.BalanceHeader));
        }
        Assert.Equal(["9000", "9000", "8200", "7400", "6600", "5800", "4800"], balances);

        using var get = await _gate.WithTokenAsync(HttpMethod.Get, $"/api/sessions/{id}", token);
        var sla = (await JsonAsync(get, HttpStatusCode.OK)).GetProperty("sla");
        Assert.Equal((6L, 1L, 4L, 4L, "800"), (sla.GetProperty("served").GetInt64(), sla.GetProperty("failed").GetInt64(),
            sla.GetProperty("credits").GetInt64(), sla.GetProperty("availabilityCredits").GetInt64(), sla.GetProperty("credited").GetString()));
        Assert.Equal(8571L, sla.GetProperty("availabilityBasisPoints").GetInt64());
    }
}
