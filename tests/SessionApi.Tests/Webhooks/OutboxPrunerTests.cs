using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Sessions.SessionApi.Webhooks;
using Sessions.Testing;

namespace SessionApi.Tests.Webhooks;

// Outbox retention: events whose deliveries are all finished go after SessionApi:Webhooks:Retention, with their log;
// an event still being delivered stays, however old.
public sealed class OutboxPrunerTests(InfrastructureFixture infrastructure) : WebhookTestBase(infrastructure)
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Finished_events_past_retention_are_pruned_with_their_log_and_pending_ones_stay()
    {
        await _api.RegisterAsync(_receiver.Url, ["session.opened"]);
        await _api.RegisterAsync("http://127.0.0.1:9/unreachable", ["session.closed"]);   // never answers: stays pending
        var id = (await _api.OpenAsync("2000")).GetProperty("id").GetString()!;
        Assert.Single(await _receiver.WaitForEventAsync("session.opened"));
        using (var close = await _api.GateAsync($"/internal/sessions/{id}/close", new { method = "ledger" }))
            Assert.Equal(HttpStatusCode.OK, close.StatusCode);
        // The dispatcher records the attempt after the receiver answered: wait for its commit.
        await WebhookHarness.EventuallyAsync(async () => await _api.ScalarAsync<long>(
            "SELECT count(*) FROM outbox WHERE event = 'session.opened' AND next_attempt_at IS NULL AND delivered_at IS NOT NULL") == 1, "session.opened is recorded as delivered");
        Assert.Equal(1L, await _api.ScalarAsync<long>("SELECT count(*) FROM webhook_deliveries d JOIN outbox o ON o.id = d.outbox_id WHERE o.event = 'session.opened'"));

        var pruner = _api.Services.GetRequiredService<OutboxPruner>();
        Assert.Equal(0, await pruner.PruneAsync(Ct));   // within retention: nothing goes

        _api.Clock.Advance(TimeSpan.FromDays(31));
        Assert.Equal(1, await pruner.PruneAsync(Ct));
        Assert.Equal("session.closed", await _api.ScalarAsync<string>("SELECT string_agg(event, ',') FROM outbox"));
        Assert.Equal(0L, await _api.ScalarAsync<long>("SELECT count(*) FROM webhook_deliveries d JOIN outbox o ON o.id = d.outbox_id WHERE o.event = 'session.opened'"));
        Assert.Equal(1L, await _api.ScalarAsync<long>("SELECT count(*) FROM outbox_deliveries"));
        Assert.Equal(0, await pruner.PruneAsync(Ct));
    }
}
