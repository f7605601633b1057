using System.Net;
using System.Security.Cryptography;
using System.Text;
using Npgsql;
using Sessions.SessionApi.Webhooks;
using Sessions.Testing;

namespace SessionApi.Tests.Webhooks;

// Delivery: signatures, retries with back-off and the delivery log, dead deliveries, restarts and several instances,
// and the outbox's transactionality (no event without its committed change).
public sealed class WebhookDeliveryTests(InfrastructureFixture infrastructure) : IAsyncLifetime
{
    static CancellationToken Cancel => TestContext.Current.CancellationToken;

    readonly List<IAsyncDisposable> _disposables = [];

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        foreach (var disposable in Enumerable.Reverse(_disposables)) await disposable.DisposeAsync();
    }

    async Task<T> Track<T>(Task<T> start) where T : IAsyncDisposable
    {
        var started = await start;
        _disposables.Add(started);
        return started;
    }

    /// <summary>The README's C# verification, word for word (independent of <see cref="WebhookSignature"/>).</summary>
    static bool VerifyAsDocumented(string secret, string? header, byte[] rawBody, DateTimeOffset now)
    {
        var parts = (header ?? "").Split(',').Select(p => p.Trim().Split('=', 2)).Where(p => p.Length == 2).ToLookup(p => p[0], p => p[1]);
        if (!long.TryParse(parts["t"].FirstOrDefault(), out var t) || Math.Abs(now.ToUnixTimeSeconds() - t) > 300) return false;
        var expected = Encoding.ASCII.GetBytes(Convert.ToHexStringLower(
            HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), (byte[])[.. Encoding.UTF8.GetBytes($"{t}."), .. rawBody])));
        return parts["v1"].Any(v1 => CryptographicOperations.FixedTimeEquals(expected, Encoding.ASCII.GetBytes(v1)));
    }

    /// <summary>Runs the README's Node.js <c>verifyWebhook</c> (the ```js block of the Webhooks section) with node.</summary>
    static async Task<bool[]> VerifyWithReadmeNodeAsync(params (string Secret, string? Header, byte[] Body)[] cases)
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "SessionApi", "README.md"))) directory = directory.Parent;
        var readme = await File.ReadAllTextAsync(Path.Combine(directory!.FullName, "SessionApi", "README.md"), Cancel);
        var start = readme.IndexOf("```js\n", readme.IndexOf("### Verifying a delivery", StringComparison.Ordinal), StringComparison.Ordinal) + 6;
        var work = Directory.CreateTempSubdirectory("webhook-verify-");
        try
        {
            await File.WriteAllTextAsync(Path.Combine(work.FullName, "verify.mjs"), readme[start..readme.IndexOf("```", start, StringComparison.Ordinal)], Cancel);
            await File.WriteAllTextAsync(Path.Combine(work.FullName, "cases.json"), System.Text.Json.JsonSerializer.Serialize(
                cases.Select(c => new { secret = c.Secret, header = c.Header, body = Convert.ToBase64String(c.Body) })), Cancel);
            await File.WriteAllTextAsync(Path.Combine(work.FullName, "run.mjs"), """
                import { readFileSync } from "node:fs";
                import { verifyWebhook } from "./verify.mjs";
                const cases = JSON.parse(readFileSync(new URL("./cases.json", import.meta.url)));
                console.log(JSON.stringify(cases.map((c) => verifyWebhook(c.secret, c.header, Buffer.from(c.body, "base64")))));
                """, Cancel);
            using var node = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("node", Path.Combine(work.FullName, "run.mjs"))
            {
                RedirectStandardOutput = true, RedirectStandardError = true,
            })!;
            var output = await node.StandardOutput.ReadToEndAsync(Cancel);
            var error = await node.StandardError.ReadToEndAsync(Cancel);
            await node.WaitForExitAsync(Cancel);
            Assert.True(node.ExitCode == 0, $"node failed: {error}");
            return System.Text.Json.JsonSerializer.Deserialize<bool[]>(output)!;
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Signatures_verify_with_the_documented_algorithm_and_fail_for_any_change()
    {
        var api = await Track(WebhookHarness.StartAsync(infrastructure));
        var receiver = await Track(WebhookReceiver.StartAsync());
        var secret = (await api.RegisterAsync(receiver.Url)).GetProperty("secret").GetString()!;
        Assert.Matches("^whsec_[A-Za-z0-9_-]{43}$", secret);
        await api.OpenAsync("1000");

        var received = Assert.Single(await receiver.WaitForEventAsync("session.opened"));
        Assert.Equal("application/json; charset=utf-8", received.ContentType);
        Assert.Equal("1", received.Attempt);
        Assert.Matches("^t=[0-9]+,v1=[0-9a-f]{64}$", received.Signature);
        var now = DateTimeOffset.UtcNow;
        Assert.True(VerifyAsDocumented(secret, received.Signature!, received.Body, now));
        Assert.True(WebhookSignature.Verify(secret, received.Signature, received.Body, now));

        byte[] tampered = [.. received.Body];
        tampered[^2] ^= 1;
        Assert.False(VerifyAsDocumented(secret, received.Signature!, tampered, now));
        Assert.False(WebhookSignature.Verify(secret, received.Signature, tampered, now));
        Assert.False(WebhookSignature.Verify(secret + "x", received.Signature, received.Body, now));
        Assert.False(WebhookSignature.Verify(secret, received.Signature, received.Body, now.AddSeconds(301)));   // replayed too late
        Assert.True(WebhookSignature.Verify(secret, received.Signature, received.Body, now.AddSeconds(200)));
        var t = long.Parse(received.Signature!.Split(',')[0][2..]);
        Assert.False(WebhookSignature.Verify(secret, $"t={t + 1},v1={received.Signature.Split("v1=")[1]}", received.Body, now));   // timestamp is signed
        Assert.False(WebhookSignature.Verify(secret, null, received.Body, now));

        var stale = $"t={t - 301},v1={received.Signature.Split("v1=")[1]}";
        var node = await VerifyWithReadmeNodeAsync((secret, received.Signature, received.Body), (secret, received.Signature, tampered),
            (secret + "x", received.Signature, received.Body), (secret, stale, received.Body), (secret, null, received.Body));
        Assert.Equal([true, false, false, false, false], node);
        Assert.False(WebhookSignature.Verify(secret, "v1=abc", received.Body, now));
    }

    [Fact]
    public async Task A_receiver_failing_three_times_gets_the_event_on_the_fourth_attempt_with_the_same_id_and_body()
    {
        var api = await Track(WebhookHarness.StartAsync(infrastructure));
        var receiver = await Track(WebhookReceiver.StartAsync());
        receiver.Status = n => n <= 3 ? 500 : 200;
        var endpoint = await api.RegisterAsync(receiver.Url);
        var secret = endpoint.GetProperty("secret").GetString()!;
        await api.OpenAsync("1000");

        await receiver.WaitForEventAsync("session.opened");
        var attempts = receiver.Requests;
        Assert.Equal(4, attempts.Count);
        Assert.Equal([500, 500, 500, 200], attempts.Select(a => a.AnsweredWith));
        Assert.Equal(["1", "2", "3", "4"], attempts.Select(a => a.Attempt));
        Assert.Single(attempts.Select(a => a.Id).Distinct());   // the receiver de-duplicates on Webhook-Id
        Assert.Single(attempts.Select(a => a.Text).Distinct());
        Assert.All(attempts, a => Assert.True(VerifyAsDocumented(secret, a.Signature!, a.Body, DateTimeOffset.UtcNow)));
        // Exponential back-off: 100 ms, 200 ms, 400 ms between the attempts (at least; polls add up to 50 ms).
        var gaps = attempts.Zip(attempts.Skip(1), (a, b) => b.At - a.At).ToList();
        Assert.True(gaps[0] >= TimeSpan.FromMilliseconds(90) && gaps[1] >= TimeSpan.FromMilliseconds(190) && gaps[2] >= TimeSpan.FromMilliseconds(390),
            string.Join(", ", gaps));

        var id = endpoint.GetProperty("id").GetString()!;
        await WebhookHarness.EventuallyAsync(async () => await api.ScalarAsync<long>("SELECT count(*) FROM webhook_deliveries") == 4, "the log");
        using var response = await api.AdminAsync(HttpMethod.Get, $"/admin/webhooks/{id}/deliveries");
        var log = (await WebhookHarness.JsonAsync(response, HttpStatusCode.OK)).GetProperty("items").EnumerateArray().ToList();
        Assert.Equal([4, 3, 2, 1], log.Select(d => d.GetProperty("attempt").GetInt32()));
        Assert.Equal([200, 500, 500, 500], log.Select(d => d.GetProperty("statusCode").GetInt32()));
        Assert.Equal([true, false, false, false], log.Select(d => d.GetProperty("succeeded").GetBoolean()));
        Assert.All(log, d => Assert.Equal(attempts[0].Id, d.GetProperty("eventId").GetString()));
        Assert.Equal("HTTP 500 Internal Server Error", log[1].GetProperty("error").GetString());
        Assert.Equal(4, await api.ScalarAsync<int>("SELECT attempts FROM outbox"));
        Assert.NotNull(await api.ScalarAsync<DateTime?>("SELECT delivered_at FROM outbox"));
        Assert.Null(await api.ScalarAsync<object>("SELECT next_attempt_at FROM outbox") as DateTime?);
    }

    [Fact]
    public async Task A_delivery_that_keeps_failing_is_dead_after_the_maximum_attempts_and_other_endpoints_still_get_the_event()
    {
        var api = await Track(WebhookHarness.StartAsync(infrastructure, new Dictionary<string, string?> { ["SessionApi:Webhooks:MaxAttempts"] = "3" }));
        var failing = await Track(WebhookReceiver.StartAsync());
        var healthy = await Track(WebhookReceiver.StartAsync());
        failing.Status = _ => 503;
        await api.RegisterAsync(failing.Url);
        await api.RegisterAsync(healthy.Url);
        await api.OpenAsync("1000");

        await healthy.WaitForEventAsync("session.opened");
        await WebhookHarness.EventuallyAsync(async () => await api.ScalarAsync<bool>("SELECT dead FROM outbox"), "the dead delivery");
        await Task.Delay(500, Cancel);   // longer than the next back-off would be: no fourth attempt
        Assert.Equal(3, failing.Requests.Count);
        Assert.Single(healthy.Requests);
        Assert.Equal(4L, await api.ScalarAsync<long>("SELECT count(*) FROM webhook_deliveries"));
        Assert.Equal(4, await api.ScalarAsync<int>("SELECT attempts FROM outbox"));
        Assert.True(await api.ScalarAsync<object>("SELECT delivered_at FROM outbox") is DBNull);
        Assert.Equal("HTTP 503 Service Unavailable", await api.ScalarAsync<string>("SELECT last_error FROM outbox_deliveries WHERE dead"));
    }

    [Fact]
    public async Task A_restart_loses_no_queued_event()
    {
        var receiver = await Track(WebhookReceiver.StartAsync());
        receiver.Status = _ => 503;
        // Back-off long enough that the first instance makes exactly one attempt before it stops.
        var slow = new Dictionary<string, string?> { ["SessionApi:Webhooks:BackoffBase"] = "00:00:02", ["SessionApi:Webhooks:MaxBackoff"] = "00:00:02" };
        var first = await WebhookHarness.StartAsync(infrastructure, slow);
        await first.RegisterAsync(receiver.Url);
        var session = await first.OpenAsync("1000");
        await receiver.WaitForAsync(r => r.Event == "session.opened");
        await WebhookHarness.EventuallyAsync(async () => await first.ScalarAsync<long>("SELECT count(*) FROM webhook_deliveries") == 1, "the failed attempt");
        await first.DisposeAsync();   // SessionApi stops with the event undelivered

        receiver.Status = _ => 200;
        var second = await Track(Task.FromResult(WebhookHarness.StartOn(first.ConnectionString, first.Clock)));
        var delivered = await receiver.WaitForEventAsync("session.opened");
        Assert.Equal(session.GetProperty("id").GetString(), delivered[0].Json.GetProperty("data").GetProperty("session").GetProperty("id").GetString());
        Assert.Equal(2, receiver.Requests.Count);
        Assert.Equal(receiver.Requests[0].Id, receiver.Requests[1].Id);
        Assert.Equal("2", receiver.Requests[1].Attempt);
        await WebhookHarness.EventuallyAsync(async () => await second.ScalarAsync<object>("SELECT delivered_at FROM outbox") is DateTime, "delivered");
    }

    [Fact]
    public async Task An_event_queued_while_no_instance_runs_is_delivered_by_the_next_one()
    {
        var receiver = await Track(WebhookReceiver.StartAsync());
        // The first instance never polls within the test: the event waits in the outbox when it stops.
        var first = await WebhookHarness.StartAsync(infrastructure, new Dictionary<string, string?> { ["SessionApi:Webhooks:PollInterval"] = "01:00:00" });
        await first.RegisterAsync(receiver.Url);
        await first.OpenAsync("1000");
        await first.DisposeAsync();
        Assert.Empty(receiver.Requests);
        Assert.Equal(1L, await ScalarOn(first.ConnectionString, "SELECT count(*) FROM outbox_deliveries WHERE delivered_at IS NULL"));

        var second = await Track(Task.FromResult(WebhookHarness.StartOn(first.ConnectionString, first.Clock)));
        Assert.Equal("1", Assert.Single(await receiver.WaitForEventAsync("session.opened")).Attempt);
    }

    [Fact]
    public async Task Two_instances_share_the_outbox_without_sending_an_event_twice()
    {
        var receiver = await Track(WebhookReceiver.StartAsync());
        var one = await Track(WebhookHarness.StartAsync(infrastructure));
        var two = await Track(Task.FromResult(WebhookHarness.StartOn(one.ConnectionString, one.Clock)));
        await one.RegisterAsync(receiver.Url, events: ["session.opened"]);
        await Task.WhenAll(Enumerable.Range(0, 40).Select(i => (i % 2 == 0 ? one : two).OpenAsync("1000")));

        var received = await receiver.WaitForEventAsync("session.opened", count: 40);
        await Task.Delay(300, Cancel);
        Assert.Equal(40, receiver.Requests.Count);
        Assert.Equal(40, receiver.Requests.Select(r => r.Id).Distinct().Count());
    }

    [Fact]
    public async Task A_change_that_rolls_back_writes_no_event()
    {
        var api = await Track(WebhookHarness.StartAsync(infrastructure));
        var receiver = await Track(WebhookReceiver.StartAsync());
        await api.RegisterAsync(receiver.Url);
        var id = (await api.OpenAsync("1000")).GetProperty("id").GetString()!;
        await receiver.WaitForEventAsync("session.opened");

        // The top-up's ledger row fails after the session row was updated (and the outbox written): all of it rolls back.
        await api.ExecuteAsync("""
            CREATE FUNCTION refuse_topups() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'no top-ups today'; END $$;
            CREATE TRIGGER refuse_topups AFTER INSERT ON session_ledger FOR EACH ROW WHEN (NEW.kind = 'topup') EXECUTE FUNCTION refuse_topups();
            """);
        using (var topUp = await api.GateAsync($"/internal/sessions/{id}/topups", new { amount = "500", paymentId = "pay_refused" }))
            Assert.Equal(HttpStatusCode.InternalServerError, topUp.StatusCode);
        Assert.Equal("1000", (await api.ScalarAsync<decimal>("SELECT balance FROM sessions WHERE id = $1", id)).ToString());

        // The same with OutboxWriter directly: enqueued, then rolled back.
        await using (var connection = new NpgsqlConnection(api.ConnectionString))
        {
            await connection.OpenAsync(Cancel);
            await using var transaction = await connection.BeginTransactionAsync(Cancel);
            await OutboxWriter.EnqueueAsync(connection, transaction, WebhookEvents.ApprovalRequested, new { approvalId = "apr_1" }, "demo",
                DateTimeOffset.UtcNow, Cancel);
            Assert.Equal(2L, (long)(await new NpgsqlCommand("SELECT count(*) FROM outbox", connection, transaction).ExecuteScalarAsync(Cancel))!);
            await transaction.RollbackAsync(Cancel);
            await Assert.ThrowsAnyAsync<ArgumentException>(() => OutboxWriter.EnqueueAsync(connection, null!, "session.typo", new { }, null, DateTimeOffset.UtcNow, Cancel));
        }

        await Task.Delay(300, Cancel);
        Assert.Equal(1L, await api.ScalarAsync<long>("SELECT count(*) FROM outbox"));
        Assert.Equal(1L, await api.ScalarAsync<long>("SELECT count(*) FROM outbox_deliveries"));
        Assert.Equal(["session.opened"], receiver.Requests.Select(r => r.Event));
    }

    static async Task<long> ScalarOn(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(Cancel);
        return (long)(await new NpgsqlCommand(sql, connection).ExecuteScalarAsync(Cancel))!;
    }
}
