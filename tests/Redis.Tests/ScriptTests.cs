using Sessions.Redis;
using Sessions.Testing;
using static Redis.Tests.TestSupport;

namespace Redis.Tests;

public class ScriptTests(InfrastructureFixture infra)
{
    [Fact]
    public void Sha1_is_the_one_redis_computes()
    {
        // SHA1("return 1"), as printed by redis-cli SCRIPT LOAD "return 1".
        Assert.Equal("e0e1f9fabfc9d4800c877a703b823ac0578ff8db", new LuaScript("return 1").Sha1);
    }

    [Fact]
    public async Task Evaluate_passes_keys_and_args_and_returns_the_reply()
    {
        await using var redis = Client(infra.RedisConnectionString);
        var script = new LuaScript("redis.call('SET', KEYS[1], ARGV[1]); return {KEYS[1], ARGV[2], tonumber(ARGV[3]) + 1, redis.call('GET', KEYS[1])}");
        var key = Key("lua");
        var result = (await redis.EvaluateAsync(script, [key], ["value", "x", 41], Ct)).AsArray()!;
        Assert.Equal(key, result[0].AsString());
        Assert.Equal("x", result[1].AsString());
        Assert.Equal(42, result[2].AsInt64());
        Assert.Equal("value", result[3].AsString());
        Assert.Equal(script.Sha1, await redis.ScriptLoadAsync(script, Ct));
    }

    [Fact]
    public async Task Script_errors_surface_as_server_exceptions()
    {
        await using var redis = Client(infra.RedisConnectionString);
        var failing = new LuaScript("return redis.error_reply('MYERR custom failure ' .. ARGV[1])");
        var error = await Assert.ThrowsAsync<RedisServerException>(async () => await redis.EvaluateAsync(failing, args: ["7"], cancellationToken: Ct));
        Assert.Equal("MYERR custom failure 7", error.Message);
    }

    [Fact]
    public async Task After_script_flush_the_script_is_reloaded_transparently()
    {
        // A server of its own: SCRIPT FLUSH would disturb scripts of tests running in parallel.
        await using var server = await Sessions.Hosting.Local.LocalRedisServer.StartAsync(new(), Ct);
        await using var redis = Client(server.ConnectionString);
        var script = new LuaScript("return redis.call('INCRBY', KEYS[1], ARGV[1])");
        var key = Key("reload");

        Assert.Equal(1, (long)await redis.EvaluateAsync(script, [key], [1], Ct));   // first call: NOSCRIPT, then EVAL
        Assert.Equal(1, script.ReloadCount);
        Assert.Equal(3, (long)await redis.EvaluateAsync(script, [key], [2], Ct));   // cached now: EVALSHA only
        Assert.Equal(1, script.ReloadCount);

        await redis.ScriptFlushAsync(Ct);
        Assert.Equal(0, (long)(await redis.ExecuteAsync("SCRIPT", ["EXISTS", script.Sha1], Ct)).AsArray()![0]);
        Assert.Equal(6, (long)await redis.EvaluateAsync(script, [key], [3], Ct));
        Assert.Equal(2, script.ReloadCount);
        Assert.Equal(1, (long)(await redis.ExecuteAsync("SCRIPT", ["EXISTS", script.Sha1], Ct)).AsArray()![0]);
    }
}
