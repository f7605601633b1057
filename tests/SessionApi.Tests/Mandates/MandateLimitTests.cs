using System.Net;
using System.Text.Json;
using Sessions.Testing;
using SessionApi.Tests.Sessions;

namespace SessionApi.Tests.Mandates;

// Charging against a mandate: each limit, the rolling windows with a moved clock, merchants, idempotency, release, concurrency.
public sealed class MandateLimitTests(InfrastructureFixture infrastructure) : MandateTestBase(infrastructure)
{
    async Task<JsonElement> ChargedAsync(long amount, string? key = null, string organization = SessionHarness.Organization)
    {
        using var response = await _mandates.ChargeAsync(_agent, amount, key, organization: organization);
        return await SessionHarness.JsonAsync(response, HttpStatusCode.OK);
    }

    async Task<JsonElement> RefusedAsync(long amount, string limit)
    {
        using var response = await _mandates.ChargeAsync(_agent, amount);
        var problem = await MandateHarness.ProblemAsync(response, HttpStatusCode.Forbidden, "limit-exceeded");
        Assert.Equal(limit, problem.Str("limit"));
        return problem;
    }

    [Fact]
    public async Task An_agent_without_a_mandate_is_not_restricted()
    {
        var charge = await ChargedAsync(1_000_000_000);
        Assert.Equal(JsonValueKind.Null, charge.GetProperty("mandate").ValueKind);
        Assert.Equal(0L, await _api.ScalarAsync<long>("SELECT count(*) FROM mandate_charges"));
    }

    [Fact]
    public async Task Max_per_transaction_refuses_a_larger_charge_and_allows_equal()
    {
        await _mandates.MandateAsync(_user, _agent, new Limits(PerTransaction: 5000));
        var problem = await RefusedAsync(5001, "maxPerTransaction");
        Assert.Equal("5000", problem.Str("limitAmount"));
        Assert.Equal("5000", problem.GetProperty("remaining").Str("perTransaction"));
        Assert.Equal("5001", problem.Str("amount"));
        await ChargedAsync(5000);
        Assert.Equal(1L, await _api.ScalarAsync<long>("SELECT count(*) FROM outbox WHERE event = 'agent.session.limit_reached'"));
    }

    [Fact]
    public async Task Max_per_day_is_a_rolling_24_hours()
    {
        var mandate = await _mandates.MandateAsync(_user, _agent, new Limits(PerDay: 10_000, Duration: TimeSpan.FromHours(168)));
        await ChargedAsync(6000);                        // t = 0
        _api.Clock.Advance(TimeSpan.FromHours(12));
        var charge = await ChargedAsync(4000);           // t = 12 h: the day is full
        Assert.Equal("0", charge.GetProperty("mandate").Str("remainingToday"));
        var problem = await RefusedAsync(1, "maxPerDay");
        Assert.Equal("0", problem.GetProperty("remaining").Str("today"));

        // Not a calendar day: at t = 23:59 the first charge still counts, at t = 24 h + 1 s it has left the window.
        _api.Clock.Advance(TimeSpan.FromHours(11) + TimeSpan.FromMinutes(59));
        await RefusedAsync(1, "maxPerDay");
        _api.Clock.Advance(TimeSpan.FromSeconds(61));
        Assert.Equal("6000", (await _mandates.GetAsync(mandate.Str("id"))).Str("remainingToday"));
        await RefusedAsync(6001, "maxPerDay");
        await ChargedAsync(6000);
    }

