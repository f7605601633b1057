using Microsoft.Extensions.Time.Testing;
using McpServer.Tests.Support;
using Sessions.McpServer.Storage;
using Sessions.Testing;
using StackExchange.Redis;

namespace McpServer.Tests.Storage;

/// <summary>
/// The behaviours of PROTOCOLS.md §3 ("Test-asserted behaviours" and the store semantics) that both stores share, run
/// once per store by the subclasses at the end of this file. Time: the in-memory store runs on a manual clock (exact
/// steps, e.g. the sliding window's reads at 100 and 250 ms of a 200 ms TTL); Redis on real time with TTLs long enough
/// that a slow machine only ever waits longer, never too short. Keys are inserted in sorted order wherever the listing
/// order is not the point, so both orders agree (the in-memory store lists in first-insertion order, Redis in key order).
/// </summary>
public abstract class PayerStoreBehaviour : IAsyncDisposable
{
    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    protected TestPayerAccessor Accessor { get; } = new();

    /// <summary>A store whose entries set without a TTL get <paramref name="defaultTtl"/> (null = a long one).</summary>
    protected abstract IPayerStore CreateStore(TimeSpan? defaultTtl = null);

    /// <summary>Lets at least <paramref name="time"/> pass for the store.</summary>
    protected abstract Task ElapseAsync(TimeSpan time);

    /// <summary>The sliding-window TTL: long enough that the steps between reads (at most 3/4 of it) stay below it.</summary>
    protected abstract TimeSpan SlidingTtl { get; }

    /// <summary>A TTL the tests only wait out (nothing reads it before it expires).</summary>
    protected abstract TimeSpan ShortTtl { get; }

    /// <summary>Added to a TTL to be sure it is past (expiry is strict: at the expiry instant the entry still lives).</summary>
    protected abstract TimeSpan Margin { get; }

    protected abstract bool ListsInInsertionOrder { get; }

    protected string NewPayer()
    {
        var payer = Payers.NewAddress();
        Accessor.Set(payer);
        return payer;
    }

    static async Task<string[]> KeysAsync(IPayerStore store, PayerListOptions? options = null) =>
        [.. (await store.ListAsync(options ?? new(), Ct)).Items.Select(item => item.Key)];

    [Fact]
    public async Task Unknown_key_is_null()
    {
        NewPayer();
        var store = CreateStore();
        Assert.Null(await store.GetAsync("never-set", Ct));
    }

    [Fact]
    public async Task Set_then_get_returns_the_entry()
    {
        NewPayer();
        var store = CreateStore();
        var set = await store.SetAsync("notes/today", "buy milk ✓", TimeSpan.Zero, Ct);
        Assert.Equal(new PayerEntry("notes/today", "buy milk ✓", System.Text.Encoding.UTF8.GetByteCount("buy milk ✓"), null), set);
        Assert.Equal(set, await store.GetAsync("notes/today", Ct));
    }

    [Fact]
    public async Task Delete_is_true_once_then_false()
    {
        NewPayer();
        var store = CreateStore();
        await store.SetAsync("a", "1", cancellationToken: Ct);

        Assert.True(await store.DeleteAsync("a", Ct));
        Assert.False(await store.DeleteAsync("a", Ct));
        Assert.Null(await store.GetAsync("a", Ct));
        Assert.False(await store.DeleteAsync("never-set", Ct));
    }

    [Fact]
    public async Task Another_payers_delete_is_false_and_leaves_the_value()
    {
        var owner = NewPayer();
        var store = CreateStore();
        await store.SetAsync("mine", "x", cancellationToken: Ct);

        NewPayer();
        Assert.False(await store.DeleteAsync("mine", Ct));
        Assert.Equal(0, await store.DeleteManyAsync(["mine"], Ct));

        Accessor.Set(owner);
        Assert.Equal("x", (await store.GetAsync("mine", Ct))?.Value);
    }

    [Fact]
    public async Task Empty_listing_has_no_entries_and_no_cursor()
    {
        NewPayer();
        var page = await CreateStore().ListAsync(new(), Ct);
        Assert.Empty(page.Items);
        Assert.Null(page.NextCursor);
    }

