using Sessions.Redis;
using Sessions.Testing;
using static Redis.Tests.TestSupport;

namespace Redis.Tests;

public class HashAndSortedSetTests(InfrastructureFixture infra)
{
    [Fact]
    public async Task Hash_commands()
    {
        await using var redis = Client(infra.RedisConnectionString);
        var key = Key("hash");
        Assert.True((await redis.HashGetAsync(key, "a", Ct)).IsNull);
        Assert.Empty(await redis.HashGetAllAsync(key, Ct));

        Assert.Equal(3, await redis.HashSetAsync(key, [new("a", "1"), new("b", "two"), new("c", new byte[] { 0, 1 })], Ct));
        Assert.False(await redis.HashSetAsync(key, "a", "one", Ct));   // existing field updated
        Assert.True(await redis.HashSetAsync(key, "d", "", Ct));

        Assert.Equal("one", (string?)await redis.HashGetAsync(key, "a", Ct));
        var many = await redis.HashGetManyAsync(key, ["b", "missing", "d"], Ct);
        Assert.Equal("two", (string?)many[0]);
        Assert.True(many[1].IsNull);
        Assert.Equal("", (string?)many[2]);

        var all = await redis.HashGetAllAsync(key, Ct);
        Assert.Equal(["a", "b", "c", "d"], all.Keys.Order());
        Assert.Equal(new byte[] { 0, 1 }, (byte[]?)all["c"]);

        Assert.Equal(5, await redis.HashIncrementAsync(key, "n", 5, Ct));
        Assert.Equal(3, await redis.HashIncrementAsync(key, "n", -2, Ct));
        Assert.Equal(2, await redis.HashDeleteAsync(key, ["a", "b", "missing"], Ct));
        Assert.Equal(["c", "d", "n"], (await redis.HashGetAllAsync(key, Ct)).Keys.Order());
    }

    [Fact]
    public async Task Sorted_set_commands()
    {
        await using var redis = Client(infra.RedisConnectionString);
        var key = Key("zset");
        Assert.Equal(0, await redis.SortedSetLengthAsync(key, Ct));
        Assert.True(await redis.SortedSetAddAsync(key, "b", 2, Ct));
        Assert.False(await redis.SortedSetAddAsync(key, "b", 2.5, Ct));   // score update, not new
        Assert.Equal(3, await redis.SortedSetAddAsync(key, [new("a", 1), new("c", 3), new("neg", double.NegativeInfinity)], Ct));
        Assert.Equal(4, await redis.SortedSetLengthAsync(key, Ct));

        Assert.Equal(2.5, await redis.SortedSetScoreAsync(key, "b", Ct));
        Assert.Equal(double.NegativeInfinity, await redis.SortedSetScoreAsync(key, "neg", Ct));
        Assert.Null(await redis.SortedSetScoreAsync(key, "missing", Ct));

        Assert.Equal(["neg", "a", "b", "c"], (await redis.SortedSetRangeByRankAsync(key, cancellationToken: Ct)).Select(v => (string?)v));
        Assert.Equal(["b", "c"], (await redis.SortedSetRangeByRankAsync(key, -2, -1, Ct)).Select(v => (string?)v));
        var withScores = await redis.SortedSetRangeByRankWithScoresAsync(key, 1, 2, Ct);
        Assert.Equal([new SortedSetEntry("a", 1), new SortedSetEntry("b", 2.5)], withScores);

        Assert.Equal(["a", "b"], (await redis.SortedSetRangeByScoreAsync(key, 1, 2.5, cancellationToken: Ct)).Select(v => (string?)v));
        Assert.Equal(["neg", "a", "b", "c"], (await redis.SortedSetRangeByScoreAsync(key, cancellationToken: Ct)).Select(v => (string?)v));
        Assert.Equal(["b"], (await redis.SortedSetRangeByScoreAsync(key, 0, 10, offset: 1, count: 1, cancellationToken: Ct)).Select(v => (string?)v));
        var scored = await redis.SortedSetRangeByScoreWithScoresAsync(key, 2, double.PositiveInfinity, cancellationToken: Ct);
        Assert.Equal([new SortedSetEntry("b", 2.5), new SortedSetEntry("c", 3)], scored);

        Assert.Equal(2, await redis.SortedSetRemoveAsync(key, ["a", "neg", "missing"], Ct));
        Assert.Equal(["b", "c"], (await redis.SortedSetRangeByRankAsync(key, cancellationToken: Ct)).Select(v => (string?)v));
    }

    [Fact]
    public async Task Scan_visits_every_key_exactly_once()
    {
        // A database of its own (SELECT on connect), so no other test's keys change the keyspace during the scan.
        const int database = 5;
        await using var redis = Client($"{infra.RedisConnectionString},defaultDatabase={database}");
        await redis.FlushDatabaseAsync(Ct);
        const int count = 1500;
        var expected = Enumerable.Range(0, count).Select(i => $"scan:{i}").ToHashSet();
        await Task.WhenAll(expected.Select(k => redis.SetAsync(k, "v", cancellationToken: Ct).AsTask()));
        await redis.SetAsync("other:1", "v", cancellationToken: Ct);

        var seen = new List<string>();
        await foreach (var key in redis.ScanAsync("scan:*", pageSize: 100, Ct)) seen.Add(key);
        Assert.Equal(count, seen.Count);
        Assert.True(expected.SetEquals(seen));

        var everything = new List<string>();
        await foreach (var key in redis.ScanAsync(cancellationToken: Ct)) everything.Add(key);
        Assert.Equal(count + 1, everything.Distinct().Count());

        // The keys really are in database 5, not in 0.
        await using var database0 = Client(infra.RedisConnectionString);
        Assert.False(await database0.ExistsAsync("scan:0", Ct));
    }
}
