using Sessions.Redis;

namespace Redis.Tests;

internal static class TestSupport
{
    public static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A key no other test uses (all tests share one server).</summary>
    public static string Key(string name) => $"test:{name}:{Guid.NewGuid():N}";

    public static RedisClient Client(string connectionString, TimeSpan? commandTimeout = null)
    {
        var options = RedisOptions.Parse(connectionString);
        return new RedisClient(commandTimeout is { } timeout ? options with { CommandTimeout = timeout } : options);
    }

    /// <summary>
    /// A Lua script that keeps the (single-threaded) server busy for <paramref name="milliseconds"/>: everything sent
    /// meanwhile waits behind it, which is how tests make replies arrive late.
    /// </summary>
    public static readonly LuaScript BusyScript = new("""
        local t = redis.call('TIME')
        local start = t[1] * 1000000 + t[2]
        local limit = tonumber(ARGV[1]) * 1000
        repeat
          t = redis.call('TIME')
        until (t[1] * 1000000 + t[2]) - start >= limit
        return 'done'
        """);

    /// <summary>Polls until <paramref name="condition"/> holds or fails the test after <paramref name="timeout"/>.</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"Timed out after {timeout.TotalSeconds:0.#} s waiting for {what}.");
            await Task.Delay(20, Ct);
        }
    }
}
