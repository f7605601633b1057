using System.Diagnostics;
using Sessions.Hosting.Local;
using Sessions.Redis;
using static Redis.Tests.TestSupport;

namespace Redis.Tests;

// These tests block their own server (a busy script or CLIENT PAUSE), never the shared one.
public class TimeoutAndCancellationTests
{
    static readonly TimeSpan Margin = TimeSpan.FromMilliseconds(700);

    [Fact]
    public async Task A_timed_out_command_fails_quickly_and_does_not_shift_later_replies()
    {
        await using var server = await LocalRedisServer.StartAsync(new(), Ct);
        var timeout = TimeSpan.FromMilliseconds(300);
        await using (var setup = Client(server.ConnectionString, TimeSpan.FromSeconds(10)))
        {
            // Set-up with a generous timeout: only the commands under test race the 300 ms one.
            await setup.SetAsync("a", "value-a", cancellationToken: Ct);
            await setup.SetAsync("b", "value-b", cancellationToken: Ct);
            await setup.ScriptLoadAsync(BusyScript, Ct);
        }
        await using var redis = Client(server.ConnectionString, timeout);
        await WaitUntilAsync(async () =>
        {
            try { await redis.PingAsync(Ct); return true; }
            catch (RedisTimeoutException) { return false; }
        }, TimeSpan.FromSeconds(10), "the client to connect");

        var clock = Stopwatch.StartNew();
        var busy = redis.EvaluateAsync(BusyScript, args: [900], cancellationToken: Ct).AsTask();
        var queuedBehind = redis.GetAsync("a", Ct).AsTask();

        var error = await Assert.ThrowsAsync<RedisTimeoutException>(() => busy);
        Assert.InRange(clock.Elapsed, timeout - TimeSpan.FromMilliseconds(20), timeout + Margin);
        Assert.Contains("EVALSHA", error.Message);
        Assert.Contains("300 ms", error.Message);
        Assert.Contains(redis.Endpoint, error.Message);
        Assert.Equal(("EVALSHA", timeout, redis.Endpoint), (error.Command, error.Timeout, error.Endpoint));
        await Assert.ThrowsAsync<RedisTimeoutException>(() => queuedBehind);

        // Once the script ends, its late reply ("done") and GET a's reply go to the abandoned slots, not to newer commands.
        await WaitUntilAsync(async () =>
        {
            try
            {
                await redis.PingAsync(Ct);
                return true;
            }
            catch (RedisTimeoutException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(10), "the server to finish the busy script");
        Assert.Equal("value-b", (string?)await redis.GetAsync("b", Ct));
        var many = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => redis.GetAsync(i % 2 == 0 ? "a" : "b", Ct).AsTask()));
        Assert.Equal(Enumerable.Range(0, 50).Select(i => i % 2 == 0 ? "value-a" : "value-b"), many.Select(v => (string?)v));
    }

    [Fact]
    public async Task Cancellation_fails_the_caller_at_once_and_keeps_the_reply_order()
    {
        await using var server = await LocalRedisServer.StartAsync(new(), Ct);
        await using var redis = Client(server.ConnectionString);
        await using var admin = Client(server.ConnectionString);
        await redis.SetAsync("a", "value-a", cancellationToken: Ct);
        await redis.SetAsync("b", "value-b", cancellationToken: Ct);

        await admin.ExecuteAsync("CLIENT", ["PAUSE", 600, "ALL"], Ct);
        using var cancellation = new CancellationTokenSource();
        var cancelled = redis.GetAsync("a", cancellation.Token).AsTask();
        var kept = redis.GetAsync("b", Ct).AsTask();
        var clock = Stopwatch.StartNew();
        cancellation.CancelAfter(50);
        var error = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        Assert.True(clock.Elapsed < TimeSpan.FromMilliseconds(400), $"cancellation took {clock.Elapsed}");
        Assert.Equal(cancellation.Token, error.CancellationToken);
        Assert.False(kept.IsCompleted);

        // The pause ends: the cancelled GET's reply is dropped, the next one still gets its own.
        Assert.Equal("value-b", (string?)await kept);
        Assert.Equal("value-a", (string?)await redis.GetAsync("a", Ct));

        // An already cancelled token never sends anything.
        var precancelled = redis.GetAsync("a", new CancellationToken(canceled: true));
        Assert.True(precancelled.IsCanceled);
    }

    [Fact]
    public async Task A_command_to_a_dead_server_fails_within_its_timeout_with_a_clear_message()
    {
        var port = PortAllocator.GetFreePort();   // nothing listens there
        var timeout = TimeSpan.FromMilliseconds(500);
        await using var redis = Client($"127.0.0.1:{port}", timeout);
        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<RedisConnectionException>(async () => await redis.GetAsync("k", Ct));
        Assert.InRange(clock.Elapsed, timeout - TimeSpan.FromMilliseconds(20), timeout + Margin);
        Assert.Contains($"127.0.0.1:{port}", error.Message);
        Assert.Contains("GET was not sent", error.Message);
        Assert.Contains("refused", error.Message, StringComparison.OrdinalIgnoreCase);
        Assert.False(redis.IsConnected);
    }

    [Fact]
    public async Task Abort_connect_true_makes_ConnectAsync_throw_without_a_server()
    {
        var port = PortAllocator.GetFreePort();
        var options = RedisOptions.Parse($"127.0.0.1:{port},abortConnect=true,connectTimeout=300");
        var error = await Assert.ThrowsAsync<RedisConnectionException>(() => RedisClient.ConnectAsync(options, Ct));
        Assert.Contains($"127.0.0.1:{port}", error.Message);
    }
}
