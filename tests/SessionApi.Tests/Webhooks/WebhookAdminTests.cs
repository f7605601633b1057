using System.Net;
using System.Text.Json;
using Sessions.Testing;

namespace SessionApi.Tests.Webhooks;

// /admin/webhooks: the admin key, registration and its validation, listing without secrets, delete, the test event, the log.
public sealed class WebhookAdminTests(InfrastructureFixture infrastructure) : WebhookTestBase(infrastructure)
{
    [Theory]
    [InlineData("POST", "/admin/webhooks", null)]
    [InlineData("GET", "/admin/webhooks", null)]
    [InlineData("DELETE", "/admin/webhooks/whe_00000000000000000000000000000000", null)]
    [InlineData("GET", "/admin/webhooks/whe_00000000000000000000000000000000/deliveries", null)]
    [InlineData("POST", "/admin/webhooks/whe_00000000000000000000000000000000/test", null)]
    [InlineData("GET", "/admin/webhooks", "wrong-key")]
    [InlineData("POST", "/admin/webhooks", "")]
    public async Task Every_webhook_admin_endpoint_answers_401_without_the_admin_key(string method, string path, string? key)
    {
        using var response = await _api.AdminAsync(new HttpMethod(method), path, method == "POST" ? new { url = _receiver.Url } : null, key);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(0L, await _api.ScalarAsync<long>("SELECT count(*) FROM webhook_endpoints"));
    }

    [Fact]
    public async Task Registration_returns_the_secret_once_and_the_list_never_shows_it()
    {
        using var created = await _api.AdminAsync(HttpMethod.Post, "/admin/webhooks",
            new { url = _receiver.Url, events = new[] { "session.closed", "agent.session.revoked", "session.closed" }, organization = "demo" });
        var endpoint = await WebhookHarness.JsonAsync(created, HttpStatusCode.Created);
        var id = endpoint.GetProperty("id").GetString()!;
        Assert.Matches("^whe_[0-9a-f]{32}$", id);
        Assert.Equal($"/admin/webhooks/{id}", created.Headers.Location?.ToString());
        Assert.Equal(_receiver.Url, endpoint.GetProperty("url").GetString());
        Assert.Equal(["session.closed", "agent.session.revoked"], endpoint.GetProperty("events").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("demo", endpoint.GetProperty("organization").GetString());
        var secret = endpoint.GetProperty("secret").GetString()!;

        using var list = await _api.AdminAsync(HttpMethod.Get, "/admin/webhooks");
        var listText = await list.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        Assert.DoesNotContain(secret, listText);
        Assert.DoesNotContain("secret", listText);
        var item = Assert.Single(JsonDocument.Parse(listText).RootElement.GetProperty("items").EnumerateArray());
        Assert.Equal(id, item.GetProperty("id").GetString());
        Assert.True(item.GetProperty("active").GetBoolean());
    }

    [Theory]
    [InlineData(null, null, "url")]
    [InlineData("not a url", null, "url")]
    [InlineData("ftp://example.com/hook", null, "url")]
    [InlineData("https://user:pass@example.com/hook", null, "url")]
    [InlineData("https://example.com/hook", "session.unknown", "events")]
    [InlineData("https://example.com/hook", "webhook.test", "events")]
    public async Task Invalid_registrations_are_400_with_the_field(string? url, string? eventName, string field)
    {
        using var response = await _api.AdminAsync(HttpMethod.Post, "/admin/webhooks",
            new { url, events = eventName is null ? null : new[] { eventName } });
        var problem = await WebhookHarness.JsonAsync(response, HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
    }

    [Fact]
    public async Task The_test_event_reaches_only_its_endpoint_and_appears_in_its_log()
    {
        await using var other = await WebhookReceiver.StartAsync();
        var id = (await _api.RegisterAsync(_receiver.Url, events: ["session.closed"])).GetProperty("id").GetString()!;
        await _api.RegisterAsync(other.Url);

        using var test = await _api.AdminAsync(HttpMethod.Post, $"/admin/webhooks/{id}/test");
        var eventId = (await WebhookHarness.JsonAsync(test, HttpStatusCode.Accepted)).GetProperty("eventId").GetString();
        var received = Assert.Single(await _receiver.WaitForEventAsync("webhook.test"));
        Assert.Equal(eventId, received.Id);
        Assert.Equal(id, received.Json.GetProperty("data").GetProperty("endpointId").GetString());

        await WebhookHarness.EventuallyAsync(async () =>
        {
            using var log = await _api.AdminAsync(HttpMethod.Get, $"/admin/webhooks/{id}/deliveries");
            return (await WebhookHarness.JsonAsync(log, HttpStatusCode.OK)).GetProperty("items").GetArrayLength() == 1;
        }, "the log entry");
        using var deliveries = await _api.AdminAsync(HttpMethod.Get, $"/admin/webhooks/{id}/deliveries?limit=10");
        var entry = (await WebhookHarness.JsonAsync(deliveries, HttpStatusCode.OK)).GetProperty("items")[0];
        Assert.Equal(eventId, entry.GetProperty("eventId").GetString());
        Assert.Equal("webhook.test", entry.GetProperty("event").GetString());
        Assert.Equal(200, entry.GetProperty("statusCode").GetInt32());
        Assert.True(entry.GetProperty("durationMs").GetInt32() >= 0);
        Assert.Empty(other.Requests);
    }

    [Fact]
    public async Task Delete_stops_deliveries_gives_up_pending_ones_and_keeps_the_log()
    {
        _receiver.Status = _ => 500;
        var id = (await _api.RegisterAsync(_receiver.Url)).GetProperty("id").GetString()!;
        await _api.OpenAsync("1000");
        await _receiver.WaitForAsync(_ => true);

        using (var delete = await _api.AdminAsync(HttpMethod.Delete, $"/admin/webhooks/{id}"))
            Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        using (var again = await _api.AdminAsync(HttpMethod.Delete, $"/admin/webhooks/{id}"))
            Assert.Equal("webhook-not-found", (await WebhookHarness.JsonAsync(again, HttpStatusCode.NotFound)).GetProperty("code").GetString());
        using (var test = await _api.AdminAsync(HttpMethod.Post, $"/admin/webhooks/{id}/test"))
            Assert.Equal(HttpStatusCode.NotFound, test.StatusCode);
        using (var list = await _api.AdminAsync(HttpMethod.Get, "/admin/webhooks"))
            Assert.Equal(0, (await WebhookHarness.JsonAsync(list, HttpStatusCode.OK)).GetProperty("items").GetArrayLength());

        var attemptsAtDelete = _receiver.Requests.Count;
        await _api.OpenAsync("1000");
        await Task.Delay(500, TestContext.Current.CancellationToken);
        Assert.Equal(attemptsAtDelete, _receiver.Requests.Count);   // neither the retry nor the new event
        Assert.Equal("endpoint deleted", await _api.ScalarAsync<string>("SELECT last_error FROM outbox_deliveries WHERE dead"));
        Assert.True(await _api.ScalarAsync<bool>("SELECT dead FROM outbox ORDER BY created_at LIMIT 1"));
        using var log = await _api.AdminAsync(HttpMethod.Get, $"/admin/webhooks/{id}/deliveries");
        Assert.True((await WebhookHarness.JsonAsync(log, HttpStatusCode.OK)).GetProperty("items").GetArrayLength() >= 1);
        using var unknown = await _api.AdminAsync(HttpMethod.Get, "/admin/webhooks/whe_00000000000000000000000000000000/deliveries");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }
}
