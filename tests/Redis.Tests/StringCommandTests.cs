using Sessions.Redis;
using Sessions.Testing;
using static Redis.Tests.TestSupport;

namespace Redis.Tests;

public class StringCommandTests(InfrastructureFixture infra)
{
    [Fact]
    public async Task Ping_answers()
    {
        await using var redis = Client(infra.RedisConnectionString);
        Assert.True(await redis.PingAsync(Ct) < TimeSpan.FromSeconds(5));
        Assert.Equal("PONG", (await redis.ExecuteAsync("PING", [], Ct)).AsString());
        Assert.Equal("hi", (await redis.ExecuteAsync("PING", ["hi"], Ct)).AsString());
    }

    [Fact]
    public async Task Set_then_get_round_trips_strings_numbers_and_bytes()
    {
        await using var redis = Client(infra.RedisConnectionString);
        var key = Key("str");
        Assert.True(await redis.SetAsync(key, "héllo wörld ✓", cancellationToken: Ct));
        Assert.Equal("héllo wörld ✓", (string?)await redis.GetAsync(key, Ct));

        Assert.True(await redis.SetAsync(key, 12345L, cancellationToken: Ct));
        Assert.Equal(12345L, (long)await redis.GetAsync(key, Ct));

        Assert.True(await redis.SetAsync(key, 0.1, cancellationToken: Ct));
        Assert.Equal(0.1, (double)await redis.GetAsync(key, Ct));
    }

    [Fact]
    public async Task Values_are_binary_safe()
    {
        await using var redis = Client(infra.RedisConnectionString);
        var key = Key("bin");
        var bytes = Enumerable.Range(0, 256).Select(i => (byte)i).Concat("\r\n$-1\r\n*1\r\n"u8.ToArray()).ToArray();
        await redis.SetAsync(key, bytes, cancellationToken: Ct);
        Assert.Equal(bytes, (byte[]?)await redis.GetAsync(key, Ct));

        var large = new byte[3 * 1024 * 1024 + 17];
        Random.Shared.NextBytes(large);
        await redis.SetAsync(key, large, cancellationToken: Ct);
        Assert.Equal(large, (byte[]?)await redis.GetAsync(key, Ct));
    }

    [Fact]
    public async Task Empty_string_and_missing_key_are_different()
    {
        await using var redis = Client(infra.RedisConnectionString);
        var key = Key("empty");
        var missing = await redis.GetAsync(key, Ct);
        Assert.True(missing.IsNull);
        Assert.Null((string?)missing);
        Assert.Null((byte[]?)missing);

        await redis.SetAsync(key, "", cancellationToken: Ct);
        var empty = await redis.GetAsync(key, Ct);
        Assert.False(empty.IsNull);
        Assert.True(empty.IsNullOrEmpty);
        Assert.Equal("", (string?)empty);
        Assert.Empty(((byte[]?)empty)!);
    }

    [Fact]
    public async Task Set_NX_and_XX_report_whether_they_wrote()
    {
        await using var redis = Client(infra.RedisConnectionString);
        var key = Key("nx");
        Assert.False(await redis.SetAsync(key, "x", condition: SetCondition.Exists, cancellationToken: Ct));
        Assert.True((await redis.GetAsync(key, Ct)).IsNull);

        Assert.True(await redis.SetAsync(key, "first", condition: SetCondition.NotExists, cancellationToken: Ct));
        Assert.False(await redis.SetAsync(key, "second", condition: SetCondition.NotExists, cancellationToken: Ct));
        Assert.Equal("first", (string?)await redis.GetAsync(key, Ct));

        Assert.True(await redis.SetAsync(key, "third", condition: SetCondition.Exists, cancellationToken: Ct));
        Assert.Equal("third", (string?)await redis.GetAsync(key, Ct));
    }

    [Fact]
    public async Task Set_with_PX_expires()
    {
        await using var redis = Client(infra.RedisConnectionString);
        var key = Key("px");
        // 1.5 s: long enough that a loaded machine still reads the value before it expires.
        Assert.True(await redis.SetAsync(key, "v", TimeSpan.FromMilliseconds(1500), SetCondition.NotExists, Ct));
        var ttl = await redis.TimeToLiveAsync(key, Ct);
        Assert.NotNull(ttl);
        Assert.InRange(ttl.Value.TotalMilliseconds, 1, 1500);
        Assert.Equal("v", (string?)await redis.GetAsync(key, Ct));
        await Task.Delay(1700, Ct);
        Assert.True((await redis.GetAsync(key, Ct)).IsNull);   // Redis expires on access, so this is exact
        Assert.Null(await redis.TimeToLiveAsync(key, Ct));
    }

