using System.Collections.Concurrent;
using System.Diagnostics;
using Sessions.Hosting.Local;
using Sessions.Redis;
using static Redis.Tests.TestSupport;

namespace Redis.Tests;

public class ReconnectTests
{
    [Fact]
    public async Task Server_restart_fails_in_flight_commands_then_the_same_client_recovers()
    {
        var port = PortAllocator.GetFreePort();
        var server = await LocalRedisServer.StartAsync(new() { Port = port }, Ct);
        try
        {
            var options = RedisOptions.Parse(server.ConnectionString) with
            {
                // Long enough that stopping a paused server on a loaded machine (2 cores, other test hosts) stays inside it.
                CommandTimeout = TimeSpan.FromSeconds(3),
                ReconnectMaxDelay = TimeSpan.FromMilliseconds(200),
            };
            await using var redis = new RedisClient(options);
            var events = new ConcurrentQueue<RedisConnectionEventKind>();
            redis.Connected += (_, e) => events.Enqueue(e.Kind);
            redis.ConnectionFailed += (_, e) => events.Enqueue(e.Kind);
            var script = new LuaScript("return redis.call('INCR', KEYS[1])");
            Assert.Equal(1, (long)await redis.EvaluateAsync(script, ["counter"], cancellationToken: Ct));
            Assert.Equal(1, script.ReloadCount);

            // Hold commands on the server (CLIENT PAUSE from a second connection), then stop it under them.
            await using (var admin = Client(server.ConnectionString))
                await admin.ExecuteAsync("CLIENT", ["PAUSE", 10_000, "ALL"], Ct);
            var inFlight = Enumerable.Range(0, 20).Select(i => redis.GetAsync($"k{i}", Ct).AsTask()).ToArray();
            await Task.Delay(100, Ct);
            Assert.All(inFlight, t => Assert.False(t.IsCompleted));
            var clock = Stopwatch.StartNew();
            await server.StopAsync();
            foreach (var command in inFlight)
            {
                var lost = await Assert.ThrowsAsync<RedisConnectionException>(() => command);
                Assert.Contains($"connection to {redis.Endpoint} was lost", lost.Message);
                Assert.Contains("may or may not have been executed", lost.Message);
            }
            // Failed by the lost connection, well before their own timeout would have.
            Assert.True(clock.Elapsed < TimeSpan.FromMilliseconds(2500), $"in-flight commands failed after {clock.Elapsed}");

            // While nothing listens, a new command waits up to its timeout for a connection, then says why there is none.
            var down = await Assert.ThrowsAsync<RedisConnectionException>(async () => await redis.SetAsync("x", "1", cancellationToken: Ct));
            Assert.Contains($"no connection to {redis.Endpoint}", down.Message);
            Assert.Contains("refused", down.Message, StringComparison.OrdinalIgnoreCase);

            server = await LocalRedisServer.StartAsync(new() { Port = port }, Ct);
            await WaitUntilAsync(() => Task.FromResult(redis.IsConnected), TimeSpan.FromSeconds(5), "the client to reconnect");
            Assert.True(await redis.SetAsync("x", "after restart", cancellationToken: Ct));
            Assert.Equal("after restart", (string?)await redis.GetAsync("x", Ct));

            // The new server has an empty script cache: EVALSHA gets NOSCRIPT and the client re-sends the source.
            Assert.Equal(1, (long)await redis.EvaluateAsync(script, ["counter"], cancellationToken: Ct));
            Assert.Equal(2, script.ReloadCount);
            // The first connection can complete before the handlers above are attached (the constructor connects in the
            // background), so its Connected may or may not be there; everything after it is ordered.
            var afterFirstConnect = events.SkipWhile(kind => kind == RedisConnectionEventKind.Connected).ToArray();
            Assert.Equal(RedisConnectionEventKind.ConnectionLost, afterFirstConnect[0]);
            Assert.Contains(RedisConnectionEventKind.ConnectAttemptFailed, afterFirstConnect);
            Assert.Equal(RedisConnectionEventKind.Connected, afterFirstConnect[^1]);
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task Commands_issued_while_disconnected_are_sent_once_the_server_is_back()
    {
        var port = PortAllocator.GetFreePort();
        var options = new RedisOptions
        {
            Host = "127.0.0.1",
            Port = port,
            CommandTimeout = TimeSpan.FromSeconds(10),
            ReconnectMaxDelay = TimeSpan.FromMilliseconds(100),
        };
        await using var redis = new RedisClient(options);
        var key = Key("backlog");
        var waiting = Enumerable.Range(1, 10).Select(_ => redis.IncrementAsync(key, cancellationToken: Ct).AsTask()).ToArray();
        await Task.Delay(300, Ct);
        Assert.All(waiting, t => Assert.False(t.IsCompleted));

        await using var server = await LocalRedisServer.StartAsync(new() { Port = port }, Ct);
        // Sent in the order they were issued, after the handshake.
        Assert.Equal(Enumerable.Range(1, 10).Select(i => (long)i), await Task.WhenAll(waiting));
    }
}