    [Fact]
    public async Task Week_and_month_windows_roll_across_the_weekly_renewals_of_the_mandate()
    {
        // A mandate lasts at most 168 h, so the windows count the agent's charges under all its mandates (always the same user's).
        var limits = new Limits(PerWeek: 3000, PerMonth: 4500, Duration: TimeSpan.FromHours(168));
        var first = await _mandates.MandateAsync(_user, _agent, limits);
        await ChargedAsync(2000);                                     // t = 0
        _api.Clock.Advance(TimeSpan.FromDays(2));
        await ChargedAsync(1000);                                     // t = 2 d: the week is full
        await RefusedAsync(1, "maxPerWeek");

        _api.Clock.Advance(TimeSpan.FromDays(5) + TimeSpan.FromSeconds(1));   // t = 7 d + 1 s: the first mandate expired
        using (var expired = await _mandates.ChargeAsync(_agent, 1))
            await MandateHarness.ProblemAsync(expired, HttpStatusCode.Forbidden, "mandate-expired");
        await _mandates.MandateAsync(_user, _agent, limits);
        var view = await _mandates.GetAsync(first.Str("id"));
        Assert.Equal("expired", view.Str("state"));
        Assert.False(view.GetProperty("isActive").GetBoolean());
        // The 2000 of t = 0 left the week, the 1000 of t = 2 d is still in it; the month holds both.
        await RefusedAsync(1501, "maxPerMonth");
        var charge = await ChargedAsync(1500);
        Assert.Equal("500", charge.GetProperty("mandate").Str("remainingThisWeek"));
        Assert.Equal("0", charge.GetProperty("mandate").Str("remainingThisMonth"));
        await RefusedAsync(1, "maxPerMonth");

        _api.Clock.Advance(TimeSpan.FromDays(23));                    // t = 30 d + 1 s: the charge of t = 0 left the month
        await _mandates.MandateAsync(_user, _agent, limits);
        await RefusedAsync(2001, "maxPerMonth");
        await ChargedAsync(2000);
        // Both earlier mandates expired lazily (on a charge, on the next create), each with its event.
        Assert.Equal(2L, await _api.ScalarAsync<long>("SELECT count(*) FROM outbox WHERE event = 'agent.session.expired'"));
    }

    [Fact]
    public async Task Merchants_outside_the_allowed_list_are_refused()
    {
        await _mandates.MandateAsync(_user, _agent, new Limits(Merchants: ["demo", "acme"]));
        await ChargedAsync(100, organization: "acme");
        using var response = await _mandates.ChargeAsync(_agent, 100, organization: "evil");
        var problem = await MandateHarness.ProblemAsync(response, HttpStatusCode.Forbidden, "merchant-not-allowed");
        Assert.Equal(2, problem.GetProperty("allowedMerchants").GetArrayLength());
    }

    [Fact]
    public async Task A_retried_key_charges_once_and_a_release_frees_the_amount()
    {
        var mandate = await _mandates.MandateAsync(_user, _agent, new Limits(PerDay: 1000));
        await ChargedAsync(700, key: "req_a");
        var replay = await ChargedAsync(700, key: "req_a");
        Assert.True(replay.GetProperty("replayed").GetBoolean());
        Assert.Equal("300", replay.GetProperty("mandate").Str("remainingToday"));

        // The payment failed: the gate releases the charge.
        using (var release = await _api.PostAsync("/internal/mandates/charges/req_a/release", null, _agent.Lower))
            await SessionHarness.JsonAsync(release, HttpStatusCode.OK);
        Assert.Equal("1000", (await _mandates.GetAsync(mandate.Str("id"))).Str("remainingToday"));
        using (var unknown = await _api.PostAsync("/internal/mandates/charges/req_zzz/release", null, _agent.Lower))
            await MandateHarness.ProblemAsync(unknown, HttpStatusCode.NotFound, "charge-not-found");
        // Another agent cannot release it.
        using (var other = await _api.PostAsync("/internal/mandates/charges/req_a/release", null, new Wallet().Lower))
            await MandateHarness.ProblemAsync(other, HttpStatusCode.NotFound, "charge-not-found");

        // The same key again after a release is charged again, checks and all.
        await ChargedAsync(1000, key: "req_b");
        await RefusedAsync(700, "maxPerDay");
        using (var again = await _mandates.ChargeAsync(_agent, 700, key: "req_a"))
            await MandateHarness.ProblemAsync(again, HttpStatusCode.Forbidden, "limit-exceeded");
    }

    [Fact]
    public async Task Fifty_concurrent_charges_against_a_day_covering_ten_charge_exactly_ten()
    {
        var mandate = await _mandates.MandateAsync(_user, _agent, new Limits(PerDay: 10 * 1000));
        using var start = new SemaphoreSlim(0);
        var charges = Enumerable.Range(0, 50).Select(async i =>
        {
            await start.WaitAsync(TestContext.Current.CancellationToken);
            using var response = await _mandates.ChargeAsync(_agent, 1000, key: $"req_{i}");
            return response.StatusCode;
        }).ToList();
        start.Release(50);
        var statuses = await Task.WhenAll(charges);

        Assert.Equal(10, statuses.Count(status => status == HttpStatusCode.OK));
        Assert.Equal(40, statuses.Count(status => status == HttpStatusCode.Forbidden));
        Assert.Equal(10L, await _api.ScalarAsync<long>("SELECT count(*) FROM mandate_charges"));
        Assert.Equal("0", (await _mandates.GetAsync(mandate.Str("id"))).Str("remainingToday"));
    }
}
