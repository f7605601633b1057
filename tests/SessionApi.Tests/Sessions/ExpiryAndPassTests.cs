using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Sessions.SessionApi.Sessions;
using Sessions.Testing;
using static SessionApi.Tests.Sessions.SessionHarness;
using static Sessions.Testing.ServiceHarness<Program>;

namespace SessionApi.Tests.Sessions;

// Expiry with a moved clock (lazily on use, and by the sweeper) and pass sessions (TTL bounds, free requests). Refusing
// requests on an expired session is the gate's (SessionGateTests, SessionBalancesTests, PassSessionTests).
public sealed class ExpiryAndPassTests(InfrastructureFixture infrastructure) : IAsyncLifetime
{
    SessionHarness _api = null!;

    public async ValueTask InitializeAsync() => _api = await StartAsync(infrastructure);

    public ValueTask DisposeAsync() => _api.DisposeAsync();

    [Fact]
    public async Task An_expired_session_is_marked_EXPIRED_on_use_still_takes_debits_confirmed_before_and_can_be_closed()
    {
        var session = await _api.OpenAsync("5000", ttlSeconds: 60);
        var id = session.Str("id");
        Assert.True(await _api.SpendAsync(id, "1000"));

        _api.Clock.Advance(TimeSpan.FromSeconds(59));
        var confirmedInTime = _api.Debit(id, "req_in_time", "1000");   // confirmed at the gate before expiry, folded after it

        _api.Clock.Advance(TimeSpan.FromSeconds(1));   // expires_at reached: expired (not strictly after)
        using var resolve = await _api.PostAsync("/internal/sessions/resolve", new { token = session.Str("token") });
        Assert.Equal("EXPIRED", (await JsonAsync(resolve, HttpStatusCode.OK)).Str("state"));
        Assert.Equal("EXPIRED", await _api.ScalarAsync<string>("SELECT state FROM sessions WHERE id = $1", id));

        Assert.Equal(1, (await _api.FoldAsync([confirmedInTime])).GetProperty("applied").GetInt32());
        var expired = await _api.GetAsync(id);
        Assert.Equal(("3000", "EXPIRED", 2L), (expired.Str("balance"), expired.Str("state"), expired.GetProperty("requestCount").GetInt64()));
        using var topUp = await _api.PostAsync($"/internal/sessions/{id}/topups", new { amount = "1000", paymentId = "pay_late" });
        Assert.Equal("session-expired", (await JsonAsync(topUp, HttpStatusCode.Gone)).Str("code"));

        using var close = await _api.PostAsync($"/internal/sessions/{id}/close", null);
        Assert.Equal("3000", (await JsonAsync(close, HttpStatusCode.OK)).Str("refunded"));
        Assert.Empty((await _api.AuditAsync()).GetProperty("violations").EnumerateArray());
    }

    [Fact]
    public async Task The_sweeper_expires_untouched_sessions_past_their_expiry()
    {
        var due = (await _api.OpenAsync("5000", ttlSeconds: 60)).Str("id");
        var depleted = (await _api.OpenAsync("1000", ttlSeconds: 60)).Str("id");
        Assert.True(await _api.SpendAsync(depleted, "1000"));
        var later = (await _api.OpenAsync("5000", ttlSeconds: 3600)).Str("id");
        var sweeper = _api.Services.GetRequiredService<ExpirySweeper>();

        Assert.Equal(0, await sweeper.SweepAsync(TestContext.Current.CancellationToken));
        _api.Clock.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(2, await sweeper.SweepAsync(TestContext.Current.CancellationToken));

        Assert.Equal("EXPIRED", await _api.ScalarAsync<string>("SELECT state FROM sessions WHERE id = $1", due));
        Assert.Equal("EXPIRED", await _api.ScalarAsync<string>("SELECT state FROM sessions WHERE id = $1", depleted));
        Assert.Equal("ACTIVE", await _api.ScalarAsync<string>("SELECT state FROM sessions WHERE id = $1", later));
        Assert.Equal(0, await sweeper.SweepAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task The_sweeper_runs_on_its_interval()
    {
        await using var api = await StartAsync(infrastructure, sweepInterval: TimeSpan.FromMilliseconds(100));
        var id = (await api.OpenAsync("5000", ttlSeconds: 60)).Str("id");
        api.Clock.Advance(TimeSpan.FromSeconds(61));

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (await api.ScalarAsync<string>("SELECT state FROM sessions WHERE id = $1", id) != "EXPIRED" && DateTime.UtcNow < deadline)
            await Task.Delay(50, TestContext.Current.CancellationToken);
        Assert.Equal("EXPIRED", await api.ScalarAsync<string>("SELECT state FROM sessions WHERE id = $1", id));
    }

    [Fact]
    public async Task A_pass_lasts_24_hours_by_default_and_its_requests_cost_nothing()
    {
        var pass = await _api.OpenAsync("50000", kind: "pass");
        var id = pass.Str("id");
        Assert.Equal("pass", pass.Str("kind"));
        Assert.Equal("0", pass.Str("balance"));
        Assert.Equal("50000", pass.Str("spent"));
        Assert.Equal(_api.Clock.GetUtcNow().AddHours(24), pass.GetProperty("expiresAt").GetDateTimeOffset());

        for (var i = 1; i <= 5; i++)
        {
            Assert.True(await _api.SpendAsync(id, "0"));   // the gate debits a pass's request 0
            var after = await _api.GetAsync(id);
            Assert.Equal(("0", "50000", "ACTIVE", (long)i), (after.Str("balance"), after.Str("spent"), after.Str("state"), after.GetProperty("requestCount").GetInt64()));
        }
        Assert.False(await _api.SpendAsync(id, "1000"));   // a pass has nothing to spend
        using var topUp = await _api.PostAsync($"/internal/sessions/{id}/topups", new { amount = "1000", paymentId = "pay_pass_topup" });
        Assert.Equal("session-not-active", (await JsonAsync(topUp, HttpStatusCode.Conflict)).Str("code"));

        _api.Clock.Advance(TimeSpan.FromHours(24));
        Assert.Equal("EXPIRED", (await _api.GetAsync(id)).Str("state"));

        using var close = await _api.PostAsync($"/internal/sessions/{id}/close", null);
        Assert.Equal("0", (await JsonAsync(close, HttpStatusCode.OK)).Str("refunded"));
        Assert.Empty((await _api.AuditAsync()).GetProperty("violations").EnumerateArray());
    }

    [Theory]
    [InlineData(59, false)]
    [InlineData(60, true)]
    [InlineData(604800, true)]
    [InlineData(604801, false)]
    public async Task Pass_TTL_is_between_60_seconds_and_7_days(long ttlSeconds, bool accepted)
    {
        using var response = await _api.PostAsync("/internal/sessions", new
        {
            organization = Organization, payer = Payer, kind = "pass", deposit = "1000", paymentId = "pay_" + Guid.NewGuid().ToString("N"), ttlSeconds,
        });
        if (accepted)
            Assert.Equal(_api.Clock.GetUtcNow().AddSeconds(ttlSeconds),
                (await JsonAsync(response, HttpStatusCode.Created)).GetProperty("expiresAt").GetDateTimeOffset());
        else
            Assert.True((await JsonAsync(response, HttpStatusCode.BadRequest)).GetProperty("errors").TryGetProperty("ttlSeconds", out _));
    }
}
