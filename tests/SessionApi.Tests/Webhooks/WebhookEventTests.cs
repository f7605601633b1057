using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Sessions.SessionApi.Sessions;
using Sessions.Testing;

namespace SessionApi.Tests.Webhooks;

// Which events the session changes emit, with which data, to which endpoints (event and organisation filters).
public sealed class WebhookEventTests(InfrastructureFixture infrastructure) : WebhookTestBase(infrastructure)
{
    static JsonElement Session(WebhookReceiver.Received received) => received.Json.GetProperty("data").GetProperty("session");

    [Fact]
    public async Task Open_deplete_top_up_and_close_each_emit_their_event_with_the_session()
    {
        await _api.RegisterAsync(_receiver.Url);
        var opened = await _api.OpenAsync("2000");
        var id = opened.GetProperty("id").GetString()!;
        await _api.SpendAsync(id, "1000");
        var depletingDebit = "req_" + Guid.NewGuid().ToString("N");
        await _api.SpendAsync(id, "1000", depletingDebit);   // balance 0: depleted
        using (var topUp = await _api.GateAsync($"/internal/sessions/{id}/topups", new { amount = "500", paymentId = "pay_topup_1" }))
            Assert.Equal(HttpStatusCode.OK, topUp.StatusCode);
        using (var close = await _api.GateAsync($"/internal/sessions/{id}/close", new { method = "ledger" }))
            Assert.Equal(HttpStatusCode.OK, close.StatusCode);

        var open = Assert.Single(await _receiver.WaitForEventAsync("session.opened"));
        var depleted = Assert.Single(await _receiver.WaitForEventAsync("session.depleted"));
        var toppedUp = Assert.Single(await _receiver.WaitForEventAsync("session.topped_up"));
        var closed = Assert.Single(await _receiver.WaitForEventAsync("session.closed"));

        Assert.Equal(id, Session(open).GetProperty("id").GetString());
        Assert.Equal("ACTIVE", Session(open).GetProperty("state").GetString());
        Assert.Equal("2000", Session(open).GetProperty("balance").GetString());
        Assert.Equal(WebhookHarness.Payer, Session(open).GetProperty("payer").GetString());
        Assert.Equal("demo", Session(open).GetProperty("organization").GetString());
        Assert.False(Session(open).TryGetProperty("token", out _));   // the token is the agent's alone

        Assert.Equal("DEPLETED", Session(depleted).GetProperty("state").GetString());
        Assert.Equal("0", Session(depleted).GetProperty("balance").GetString());
        Assert.Equal(2, Session(depleted).GetProperty("requestCount").GetInt64());
        // The gate's signed receipt of the debit that emptied it (issue 19): its id derives from the debit's key.
        Assert.Equal("rcpt_" + depletingDebit[4..], depleted.Json.GetProperty("data").GetProperty("receiptId").GetString());

        Assert.Equal("500", toppedUp.Json.GetProperty("data").GetProperty("amount").GetString());
        Assert.Equal("pay_topup_1", toppedUp.Json.GetProperty("data").GetProperty("paymentId").GetString());
        Assert.Equal("ACTIVE", Session(toppedUp).GetProperty("state").GetString());
        Assert.Equal("500", Session(toppedUp).GetProperty("balance").GetString());

        Assert.Equal("500", closed.Json.GetProperty("data").GetProperty("amount").GetString());
        Assert.Equal("REFUNDED", Session(closed).GetProperty("state").GetString());
        Assert.Equal("500", Session(closed).GetProperty("refunded").GetString());
        Assert.Equal("ledger", Session(closed).GetProperty("refundMethod").GetString());

        // The envelope, the same for every event.
        foreach (var received in new[] { open, depleted, toppedUp, closed })
        {
            var json = received.Json;
            Assert.Equal(["id", "event", "timestamp", "api_version", "data"], json.EnumerateObject().Select(p => p.Name));
            Assert.Equal(received.Id, json.GetProperty("id").GetString());
            Assert.Equal(received.Event, json.GetProperty("event").GetString());
            Assert.Matches("^evt_[0-9a-f]{32}$", received.Id);
            Assert.Equal("2026-11-30", json.GetProperty("api_version").GetString());
            Assert.True(json.GetProperty("timestamp").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddMinutes(-1));
        }

        // A replayed close or a refused debit changes nothing and says nothing.
        using (var again = await _api.GateAsync($"/internal/sessions/{id}/close", null)) Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Single((await _api.SpendAsync(id, "1")).GetProperty("refused").EnumerateArray());
        Assert.Equal(4L, await _api.ScalarAsync<long>("SELECT count(*) FROM outbox"));
    }