    [Fact]
    public async Task Expire_and_pexpire_set_a_ttl()
    {
        await using var redis = Client(infra.RedisConnectionString);
        var key = Key("expire");
        Assert.False(await redis.ExpireAsync(key, TimeSpan.FromSeconds(10), Ct));   // no such key
        await redis.SetAsync(key, "v", cancellationToken: Ct);
        Assert.Null(await redis.TimeToLiveAsync(key, Ct));   // no expiry yet

        Assert.True(await redis.ExpireAsync(key, TimeSpan.FromSeconds(100), Ct));   // EXPIRE
        Assert.InRange((await redis.TimeToLiveAsync(key, Ct))!.Value.TotalSeconds, 98, 100);

        Assert.True(await redis.ExpireAsync(key, TimeSpan.FromMilliseconds(120), Ct));   // PEXPIRE
        Assert.InRange((await redis.TimeToLiveAsync(key, Ct))!.Value.TotalMilliseconds, 1, 120);
        await Task.Delay(170, Ct);
        Assert.False(await redis.ExistsAsync(key, Ct));
    }

    [Fact]
    public async Task Mget_returns_values_in_key_order_with_nulls_for_missing_keys()
    {
        await using var redis = Client(infra.RedisConnectionString);
        var (a, b, c) = (Key("a"), Key("b"), Key("c"));
        await redis.SetAsync(a, "1", cancellationToken: Ct);
        await redis.SetAsync(c, "", cancellationToken: Ct);
        var values = await redis.GetManyAsync([a, b, c], Ct);
        Assert.Equal(3, values.Length);
        Assert.Equal("1", (string?)values[0]);
        Assert.True(values[1].IsNull);
        Assert.Equal("", (string?)values[2]);
        Assert.Empty(await redis.GetManyAsync([], Ct));
    }

    [Fact]
    public async Task Del_and_exists_with_one_or_many_keys()
    {
        await using var redis = Client(infra.RedisConnectionString);
        var (a, b, c) = (Key("a"), Key("b"), Key("c"));
        await redis.SetAsync(a, "1", cancellationToken: Ct);
        await redis.SetAsync(b, "2", cancellationToken: Ct);
        Assert.True(await redis.ExistsAsync(a, Ct));
        Assert.Equal(2, await redis.ExistsAsync([a, b, c], Ct));
        Assert.Equal(2, await redis.DeleteAsync([a, b, c], Ct));
        Assert.Equal(0, await redis.ExistsAsync([a, b, c], Ct));
        Assert.False(await redis.DeleteAsync(a, Ct));
        await redis.SetAsync(c, "3", cancellationToken: Ct);
        Assert.True(await redis.DeleteAsync(c, Ct));
    }

    [Fact]
    public async Task Incrby_and_decrby()
    {
        await using var redis = Client(infra.RedisConnectionString);
        var key = Key("counter");
        Assert.Equal(1, await redis.IncrementAsync(key, cancellationToken: Ct));
        Assert.Equal(11, await redis.IncrementAsync(key, 10, Ct));
        Assert.Equal(8, await redis.DecrementAsync(key, 3, Ct));
        Assert.Equal(7, await redis.DecrementAsync(key, cancellationToken: Ct));
        Assert.Equal(-5_000_000_000, await redis.DecrementAsync(key, 5_000_000_007, Ct));
    }

    [Fact]
    public async Task Server_errors_carry_the_server_message()
    {
        await using var redis = Client(infra.RedisConnectionString);
        var key = Key("wrongtype");
        await redis.HashSetAsync(key, "f", "v", Ct);
        var error = await Assert.ThrowsAsync<RedisServerException>(async () => await redis.GetAsync(key, Ct));
        Assert.Equal("WRONGTYPE", error.ErrorCode);
        Assert.Contains("Operation against a key holding the wrong kind of value", error.Message);

        var unknown = await Assert.ThrowsAsync<RedisServerException>(async () => await redis.ExecuteAsync("NOSUCHCOMMAND", ["x"], Ct));
        Assert.StartsWith("ERR unknown command", unknown.Message);

        var notANumber = Key("nan");
        await redis.SetAsync(notANumber, "abc", cancellationToken: Ct);
        Assert.Contains("not an integer", (await Assert.ThrowsAsync<RedisServerException>(async () => await redis.IncrementAsync(notANumber, cancellationToken: Ct))).Message);

        // The connection is still fine afterwards.
        Assert.Equal("abc", (string?)await redis.GetAsync(notANumber, Ct));
    }

    [Fact]
    public async Task Execute_runs_any_command_and_returns_the_raw_reply()
    {
        await using var redis = Client(infra.RedisConnectionString);
        var key = Key("raw");
        Assert.Equal("OK", (await redis.ExecuteAsync("SET", [key, "v"], Ct)).AsString());
        Assert.Equal(RedisResultKind.BulkString, (await redis.ExecuteAsync("GET", [key], Ct)).Kind);
#pragma warning disable xUnit1051 // the params overload (no token) is part of the API under test
        Assert.Equal("v", (await redis.ExecuteAsync("GET", key)).AsString());
#pragma warning restore xUnit1051
        Assert.Equal(1, (long)await redis.ExecuteAsync("RPUSH", [key + ":list", "a"], Ct));
        Assert.Equal(2, (long)await redis.ExecuteAsync("RPUSH", [key + ":list", "b"], Ct));
        var range = (await redis.ExecuteAsync("LRANGE", [key + ":list", 0, -1], Ct)).AsArray()!;
        Assert.Equal(["a", "b"], range.Select(r => r.AsString()));
        Assert.True((await redis.ExecuteAsync("GET", [key + ":missing"], Ct)).IsNull);
    }
}
