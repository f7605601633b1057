using System.Net;
using System.Text.Json;
using Sessions.Testing;

namespace SessionApi.Tests.Webhooks;

// POST /internal/webhooks/events: other services' events (VaultApi's vault.*) through the same outbox, delivery and signature.
public sealed class ExternalEventTests(InfrastructureFixture infrastructure) : WebhookTestBase(infrastructure)
{
    static object Expired(string vaultId) => new
    {
        key = $"vault.expired:{vaultId}", @event = "vault.expired", data = new { vaultId, sessionId = "ses_1", documents = 3 },
    };

    [Fact]
    public async Task A_reported_event_is_enqueued_once_per_key_and_delivered_signed_to_the_organisation()
    {
        await _api.RegisterAsync(_receiver.Url, ["vault.expired"], organization: "demo");
        using var first = await _api.GateAsync("/internal/webhooks/events", Expired("vlt_a"));
        var accepted = await WebhookHarness.JsonAsync(first, HttpStatusCode.Accepted);
        Assert.True(accepted.GetProperty("enqueued").GetBoolean());
        using var again = await _api.GateAsync("/internal/webhooks/events", Expired("vlt_a"));
        var repeated = await WebhookHarness.JsonAsync(again, HttpStatusCode.Accepted);
        Assert.False(repeated.GetProperty("enqueued").GetBoolean());
        Assert.Equal(accepted.GetProperty("eventId").GetString(), repeated.GetProperty("eventId").GetString());

        var delivered = Assert.Single(await _receiver.WaitForEventAsync("vault.expired"));
        Assert.Equal("vlt_a", delivered.Json.GetProperty("data").GetProperty("vaultId").GetString());
        Assert.Equal(3, delivered.Json.GetProperty("data").GetProperty("documents").GetInt32());
        Assert.Equal(1L, await _api.ScalarAsync<long>("SELECT count(*) FROM outbox WHERE event = 'vault.expired'"));
        Assert.Equal(1L, await _api.ScalarAsync<long>("SELECT count(*) FROM outbox_deliveries"));
    }

    [Fact]
    public async Task Another_organisation_reports_to_its_own_endpoints_only()
    {
        await _api.RegisterAsync(_receiver.Url, organization: "other");
        using var response = await _api.GateAsync("/internal/webhooks/events", Expired("vlt_b"));   // payer context of "demo"
        await WebhookHarness.JsonAsync(response, HttpStatusCode.Accepted);
        Assert.Equal("demo", await _api.ScalarAsync<string>("SELECT organization FROM outbox WHERE event = 'vault.expired'"));
        Assert.Equal(0L, await _api.ScalarAsync<long>("SELECT count(*) FROM outbox_deliveries"));
    }

    [Fact]
    public async Task Unknown_or_own_events_bad_keys_and_missing_data_are_400_and_nothing_is_enqueued()
    {
        object[] bad =
        [
            new { key = "k", @event = "session.opened", data = new { } },   // SessionApi's own event: not for others to report
            new { key = "k", @event = "vault.exploded", data = new { } },
            new { key = "", @event = "vault.expired", data = new { } },
            new { key = new string('k', 201), @event = "vault.expired", data = new { } },
            new { key = "k", @event = "vault.expired" },
            new { key = "k", @event = "vault.expired", data = "text" },
        ];
        foreach (var body in bad)
        {
            using var response = await _api.GateAsync("/internal/webhooks/events", body);
            var problem = await WebhookHarness.JsonAsync(response, HttpStatusCode.BadRequest);
            Assert.True(problem.TryGetProperty("errors", out _), JsonSerializer.Serialize(body));
        }
        Assert.Equal(0L, await _api.ScalarAsync<long>("SELECT count(*) FROM outbox"));
    }

    [Fact]
    public async Task Without_a_payer_context_it_is_401()
    {
        using var response = await _api.Client.PostAsync("/internal/webhooks/events", new StringContent("{}", System.Text.Encoding.UTF8, "application/json"),
            TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }
}