    [Fact]
    public async Task Expiry_emits_session_expired_once_whether_lazily_on_use_or_by_the_sweeper()
    {
        await _api.RegisterAsync(_receiver.Url, events: ["session.expired"]);
        var lazy = (await _api.OpenAsync("5000", ttlSeconds: 60)).GetProperty("id").GetString()!;
        var swept = (await _api.OpenAsync("5000", ttlSeconds: 60)).GetProperty("id").GetString()!;
        var depleted = (await _api.OpenAsync("1000", ttlSeconds: 60)).GetProperty("id").GetString()!;
        await _api.SpendAsync(depleted, "1000");
        _api.Clock.Advance(TimeSpan.FromSeconds(61));

        using (var get = await _api.PayerGetAsync($"/api/sessions/{lazy}"))
            Assert.Equal("EXPIRED", (await WebhookHarness.JsonAsync(get, HttpStatusCode.OK)).GetProperty("state").GetString());
        var sweeper = _api.Services.GetRequiredService<ExpirySweeper>();
        Assert.Equal(2, await sweeper.SweepAsync(TestContext.Current.CancellationToken));
        Assert.Equal(0, await sweeper.SweepAsync(TestContext.Current.CancellationToken));
        using (var again = await _api.PayerGetAsync($"/api/sessions/{lazy}")) Assert.Equal(HttpStatusCode.OK, again.StatusCode);

        var expired = await _receiver.WaitForEventAsync("session.expired", count: 3);
        Assert.Equal(new[] { depleted, lazy, swept }.Order(), expired.Select(r => Session(r).GetProperty("id").GetString()!).Order());
        Assert.All(expired, r => Assert.Equal("EXPIRED", Session(r).GetProperty("state").GetString()));
        Assert.Equal("5000", expired.Select(Session).Single(s => s.GetProperty("id").GetString() == swept).GetProperty("balance").GetString());
        Assert.Equal(3L, await _api.ScalarAsync<long>("SELECT count(*) FROM outbox WHERE event = 'session.expired'"));
        await Task.Delay(300, TestContext.Current.CancellationToken);
        Assert.Equal(3, _receiver.Requests.Count);   // subscribed to expiry only: the opens and the depletion were not sent
    }

    [Fact]
    public async Task Endpoints_get_only_the_events_and_organisations_they_registered_for()
    {
        await using var closedInDemo = await WebhookReceiver.StartAsync();
        await using var otherOrganization = await WebhookReceiver.StartAsync();
        await _api.RegisterAsync(_receiver.Url);   // everything
        await _api.RegisterAsync(closedInDemo.Url, events: ["session.closed"], organization: "demo");
        await _api.RegisterAsync(otherOrganization.Url, organization: "other");

        var demo = (await _api.OpenAsync("1000")).GetProperty("id").GetString()!;
        using (var close = await _api.GateAsync($"/internal/sessions/{demo}/close", null)) Assert.Equal(HttpStatusCode.OK, close.StatusCode);
        var other = await _api.OpenAsync("1000", organization: "other");

        await _receiver.WaitForAsync(_ => true, count: 3);
        Assert.Equal("session.closed", Assert.Single(await closedInDemo.WaitForAsync(_ => true)).Event);
        var otherEvent = Assert.Single(await otherOrganization.WaitForAsync(_ => true));
        Assert.Equal("session.opened", otherEvent.Event);
        Assert.Equal(other.GetProperty("id").GetString(), Session(otherEvent).GetProperty("id").GetString());
        await Task.Delay(300, TestContext.Current.CancellationToken);
        Assert.Single(closedInDemo.Requests);
        Assert.Single(otherOrganization.Requests);
        Assert.Equal(3, _receiver.Requests.Count);
    }
}
