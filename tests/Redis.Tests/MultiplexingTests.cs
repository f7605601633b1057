using Sessions.Testing;
using static Redis.Tests.TestSupport;

namespace Redis.Tests;

public class MultiplexingTests(InfrastructureFixture infra)
{
    [Fact]
    public async Task A_thousand_concurrent_callers_on_one_connection_each_get_their_own_reply()
    {
        await using var redis = Client(infra.RedisConnectionString);
        var connectionId = (long)await redis.ExecuteAsync("CLIENT", ["ID"], Ct);
        var prefix = Key("many");

        await Task.WhenAll(Enumerable.Range(0, 1000).Select(async i =>
        {
            await Task.Yield();   // really concurrent: every caller starts on the thread pool
            var key = $"{prefix}:{i}";
            var value = $"value-{i}-{Guid.NewGuid():N}";
            Assert.True(await redis.SetAsync(key, value, cancellationToken: Ct));
            Assert.Equal(value, (string?)await redis.GetAsync(key, Ct));
            Assert.Equal(i + 1, await redis.IncrementAsync(key + ":n", i + 1, Ct));
            Assert.Equal(value, (string?)(await redis.GetManyAsync([key], Ct))[0]);
        }));

        // Still the same single connection: nothing was dropped or re-established along the way.
        Assert.Equal(connectionId, (long)await redis.ExecuteAsync("CLIENT", ["ID"], Ct));
    }

    [Fact]
    public async Task Commands_issued_without_awaiting_are_pipelined_and_answered_in_order()
    {
        await using var redis = Client(infra.RedisConnectionString);
        var key = Key("pipeline");
        var increments = Enumerable.Range(0, 5000).Select(_ => redis.IncrementAsync(key, cancellationToken: Ct).AsTask()).ToArray();
        var results = await Task.WhenAll(increments);
        Assert.Equal(Enumerable.Range(1, 5000).Select(i => (long)i), results);
    }

    [Fact]
    public async Task Large_and_small_replies_interleave_correctly()
    {
        await using var redis = Client(infra.RedisConnectionString);
        var big = Key("big");
        var small = Key("small");
        var payload = new string('x', 200_000);
        await redis.SetAsync(big, payload, cancellationToken: Ct);
        await redis.SetAsync(small, "s", cancellationToken: Ct);
        var tasks = Enumerable.Range(0, 200).Select(i => i % 2 == 0
            ? redis.GetAsync(big, Ct).AsTask().ContinueWith(t => ((string?)t.Result)?.Length == payload.Length, Ct)
            : redis.GetAsync(small, Ct).AsTask().ContinueWith(t => (string?)t.Result == "s", Ct));
        Assert.All(await Task.WhenAll(tasks), Assert.True);
    }
}