    [Fact]
    public async Task Payers_are_isolated()
    {
        var first = NewPayer();
        var store = CreateStore();
        await store.SetManyAsync([new("a", "first a"), new("b", "first b")], cancellationToken: Ct);

        var second = NewPayer();
        Assert.Null(await store.GetAsync("a", Ct));
        Assert.Equal([null, null], (await store.GetManyAsync(["a", "b"], Ct)).Select(e => e?.Value));
        Assert.Empty((await store.ListAsync(new(), Ct)).Items);
        await store.SetAsync("a", "second a", cancellationToken: Ct);

        Accessor.Set(first);
        Assert.Equal(first, store.Payer);
        Assert.Equal("first a", (await store.GetAsync("a", Ct))?.Value);
        Assert.Equal(["a", "b"], await KeysAsync(store));
        Accessor.Set(second);
        Assert.Equal(second, store.Payer);
        Assert.Equal("second a", (await store.GetAsync("a", Ct))?.Value);
        Assert.Equal(["a"], await KeysAsync(store));
    }

    [Fact]
    public async Task Checksummed_and_lowercase_addresses_share_one_session()
    {
        var store = CreateStore();
        var key = "case-" + Guid.NewGuid().ToString("N");
        Accessor.Set(Payers.ChecksummedAddress);
        Assert.Equal(Payers.ChecksummedAddress.ToLowerInvariant(), store.Payer);
        await store.SetAsync(key, "same payer", cancellationToken: Ct);

        Accessor.Set(Payers.ChecksummedAddress.ToLowerInvariant());
        Assert.Equal("same payer", (await store.GetAsync(key, Ct))?.Value);
        Assert.True(await store.DeleteAsync(key, Ct));
    }

    [Fact]
    public async Task Without_a_payer_every_operation_throws_PayerRequiredException()
    {
        Accessor.Set(null);
        var store = CreateStore();

        Assert.Contains("payer", Assert.Throws<PayerRequiredException>(() => store.Payer).Message);
        await Assert.ThrowsAsync<PayerRequiredException>(() => store.GetAsync("a", Ct));
        await Assert.ThrowsAsync<PayerRequiredException>(() => store.SetAsync("a", "b", cancellationToken: Ct));
        await Assert.ThrowsAsync<PayerRequiredException>(() => store.DeleteAsync("a", Ct));
        await Assert.ThrowsAsync<PayerRequiredException>(() => store.ListAsync(new(), Ct));
        await Assert.ThrowsAsync<PayerRequiredException>(() => store.GetManyAsync(["a"], Ct));
        await Assert.ThrowsAsync<PayerRequiredException>(() => store.SetManyAsync([new("a", "b")], cancellationToken: Ct));
        await Assert.ThrowsAsync<PayerRequiredException>(() => store.DeleteManyAsync(["a"], Ct));
    }

    [Fact]
    public async Task Ttl_expires_the_entry_everywhere()
    {
        NewPayer();
        var store = CreateStore();
        var entry = await store.SetAsync("short", "soon gone", ShortTtl, Ct);
        await store.SetAsync("long", "stays", TimeSpan.FromHours(1), Ct);
        Assert.NotNull(entry.ExpiresAt);

        await ElapseAsync(ShortTtl + Margin);

        Assert.Null(await store.GetAsync("short", Ct));
        Assert.Equal(["long"], await KeysAsync(store));
        Assert.False(await store.DeleteAsync("short", Ct));
        Assert.Equal("stays", (await store.GetAsync("long", Ct))?.Value);
    }

    [Fact]
    public async Task Get_slides_the_expiry_by_the_entrys_own_ttl()
    {
        NewPayer();
        var store = CreateStore();
        var ttl = SlidingTtl;
        await store.SetAsync("k", "v", ttl, Ct);

        // 200 ms TTL: reads at 100 and 250 ms succeed (the second only because the first slid the expiry).
        await ElapseAsync(ttl / 2);
        var first = await store.GetAsync("k", Ct);
        Assert.Equal("v", first?.Value);
        await ElapseAsync(ttl * 3 / 4);
        var second = await store.GetAsync("k", Ct);
        Assert.Equal("v", second?.Value);
        Assert.True(second!.ExpiresAt > first!.ExpiresAt);

        await ElapseAsync(ttl + Margin);
        Assert.Null(await store.GetAsync("k", Ct));
    }

