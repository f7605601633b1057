using System.Net;
using Npgsql;
using Sessions.PaymentGate.Sessions;
using static PaymentGate.Tests.Sessions.SessionGateHarness;

namespace PaymentGate.Tests.Sessions;

// Session debits of a mandated agent at the gate: the hold first (a request the balance cannot cover charges no mandate),
// then the charge against the mandate (a refusal is SessionApi's problem: nothing forwarded, nothing debited), released with
// the hold when the upstream fails. The limit arithmetic itself is SessionApi's (tests/SessionApi.Tests MandateLimitTests).
public sealed partial class MandateGateTests
{
    [Fact]
    public async Task Session_debits_of_a_mandated_agent_stop_at_its_limit_and_only_served_requests_count_against_it()
    {
        var limited = await _gate.FundedPayerAsync(100_000);
        var (limitedId, limitedToken, _) = await _gate.OpenAsync(limited, 10 * GetPrice);   // a deposit is not spending
        var (limitedMandate, _) = await MandateAsync(limited, perDay: 2 * GetPrice);

        using (var failed = await _gate.WithTokenAsync(HttpMethod.Get, "/api/content/fail-1", limitedToken))
            Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
        Assert.Equal("0", (await MandateJsonAsync(limitedMandate)).GetProperty("spentToday").GetString());
        for (var i = 0; i < 2; i++)
            using (var served = await _gate.WithTokenAsync(HttpMethod.Get, $"/api/content/notes/{i}", limitedToken))
                Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        using (var over = await _gate.WithTokenAsync(HttpMethod.Get, "/api/content/notes/over", limitedToken))
        {
            var problem = await RefusedAsync(over, HttpStatusCode.Forbidden, "limit-exceeded");
            Assert.Equal(("maxPerDay", limitedMandate), (problem.GetProperty("limit").GetString(), problem.GetProperty("mandateId").GetString()));
        }
        using (var get = await _gate.WithTokenAsync(HttpMethod.Get, $"/api/sessions/{limitedId}", limitedToken))
        {
            var session = await JsonAsync(get, HttpStatusCode.OK);
            Assert.Equal(("8000", 2L), (session.GetProperty("balance").GetString(), session.GetProperty("requestCount").GetInt64()));
        }
        Assert.Equal("2000", (await MandateJsonAsync(limitedMandate)).GetProperty("spentToday").GetString());

        // A balance short of the price: the 402 with what is missing, and the mandate is not charged.
        var poor = await _gate.FundedPayerAsync(100_000);
        var (poorId, poorToken, _) = await _gate.OpenAsync(poor, GetPrice + GetPrice / 2);
        var (poorMandate, _) = await MandateAsync(poor, perDay: 10 * GetPrice);
        using (var served = await _gate.WithTokenAsync(HttpMethod.Get, "/api/content/notes/poor", poorToken))
            Assert.Equal("500", Header(served, SessionSpending.BalanceHeader));
        using (var refused = await _gate.WithTokenAsync(HttpMethod.Get, "/api/content/notes/poor-again", poorToken))
        {
            var body = await JsonAsync(refused, HttpStatusCode.PaymentRequired);
            Assert.Equal(($"/api/sessions/{poorId}/topup", "500"), (body.GetProperty("topUp").GetProperty("path").GetString(),
                body.GetProperty("topUp").GetProperty("minimum").GetString()));
        }
        Assert.Equal("1000", (await MandateJsonAsync(poorMandate)).GetProperty("spentToday").GetString());
    }

    [Fact]
    public async Task A_session_credit_owed_by_a_gate_from_before_the_redis_debits_is_abandoned_for_an_operator_not_taken_for_a_release()
    {
        await using (var connection = new NpgsqlConnection(_gate.GateDatabase))
        {
            await connection.OpenAsync(Ct);
            await using var insert = new NpgsqlCommand("""
                INSERT INTO compensations (id, kind, organization, payer, session_id, key, outcome)
                VALUES ('session-credit:req_legacy', 'session-credit', 'demo', '0x1111111111111111111111111111111111111111',
                        'ses_0123456789abcdef0123456789abcdef', 'req_legacy', 'owed before the upgrade')
                """, connection);
            await insert.ExecuteNonQueryAsync(Ct);
        }

        // This pass, or the retrier's own periodic one if it ticked since the insert (then this one finds the row taken).
        Assert.InRange(await _gate.RetryCompensationsNowAsync(), 0, 1);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        var row = Assert.Single(await _gate.CompensationsAsync());
        while (row.Status == "pending" && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100, Ct);
            row = Assert.Single(await _gate.CompensationsAsync());
        }

        var (kind, _, status, outcome, _) = row;
        Assert.Equal(("session-credit", "abandoned"), (kind, status));
        Assert.Contains("no longer applies", outcome);
    }
}
