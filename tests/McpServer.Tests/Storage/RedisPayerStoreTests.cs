using McpServer.Tests.Support;
using Sessions.McpServer.Storage;
using Sessions.Testing;
using StackExchange.Redis;

namespace McpServer.Tests.Storage;

// What only the Redis store does: its layout, index upkeep, sliding expiry in Redis, key order, close. The payer is set
// per test through an AsyncLocal accessor; the behaviours both stores share are in PayerStoreBehaviour.
public sealed class RedisPayerStoreTests(InfrastructureFixture infrastructure) : IAsyncDisposable
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    readonly ConnectionMultiplexer _connection = ConnectionMultiplexer.Connect(infrastructure.RedisConnectionString);
    IDatabase _redis => _connection.GetDatabase();
    readonly TestPayerAccessor _payers = new();

    RedisPayerStore Store(TimeSpan? defaultTtl = null) => new(_redis, _payers, new RedisPayerStoreOptions { DefaultTtl = defaultTtl ?? TimeSpan.Zero });

    string NewPayer()
    {
        var payer = Payers.NewAddress();
        _payers.Set(payer);
        return payer;
    }

    [Fact]
    public async Task A_payer_that_is_not_an_address_is_refused()
    {
        _payers.Set("0xabc}:evil");
        await Assert.ThrowsAsync<InvalidOperationException>(() => Store().GetAsync("a", Ct));
    }

    [Fact]
    public void A_negative_default_ttl_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Store(TimeSpan.FromMilliseconds(-1)));
        Assert.Equal(TimeSpan.Zero, new RedisPayerStore(_redis, _payers).DefaultTtl);
    }

    [Fact]
    public async Task Set_get_delete_and_the_redis_layout()
    {
        var payer = NewPayer();
        var store = Store();

        var entry = await store.SetAsync("notes/today", "hello", cancellationToken: Ct);
        Assert.Equal(new PayerEntry("notes/today", "hello", 5, null), entry);
        Assert.Equal(entry, await store.GetAsync("notes/today", Ct));
        Assert.Equal("hello", (string?)await _redis.StringGetAsync($"kv:{{{payer}}}:notes/today"));
        Assert.Equal(0, await _redis.SortedSetScoreAsync($"idx:{{{payer}}}", "notes/today"));
        Assert.Null((string?)await _redis.HashGetAsync($"ttl:{{{payer}}}", "notes/today"));

        Assert.True(await store.DeleteAsync("notes/today", Ct));
        Assert.False(await store.DeleteAsync("notes/today", Ct));
        Assert.Null(await store.GetAsync("notes/today", Ct));
        Assert.Equal(0, await _redis.SortedSetLengthAsync($"idx:{{{payer}}}"));
    }

    [Fact]
    public async Task A_ttl_is_kept_per_key_and_a_get_restarts_it_in_redis()
    {
        var payer = NewPayer();
        var store = Store();

        var set = await store.SetAsync("k", "v", TimeSpan.FromMinutes(10), Ct);
        Assert.Equal("600000", (string?)await _redis.HashGetAsync($"ttl:{{{payer}}}", "k"));
        Assert.Equal((double)set.ExpiresAt!.Value.ToUnixTimeMilliseconds(), await _redis.SortedSetScoreAsync($"exp:{{{payer}}}", "k"));

        await Task.Delay(50, Ct);
        var read = await store.GetAsync("k", Ct);
        Assert.True(read!.ExpiresAt > set.ExpiresAt);
        // Redis's own expiry and the listing index moved with it.
        Assert.Equal((double)read.ExpiresAt!.Value.ToUnixTimeMilliseconds(), await _redis.SortedSetScoreAsync($"exp:{{{payer}}}", "k"));
        var remaining = await _redis.KeyTimeToLiveAsync($"kv:{{{payer}}}:k");
        Assert.InRange(remaining!.Value, TimeSpan.FromMinutes(9), TimeSpan.FromMinutes(10));

        // Overwritten without expiry: no TTL left anywhere.
        await store.SetAsync("k", "v2", TimeSpan.Zero, Ct);
        Assert.Null((string?)await _redis.HashGetAsync($"ttl:{{{payer}}}", "k"));
        Assert.Null(await _redis.SortedSetScoreAsync($"exp:{{{payer}}}", "k"));
        Assert.Null((await store.GetAsync("k", Ct))!.ExpiresAt);

        await store.SetAsync("k", "v3", TimeSpan.FromMinutes(1), Ct);
        await store.DeleteAsync("k", Ct);
        Assert.Null((string?)await _redis.HashGetAsync($"ttl:{{{payer}}}", "k"));
        Assert.Null(await _redis.SortedSetScoreAsync($"exp:{{{payer}}}", "k"));
    }

    [Fact]
    public async Task A_value_written_without_a_ttl_record_keeps_its_fixed_expiry()
    {
        // Values written by the store before sliding expiry existed have a PEXPIRE but no ttl hash entry.
        var payer = NewPayer();
        var store = Store();
        await _redis.StringSetAsync($"kv:{{{payer}}}:old", "v", TimeSpan.FromMinutes(5));
        var before = await _redis.KeyTimeToLiveAsync($"kv:{{{payer}}}:old");

        var read = await store.GetAsync("old", Ct);

        Assert.Equal("v", read?.Value);
        Assert.NotNull(read!.ExpiresAt);
        Assert.True(await _redis.KeyTimeToLiveAsync($"kv:{{{payer}}}:old") <= before);
    }

    [Fact]
    public async Task Listing_removes_expired_keys_from_every_index()
    {
        var payer = NewPayer();
        var store = Store();
        await store.SetAsync("a", "1", TimeSpan.FromMilliseconds(300), Ct);
        await store.SetAsync("b", "2", TimeSpan.FromMilliseconds(300), Ct);
        await store.SetAsync("b", "2 again", cancellationToken: Ct);

        await Task.Delay(1000, Ct);

        Assert.Null(await store.GetAsync("a", Ct));
        Assert.Equal(new PayerEntry("b", "2 again", 7, null), await store.GetAsync("b", Ct));
        Assert.Equal(["b"], (await store.ListAsync(new(), Ct)).Items.Select(i => i.Key));
        Assert.Equal(1, await _redis.SortedSetLengthAsync($"idx:{{{payer}}}"));
        Assert.Equal(0, await _redis.SortedSetLengthAsync($"exp:{{{payer}}}"));
        Assert.Null((string?)await _redis.HashGetAsync($"ttl:{{{payer}}}", "a"));
    }

    [Fact]
    public async Task Listing_skips_and_unindexes_keys_whose_value_vanished()
    {
        var payer = NewPayer();
        var store = Store();
        foreach (var key in new[] { "a", "b", "c", "d" }) await store.SetAsync(key, key, cancellationToken: Ct);
        // Values lost behind the index's back (maxmemory eviction, manual DEL): the listing must not show them.
        await _redis.KeyDeleteAsync([$"kv:{{{payer}}}:a", $"kv:{{{payer}}}:b"]);

        var page = await store.ListAsync(new(Limit: 1), Ct);
        Assert.Equal([new PayerListItem("c", "c")], page.Items);
        Assert.Equal("c", page.NextCursor);
        page = await store.ListAsync(new(Cursor: "c", Limit: 1), Ct);
        Assert.Equal([new PayerListItem("d", "d")], page.Items);
        Assert.Null(page.NextCursor);
        Assert.Equal(2, await _redis.SortedSetLengthAsync($"idx:{{{payer}}}"));
    }

    [Fact]
    public async Task Listing_is_in_key_order_and_a_cursor_survives_its_keys_deletion()
    {
        NewPayer();
        var store = Store();
        foreach (var key in new[] { "x3", "x1", "x2" }) await store.SetAsync(key, key, cancellationToken: Ct);

        var first = await store.ListAsync(new(Limit: 1), Ct);
        Assert.Equal(["x1"], first.Items.Select(i => i.Key));
        await store.DeleteAsync("x1", Ct);

        var rest = await store.ListAsync(new(Cursor: first.NextCursor), Ct);
        Assert.Equal(["x2", "x3"], rest.Items.Select(i => i.Key));
    }

    [Fact]
    public async Task Close_keeps_the_data()
    {
        NewPayer();
        var store = Store();
        await store.SetAsync("kept", "v", cancellationToken: Ct);

        await store.CloseAsync(Ct);
        await store.DisposeAsync();

        Assert.Equal("v", (await Store().GetAsync("kept", Ct))?.Value);
    }

    [Theory]
    [InlineData("a", true)]
    [InlineData("notes/2025-01-01/today.md", true)]
    [InlineData("user@example.com:profile+x=1~", true)]
    [InlineData("/a", false)]
    [InlineData("a/", false)]
    [InlineData("a//b", false)]
    [InlineData("a/../b", false)]
    [InlineData(".", false)]
    [InlineData("a\nb", false)]
    [InlineData("ключ", false)]
    [InlineData("a%20b", false)]
    public void Key_rules(string key, bool valid) => Assert.Equal(valid, PayerStoreLimits.IsValidKey(key, out _));

    public ValueTask DisposeAsync() => _connection.DisposeAsync();
}
