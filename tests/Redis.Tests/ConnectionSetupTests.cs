using System.Diagnostics;
using Sessions.Hosting.Local;
using Sessions.Redis;
using Sessions.Testing;
using static Redis.Tests.TestSupport;

namespace Redis.Tests;

public class ConnectionSetupTests(InfrastructureFixture infra)
{
    [Fact]
    public async Task Password_authentication()
    {
        var password = "pw-" + Guid.NewGuid().ToString("N")[..12];
        await using var server = await LocalRedisServer.StartAsync(new() { Password = password }, Ct);

        await using var authenticated = Client(server.ConnectionString);   // 127.0.0.1:port,password=...
        Assert.True(await authenticated.SetAsync("k", "v", cancellationToken: Ct));
        Assert.Equal("v", (string?)await authenticated.GetAsync("k", Ct));

        await using var withUser = Client($"127.0.0.1:{server.Port},user=default,password={password}");
        Assert.Equal("v", (string?)await withUser.GetAsync("k", Ct));

        var timeout = TimeSpan.FromMilliseconds(400);
        await using var anonymous = Client($"127.0.0.1:{server.Port}", timeout);
        var noAuth = await Assert.ThrowsAsync<RedisConnectionException>(async () => await anonymous.GetAsync("k", Ct));
        Assert.Contains("NOAUTH", noAuth.Message);

        await using var wrong = Client($"127.0.0.1:{server.Port},password=wrong", timeout);
        var wrongPass = await Assert.ThrowsAsync<RedisConnectionException>(async () => await wrong.GetAsync("k", Ct));
        Assert.Contains("WRONGPASS", wrongPass.Message);
        Assert.DoesNotContain(password, wrongPass.Message);
    }

    [Fact]
    public async Task Default_database_and_client_name_are_applied_on_connect()
    {
        await using var redis = Client($"{infra.RedisConnectionString},defaultDatabase=7,name=redis-tests");
        var info = (string?)await redis.ExecuteAsync("CLIENT", ["INFO"], Ct);
        Assert.Contains(" db=7 ", info);
        Assert.Contains(" name=redis-tests ", info);
    }

    [Fact]
    public async Task Disposal_fails_unanswered_commands_with_ObjectDisposedException()
    {
        await using var server = await LocalRedisServer.StartAsync(new(), Ct);
        var redis = Client(server.ConnectionString);
        await using (var admin = Client(server.ConnectionString))
            await admin.ExecuteAsync("CLIENT", ["PAUSE", 5_000, "ALL"], Ct);
        var pending = Enumerable.Range(0, 5).Select(i => redis.GetAsync($"k{i}", Ct).AsTask()).ToArray();
        await Task.Delay(50, Ct);

        var clock = Stopwatch.StartNew();
        await redis.DisposeAsync();
        foreach (var command in pending)
            Assert.Contains("disposed", (await Assert.ThrowsAsync<ObjectDisposedException>(() => command)).Message);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"disposal took {clock.Elapsed}");
        Assert.False(redis.IsConnected);
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await redis.GetAsync("k", Ct));
        await redis.DisposeAsync();   // idempotent
    }

    [Fact]
    public async Task Disposal_while_disconnected_fails_waiting_commands()
    {
        var redis = Client($"127.0.0.1:{PortAllocator.GetFreePort()}");
        var waiting = redis.GetAsync("k", Ct).AsTask();
        await Task.Delay(50, Ct);
        redis.Dispose();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => waiting);
    }
}