    [Fact]
    public async Task Listing_does_not_slide_the_expiry()
    {
        NewPayer();
        var store = CreateStore();
        var ttl = SlidingTtl;
        await store.SetAsync("k", "v", ttl, Ct);

        await ElapseAsync(ttl / 2);
        Assert.Equal(["k"], await KeysAsync(store));
        // Past the expiry set at write time, well before one a listing would have set.
        await ElapseAsync(ttl / 2 + ttl / 8);
        Assert.Null(await store.GetAsync("k", Ct));
    }

    [Fact]
    public async Task Per_key_ttl_overrides_the_default_and_zero_never_expires()
    {
        NewPayer();
        var store = CreateStore(defaultTtl: ShortTtl);
        var byDefault = await store.SetAsync("a-default", "1", cancellationToken: Ct);
        var never = await store.SetAsync("b-never", "2", TimeSpan.Zero, Ct);
        var longer = await store.SetAsync("c-longer", "3", TimeSpan.FromHours(1), Ct);
        Assert.NotNull(byDefault.ExpiresAt);
        Assert.Null(never.ExpiresAt);
        Assert.True(longer.ExpiresAt > byDefault.ExpiresAt);

        await ElapseAsync(ShortTtl + Margin);

        Assert.Null(await store.GetAsync("a-default", Ct));
        var stillThere = await store.GetAsync("b-never", Ct);
        Assert.Equal("2", stillThere?.Value);
        Assert.Null(stillThere!.ExpiresAt);
        Assert.Equal("3", (await store.GetAsync("c-longer", Ct))?.Value);
        Assert.Equal(["b-never", "c-longer"], await KeysAsync(store));
    }

    [Fact]
    public async Task Overwrite_replaces_value_and_ttl()
    {
        NewPayer();
        var store = CreateStore(defaultTtl: TimeSpan.FromHours(2));
        await store.SetAsync("a", "1", TimeSpan.Zero, Ct);
        var overwritten = await store.SetAsync("a", "2", cancellationToken: Ct);
        Assert.NotNull(overwritten.ExpiresAt);
        Assert.Equal("2", (await store.GetAsync("a", Ct))?.Value);

        var permanent = await store.SetAsync("a", "3", TimeSpan.Zero, Ct);
        Assert.Null(permanent.ExpiresAt);
        Assert.Null((await store.GetAsync("a", Ct))!.ExpiresAt);
        Assert.Equal(["a"], await KeysAsync(store));
    }

    [Fact]
    public async Task Listing_order_is_the_stores_order_and_overwrite_keeps_a_keys_place()
    {
        NewPayer();
        var store = CreateStore();
        foreach (var key in new[] { "c", "a", "b" }) await store.SetAsync(key, key, cancellationToken: Ct);
        await store.SetAsync("a", "a again", cancellationToken: Ct);

        string[] expected = ListsInInsertionOrder ? ["c", "a", "b"] : ["a", "b", "c"];
        var page = await store.ListAsync(new(), Ct);
        Assert.Equal(expected, page.Items.Select(item => item.Key));
        Assert.Equal("a again", page.Items.Single(item => item.Key == "a").Value);
    }

    [Fact]
    public async Task Prefix_filters_keys_ordinally()
    {
        NewPayer();
        var store = CreateStore();
        foreach (var key in new[] { "a", "notes/a", "notes/b", "notesX", "todo/1" }) await store.SetAsync(key, "value of " + key, cancellationToken: Ct);

        Assert.Equal(["notes/a", "notes/b"], await KeysAsync(store, new(Prefix: "notes/")));
        Assert.Equal(["notes/a", "notes/b", "notesX"], await KeysAsync(store, new(Prefix: "notes")));
        Assert.Equal(["todo/1"], await KeysAsync(store, new(Prefix: "todo/")));
        Assert.Empty(await KeysAsync(store, new(Prefix: "zzz")));
        Assert.Empty(await KeysAsync(store, new(Prefix: "Notes/")));
        Assert.Equal(5, (await KeysAsync(store, new(Prefix: ""))).Length);
    }

