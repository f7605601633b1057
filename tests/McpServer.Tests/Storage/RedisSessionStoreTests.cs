using McpServer.Tests.Support;
using Sessions.McpServer.Storage;
using Sessions.Redis;
using Sessions.Testing;

namespace McpServer.Tests;

// RedisSessionStore on the real test Redis; the payer is set per test through an AsyncLocal accessor.
public sealed class SessionStoreTests(InfrastructureFixture infrastructure) : IAsyncDisposable
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    readonly RedisClient _redis = new(RedisOptions.Parse(infrastructure.RedisConnectionString));
    readonly TestPayerAccessor _payers = new();

    RedisSessionStore Store() => new(_redis, _payers);

    string NewPayer()
    {
        var payer = Payers.NewAddress();
        _payers.Set(payer);
        return payer;
    }

    [Fact]
    public async Task Without_a_payer_every_operation_throws_a_clear_exception()
    {
        _payers.Set(null);
        var store = Store();

        var error = Assert.Throws<PayerRequiredException>(() => store.Payer);
        Assert.Contains("payer", error.Message);
        await Assert.ThrowsAsync<PayerRequiredException>(() => store.GetAsync("a", Ct));
        await Assert.ThrowsAsync<PayerRequiredException>(() => store.SetAsync("a", "b", cancellationToken: Ct));
        await Assert.ThrowsAsync<PayerRequiredException>(() => store.DeleteAsync("a", Ct));
        await Assert.ThrowsAsync<PayerRequiredException>(() => store.ListAsync(new(), Ct));
    }

    [Fact]
    public async Task Payer_is_read_per_call_and_case_insensitive()
    {
        var store = Store();
        _payers.Set(Payers.ChecksummedAddress);
        Assert.Equal(Payers.ChecksummedAddress.ToLowerInvariant(), store.Payer);
        var key = "k" + Guid.NewGuid().ToString("N");
        await store.SetAsync(key, "v", cancellationToken: Ct);

        _payers.Set(Payers.ChecksummedAddress.ToLowerInvariant());
        Assert.Equal("v", (await store.GetAsync(key, Ct))?.Value);

        NewPayer();
        Assert.Null(await store.GetAsync(key, Ct));
    }

    [Fact]
    public async Task A_payer_that_is_not_an_address_is_refused()
    {
        _payers.Set("0xabc}:evil");
        await Assert.ThrowsAsync<InvalidOperationException>(() => Store().GetAsync("a", Ct));
    }

    [Fact]
    public async Task Set_get_delete_and_the_redis_layout()
    {
        var payer = NewPayer();
        var store = Store();

        var entry = await store.SetAsync("notes/today", "hello", cancellationToken: Ct);
        Assert.Equal(new SessionEntry("notes/today", "hello", 5, null), entry);
        Assert.Equal(entry, await store.GetAsync("notes/today", Ct));
        Assert.Equal("hello", (string?)await _redis.GetAsync($"kv:{{{payer}}}:notes/today", Ct));
        Assert.Equal(0, await _redis.SortedSetScoreAsync($"idx:{{{payer}}}", "notes/today", Ct));

        Assert.True(await store.DeleteAsync("notes/today", Ct));
        Assert.False(await store.DeleteAsync("notes/today", Ct));
        Assert.Null(await store.GetAsync("notes/today", Ct));
        Assert.Equal(0, await _redis.SortedSetLengthAsync($"idx:{{{payer}}}", Ct));
    }

    [Fact]
    public async Task Ttl_expires_and_overwrite_without_ttl_makes_a_key_permanent()
    {
        var payer = NewPayer();
        var store = Store();

        var entry = await store.SetAsync("a", "1", TimeSpan.FromMilliseconds(200), Ct);
        Assert.NotNull(entry.ExpiresAt);
        Assert.Equal(entry.ExpiresAt, (await store.GetAsync("a", Ct))!.ExpiresAt);
        await store.SetAsync("b", "2", TimeSpan.FromMilliseconds(200), Ct);
        await store.SetAsync("b", "2 again", cancellationToken: Ct);

        await Task.Delay(400, Ct);

        Assert.Null(await store.GetAsync("a", Ct));
        Assert.Equal(new SessionEntry("b", "2 again", 7, null), await store.GetAsync("b", Ct));
        var page = await store.ListAsync(new(), Ct);
        Assert.Equal(["b"], page.Items.Select(i => i.Key));
        // The listing removed the expired key from both indexes.
        Assert.Equal(1, await _redis.SortedSetLengthAsync($"idx:{{{payer}}}", Ct));
        Assert.Equal(0, await _redis.SortedSetLengthAsync($"exp:{{{payer}}}", Ct));
    }

    [Fact]
    public async Task Listing_skips_and_unindexes_keys_whose_value_vanished()
    {
        var payer = NewPayer();
        var store = Store();
        foreach (var key in new[] { "a", "b", "c", "d" }) await store.SetAsync(key, key, cancellationToken: Ct);
        // Values lost behind the index's back (eviction, manual DEL): the listing must not show them.
        await _redis.DeleteAsync([$"kv:{{{payer}}}:a", $"kv:{{{payer}}}:b"], Ct);

        var page = await store.ListAsync(new(Limit: 1), Ct);
        Assert.Equal([new SessionListItem("c", "c")], page.Items);
        Assert.Equal("c", page.NextCursor);
        page = await store.ListAsync(new(Cursor: "c", Limit: 1), Ct);
        Assert.Equal([new SessionListItem("d", "d")], page.Items);
        Assert.Null(page.NextCursor);
        Assert.Equal(2, await _redis.SortedSetLengthAsync($"idx:{{{payer}}}", Ct));
    }

    [Fact]
    public async Task Limit_over_three_gives_two_and_a_cursor_then_one_and_none()
    {
        NewPayer();
        var store = Store();
        foreach (var key in new[] { "x3", "x1", "x2" }) await store.SetAsync(key, key, cancellationToken: Ct);

        var first = await store.ListAsync(new(Limit: 2, KeysOnly: true), Ct);
        Assert.Equal([new SessionListItem("x1", null), new SessionListItem("x2", null)], first.Items);
        Assert.Equal("x2", first.NextCursor);
        var second = await store.ListAsync(new(Cursor: first.NextCursor, Limit: 2), Ct);
        Assert.Equal([new SessionListItem("x3", "x3")], second.Items);
        Assert.Null(second.NextCursor);
    }

    [Fact]
    public async Task Empty_listing()
    {
        NewPayer();
        var page = await Store().ListAsync(new(), Ct);
        Assert.Empty(page.Items);
        Assert.Null(page.NextCursor);
    }

    [Fact]
    public async Task Batch_operations()
    {
        NewPayer();
        var store = Store();

        var set = await store.SetManyAsync([new("a", "1"), new("b", "22")], TimeSpan.FromMinutes(1), Ct);
        Assert.All(set, entry => Assert.NotNull(entry.ExpiresAt));

        var got = await store.GetManyAsync(["a", "missing", "b"], Ct);
        Assert.Equal(["1", null, "22"], got.Select(e => e?.Value));

        Assert.Equal(2, await store.DeleteManyAsync(["a", "b", "missing", "a"], Ct));
        Assert.Equal(0, await store.DeleteManyAsync(["a"], Ct));
        Assert.Empty((await store.ListAsync(new(), Ct)).Items);
    }

    [Fact]
    public async Task Other_payers_cannot_delete()
    {
        NewPayer();
        var store = Store();
        await store.SetAsync("mine", "x", cancellationToken: Ct);
        var owner = store.Payer;

        NewPayer();
        Assert.False(await store.DeleteAsync("mine", Ct));
        _payers.Set(owner);
        Assert.Equal("x", (await store.GetAsync("mine", Ct))?.Value);
    }

    [Fact]
    public async Task Limits_are_enforced()
    {
        NewPayer();
        var store = Store();

        await Assert.ThrowsAsync<ArgumentException>(() => store.SetAsync("", "x", cancellationToken: Ct));
        await Assert.ThrowsAsync<ArgumentException>(() => store.SetAsync(new string('k', 257), "x", cancellationToken: Ct));
        await Assert.ThrowsAsync<ArgumentException>(() => store.SetAsync("a b", "x", cancellationToken: Ct));
        await Assert.ThrowsAsync<ArgumentException>(() => store.GetAsync("../etc", Ct));
        var tooLarge = await Assert.ThrowsAsync<SessionValueTooLargeException>(() => store.SetAsync("a", new string('x', 65537), cancellationToken: Ct));
        Assert.Equal(65537, tooLarge.Size);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => store.SetAsync("a", "x", TimeSpan.Zero, Ct));
        await Assert.ThrowsAsync<ArgumentException>(() => store.ListAsync(new(Limit: 101), Ct));
        await Assert.ThrowsAsync<ArgumentException>(() => store.ListAsync(new(Limit: 0), Ct));
        Assert.Empty((await store.ListAsync(new(), Ct)).Items);
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
    public void Key_rules(string key, bool valid) => Assert.Equal(valid, SessionLimits.IsValidKey(key, out _));

    public ValueTask DisposeAsync() => _redis.DisposeAsync();
}
