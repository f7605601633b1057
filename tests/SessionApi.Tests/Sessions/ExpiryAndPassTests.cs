using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Sessions.SessionApi.Sessions;
using Sessions.Testing;
using static SessionApi.Tests.Sessions.SessionHarness;
using static Sessions.Testing.ServiceHarness<Program>;

namespace SessionApi.Tests.Sessions;

// Expiry with a moved clock (lazily on use, and by the sweeper) and pass sessions (TTL bounds, free requests).
public sealed class ExpiryAndPassTests(InfrastructureFixture infrastructure) : IAsyncLifetime
{
    SessionHarness _api = null!;

    public async ValueTask InitializeAsync() => _api = await StartAsync(infrastructure);

    public ValueTask DisposeAsync() => _api.DisposeAsync();

    [Fact]
    public async Task An_expired_session_is_marked_EXPIRED_on_use_refuses_debits_with_410_and_can_still_be_closed()
    {
        var session = await _api.OpenAsync("5000", ttlSeconds: 60);
        var id = session.Str("id");
        (await _api.DebitAsync(id, "1000")).Dispose();

        _api.Clock.Advance(TimeSpan.FromSeconds(59));
        using var stillValid = await _api.DebitAsync(id, "1000");
        Assert.Equal(HttpStatusCode.OK, stillValid.StatusCode);

        _api.Clock.Advance(TimeSpan.FromSeconds(1));   // expires_at reached: expired (not strictly after)
        using var resolve = await _api.PostAsync("/internal/sessions/resolve", new { token = session.Str("token") });
        Assert.Equal("EXPIRED", (await JsonAsync(resolve, HttpStatusCode.OK)).Str("state"));
        Assert.Equal("EXPIRED", await _api.ScalarAsync<string>("SELECT state FROM sessions WHERE id = $1", id));

        using var debit = await _api.DebitAsync(id, "1000");
        var problem = await JsonAsync(debit, HttpStatusCode.Gone);
        Assert.Equal("session-expired", problem.Str("code"));
        Assert.Equal("3000", problem.Str("balance"));
        using var topUp = await _api.PostAsync($"/internal/sessions/{id}/topups", new { amount = "1000", paymentId = "pay_late" });
        Assert.Equal(HttpStatusCode.Gone, topUp.StatusCode);

        using var close = await _api.PostAsync($"/internal/sessions/{id}/close", null);
        Assert.Equal("3000", (await JsonAsync(close, HttpStatusCode.OK)).Str("refunded"));
        Assert.Empty((await _api.AuditAsync()).GetProperty("violations").EnumerateArray());
    }

    [Fact]
    public async Task A_debit_is_the_first_touch_after_expiry_and_still_expires_lazily()
    {
        var id = (await _api.OpenAsync("5000", ttlSeconds: 120)).Str("id");
        _api.Clock.Advance(TimeSpan.FromMinutes(3));
        using var debit = await _api.DebitAsync(id, "1000");
        Assert.Equal(HttpStatusCode.Gone, debit.StatusCode);
        Assert.Equal("EXPIRED", await _api.ScalarAsync<string>("SELECT state FROM sessions WHERE id = $1", id));
    }

    [Fact]
    public async Task The_sweeper_expires_untouched_sessions_past_their_expiry()
    {
        var due = (await _api.OpenAsync("5000", ttlSeconds: 60)).Str("id");
        var depleted = (await _api.OpenAsync("1000", ttlSeconds: 60)).Str("id");
        (await _api.DebitAsync(depleted, "1000")).Dispose();
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
            using var debit = await _api.DebitAsync(id, "1000");
            var body = await JsonAsync(debit, HttpStatusCode.OK);
            Assert.Equal("0", body.Str("charged"));
            Assert.Equal("ACTIVE", body.Str("state"));
            Assert.Equal(i, body.GetProperty("requestCount").GetInt64());
        }
        using var topUp = await _api.PostAsync($"/internal/sessions/{id}/topups", new { amount = "1000", paymentId = "pay_pass_topup" });
        Assert.Equal("session-not-active", (await JsonAsync(topUp, HttpStatusCode.Conflict)).Str("code"));

        _api.Clock.Advance(TimeSpan.FromHours(24));
        using var expired = await _api.DebitAsync(id, "1000");
        Assert.Equal(HttpStatusCode.Gone, expired.StatusCode);

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