    [Fact]
    public async Task Prefix_applies_after_the_cursor()
    {
        NewPayer();
        var store = CreateStore();
        foreach (var key in new[] { "a", "b/1", "b/2", "c" }) await store.SetAsync(key, key, cancellationToken: Ct);

        // The cursor need not match the prefix: it positions the walk, then the prefix filters.
        Assert.Equal(["b/1", "b/2"], await KeysAsync(store, new(Prefix: "b/", Cursor: "a")));
        Assert.Equal(["b/2"], await KeysAsync(store, new(Prefix: "b/", Cursor: "b/1")));
        Assert.Empty(await KeysAsync(store, new(Prefix: "b/", Cursor: "b/2")));
        Assert.Equal(["c"], await KeysAsync(store, new(Cursor: "b/2")));
    }

    [Fact]
    public async Task Limit_two_over_three_gives_two_and_a_cursor_then_one_and_none()
    {
        NewPayer();
        var store = CreateStore();
        foreach (var key in new[] { "x1", "x2", "x3" }) await store.SetAsync(key, "v" + key, cancellationToken: Ct);

        var first = await store.ListAsync(new(Limit: 2), Ct);
        Assert.Equal([new PayerListItem("x1", "vx1"), new PayerListItem("x2", "vx2")], first.Items);
        Assert.Equal("x2", first.NextCursor);

        var second = await store.ListAsync(new(Cursor: first.NextCursor, Limit: 2), Ct);
        Assert.Equal([new PayerListItem("x3", "vx3")], second.Items);
        Assert.Null(second.NextCursor);
    }

    [Fact]
    public async Task A_cursor_is_returned_only_when_another_matching_entry_exists()
    {
        NewPayer();
        var store = CreateStore();
        foreach (var key in new[] { "p/1", "p/2", "q/1" }) await store.SetAsync(key, key, cancellationToken: Ct);

        var page = await store.ListAsync(new(Prefix: "p/", Limit: 2), Ct);
        Assert.Equal(["p/1", "p/2"], page.Items.Select(item => item.Key));
        Assert.Null(page.NextCursor);

        page = await store.ListAsync(new(Limit: 3), Ct);
        Assert.Equal(3, page.Items.Count);
        Assert.Null(page.NextCursor);
    }

    [Theory]
    [InlineData(null)]
    [InlineData(0)]
    [InlineData(-1)]
    public async Task No_positive_limit_lists_everything(int? limit)
    {
        NewPayer();
        var store = CreateStore();
        var keys = Enumerable.Range(0, 130).Select(i => $"item{i:000}").ToArray();
        await store.SetManyAsync([.. keys.Select(key => new KeyValuePair<string, string>(key, key))], cancellationToken: Ct);

        var page = await store.ListAsync(new(Limit: limit), Ct);
        Assert.Equal(keys, page.Items.Select(item => item.Key));
        Assert.Null(page.NextCursor);
    }

    [Fact]
    public async Task Keys_only_leaves_the_values_out()
    {
        NewPayer();
        var store = CreateStore();
        await store.SetManyAsync([new("k1", "one"), new("k2", "two"), new("k3", "three")], cancellationToken: Ct);

        var page = await store.ListAsync(new(Limit: 2, KeysOnly: true), Ct);
        Assert.Equal([new PayerListItem("k1", null), new PayerListItem("k2", null)], page.Items);
        Assert.Equal("k2", page.NextCursor);
    }

    [Fact]
    public async Task Batch_operations()
    {
        NewPayer();
        var store = CreateStore();

        var set = await store.SetManyAsync([new("a", "1"), new("b", "22")], TimeSpan.FromHours(1), Ct);
        Assert.Equal([1L, 2L], set.Select(entry => entry.Size));
        Assert.All(set, entry => Assert.NotNull(entry.ExpiresAt));
        Assert.Empty(await store.SetManyAsync([], cancellationToken: Ct));

        // getMany: one result per requested key, in order, missing ones null.
        var got = await store.GetManyAsync(["a", "missing", "b", "a"], Ct);
        Assert.Equal(["1", null, "22", "1"], got.Select(entry => entry?.Value));
        Assert.Empty(await store.GetManyAsync([], Ct));

        // deleteMany counts what it actually deleted: not the missing key, not the repeated one.
        Assert.Equal(2, await store.DeleteManyAsync(["a", "b", "missing", "a"], Ct));
        Assert.Equal(0, await store.DeleteManyAsync(["a"], Ct));
        Assert.Equal(0, await store.DeleteManyAsync([], Ct));
        Assert.Empty((await store.ListAsync(new(), Ct)).Items);
    }

