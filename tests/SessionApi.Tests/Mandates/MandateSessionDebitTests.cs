using System.Net;
using Sessions.Testing;
using SessionApi.Tests.Sessions;

namespace SessionApi.Tests.Mandates;

// Session debits by a mandated agent are charged against its mandate in the debit's transaction.
public sealed class MandateSessionDebitTests(InfrastructureFixture infrastructure) : MandateTestBase(infrastructure)
{
    [Fact]
    public async Task A_debit_over_a_mandate_limit_is_refused_and_writes_nothing()
    {
        var mandate = await _mandates.MandateAsync(_user, _agent, new Limits(PerDay: 2500));
        var session = await _api.OpenAsync("100000", payer: _agent.Lower);   // a refundable deposit is not spending
        var id = session.Str("id");

        for (var i = 0; i < 2; i++)
            using (var ok = await _api.DebitAsync(id, "1000", key: $"req_{i}", payer: _agent.Lower))
                await SessionHarness.JsonAsync(ok, HttpStatusCode.OK);
        using (var over = await _api.DebitAsync(id, "1000", key: "req_over", payer: _agent.Lower))
        {
            var problem = await MandateHarness.ProblemAsync(over, HttpStatusCode.Forbidden, "limit-exceeded");
            Assert.Equal("maxPerDay", problem.Str("limit"));
            Assert.Equal("500", problem.GetProperty("remaining").Str("today"));
        }

        var after = await _api.GetAsync(id, _agent.Lower);
        Assert.Equal("98000", after.Str("balance"));
        Assert.Equal(2, after.GetProperty("requestCount").GetInt64());
        Assert.Equal(0L, await _api.ScalarAsync<long>("SELECT count(*) FROM session_ledger WHERE idempotency_key = 'debit:req_over'"));
        Assert.Equal(2L, await _api.ScalarAsync<long>("SELECT count(*) FROM mandate_charges WHERE session_id = $1", id));
        Assert.Equal("500", (await _mandates.GetAsync(mandate.Str("id"))).Str("remainingToday"));

        // A retried debit is not charged twice; a credit-back (upstream failed) gives the mandate its room back.
        using (var replay = await _api.DebitAsync(id, "1000", key: "req_1", payer: _agent.Lower))
            Assert.True((await SessionHarness.JsonAsync(replay, HttpStatusCode.OK)).GetProperty("replayed").GetBoolean());
        using (var credit = await _api.PostAsync($"/internal/sessions/{id}/credits", new { debitIdempotencyKey = "req_1" }, _agent.Lower))
            await SessionHarness.JsonAsync(credit, HttpStatusCode.OK);
        Assert.Equal("1500", (await _mandates.GetAsync(mandate.Str("id"))).Str("remainingToday"));
        using (var fits = await _api.DebitAsync(id, "1000", key: "req_fits", payer: _agent.Lower))
            await SessionHarness.JsonAsync(fits, HttpStatusCode.OK);

        var report = await _api.AuditAsync();
        Assert.Empty(report.GetProperty("violations").EnumerateArray());
    }

    [Fact]
    public async Task A_debit_the_session_cannot_cover_is_not_charged_to_the_mandate()
    {
        var mandate = await _mandates.MandateAsync(_user, _agent, new Limits(PerDay: 10_000));
        var id = (await _api.OpenAsync("1500", payer: _agent.Lower)).Str("id");
        using (var ok = await _api.DebitAsync(id, "1000", payer: _agent.Lower))
            await SessionHarness.JsonAsync(ok, HttpStatusCode.OK);
        using (var poor = await _api.DebitAsync(id, "1000", payer: _agent.Lower))
            await MandateHarness.ProblemAsync(poor, HttpStatusCode.PaymentRequired, "insufficient-balance");
        Assert.Equal("9000", (await _mandates.GetAsync(mandate.Str("id"))).Str("remainingToday"));
    }

    [Fact]
    public async Task Debits_of_a_revoked_agent_or_at_a_merchant_not_allowed_are_refused()
    {
        var mandate = await _mandates.MandateAsync(_user, _agent, new Limits(Merchants: ["demo"]));
        var other = (await _api.OpenAsync("5000", payer: _agent.Lower, organization: "acme")).Str("id");
        using (var response = await _api.PostAsync($"/internal/sessions/{other}/debits", new { amount = "100", idempotencyKey = "req_acme" },
                   _agent.Lower, "acme"))
            await MandateHarness.ProblemAsync(response, HttpStatusCode.Forbidden, "merchant-not-allowed");

        var id = (await _api.OpenAsync("5000", payer: _agent.Lower)).Str("id");
        (await _mandates.RevokeAsync(mandate.Str("id"), _user)).Dispose();
        using (var revoked = await _api.DebitAsync(id, "100", payer: _agent.Lower))
            await MandateHarness.ProblemAsync(revoked, HttpStatusCode.Forbidden, "mandate-revoked");
        Assert.Equal("5000", (await _api.GetAsync(id, _agent.Lower)).Str("balance"));
    }

    [Fact]
    public async Task Fifty_concurrent_debits_against_a_day_covering_ten_serve_exactly_ten()
    {
        await _mandates.MandateAsync(_user, _agent, new Limits(PerDay: 10 * 1000));
        var id = (await _api.OpenAsync("1000000", payer: _agent.Lower)).Str("id");
        using var start = new SemaphoreSlim(0);
        var debits = Enumerable.Range(0, 50).Select(async i =>
        {
            await start.WaitAsync(TestContext.Current.CancellationToken);
            using var response = await _api.DebitAsync(id, "1000", key: $"req_{i}", payer: _agent.Lower);
            return response.StatusCode;
        }).ToList();
        start.Release(50);
        var statuses = await Task.WhenAll(debits);

        Assert.Equal(10, statuses.Count(status => status == HttpStatusCode.OK));
        Assert.Equal(40, statuses.Count(status => status == HttpStatusCode.Forbidden));
        Assert.Equal(10L, await _api.ScalarAsync<long>("SELECT count(*) FROM session_ledger WHERE session_id = $1 AND kind = 'debit'", id));
        Assert.Equal("990000", (await _api.GetAsync(id, _agent.Lower)).Str("balance"));
    }
}