    [Fact]
    public async Task Keys_values_and_ttls_are_validated()
    {
        NewPayer();
        var store = CreateStore();

        await Assert.ThrowsAsync<ArgumentException>(() => store.SetAsync("", "x", cancellationToken: Ct));
        await Assert.ThrowsAsync<ArgumentException>(() => store.SetAsync(new string('k', 257), "x", cancellationToken: Ct));
        await Assert.ThrowsAsync<ArgumentException>(() => store.SetAsync("a b", "x", cancellationToken: Ct));
        await Assert.ThrowsAsync<ArgumentException>(() => store.GetAsync("../etc", Ct));
        await Assert.ThrowsAsync<ArgumentException>(() => store.ListAsync(new(Prefix: "a b"), Ct));
        await Assert.ThrowsAsync<ArgumentException>(() => store.ListAsync(new(Cursor: "a//b"), Ct));
        var tooLarge = await Assert.ThrowsAsync<PayerValueTooLargeException>(() => store.SetAsync("a", new string('x', 65537), cancellationToken: Ct));
        Assert.Equal(65537, tooLarge.Size);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => store.SetAsync("a", "x", TimeSpan.FromMilliseconds(-1), Ct));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => store.SetManyAsync([new("a", "x")], TimeSpan.FromMilliseconds(-1), Ct));
        Assert.Empty((await store.ListAsync(new(), Ct)).Items);
        Assert.Equal(65536, (await store.SetAsync("max", new string('x', 65536), cancellationToken: Ct)).Size);
    }

    public virtual ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }
}

public sealed class InMemoryPayerStoreBehaviour : PayerStoreBehaviour
{
    readonly FakeTimeProvider _clock = new();

    protected override IPayerStore CreateStore(TimeSpan? defaultTtl = null) =>
        new InMemoryPayerStore(Accessor, new InMemoryPayerStoreOptions { DefaultTtl = defaultTtl ?? TimeSpan.FromHours(1) }, _clock);

    protected override Task ElapseAsync(TimeSpan time)
    {
        _clock.Advance(time);
        return Task.CompletedTask;
    }

    protected override TimeSpan SlidingTtl => TimeSpan.FromMilliseconds(200);
    protected override TimeSpan ShortTtl => TimeSpan.FromMilliseconds(200);
    protected override TimeSpan Margin => TimeSpan.FromMilliseconds(1);
    protected override bool ListsInInsertionOrder => true;
}

public sealed class RedisPayerStoreBehaviour(InfrastructureFixture infrastructure) : PayerStoreBehaviour
{
    readonly ConnectionMultiplexer _connection = ConnectionMultiplexer.Connect(infrastructure.RedisConnectionString);
    IDatabase _redis => _connection.GetDatabase();

    protected override IPayerStore CreateStore(TimeSpan? defaultTtl = null) =>
        new RedisPayerStore(_redis, Accessor, new RedisPayerStoreOptions { DefaultTtl = defaultTtl ?? TimeSpan.Zero });

    protected override Task ElapseAsync(TimeSpan time) => Task.Delay(time, Ct);

    // Reads at 2 s and 5 s of a 4 s TTL: the second is a full second past the original expiry and a second before the
    // slid one, so only a stall of more than a second between two awaits could upset it.
    protected override TimeSpan SlidingTtl => TimeSpan.FromSeconds(4);
    protected override TimeSpan ShortTtl => TimeSpan.FromMilliseconds(300);
    protected override TimeSpan Margin => TimeSpan.FromMilliseconds(700);
    protected override bool ListsInInsertionOrder => false;

    public override async ValueTask DisposeAsync()
    {
        await _connection.DisposeAsync();
        await base.DisposeAsync();
    }
}
