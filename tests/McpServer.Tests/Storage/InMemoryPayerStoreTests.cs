using Microsoft.Extensions.Time.Testing;
using McpServer.Tests.Support;
using Sessions.McpServer.Storage;
using Sessions.Testing;

namespace McpServer.Tests.Storage;

// What only the in-memory store does (PROTOCOLS.md §3): the global LRU with its hard cap, exact expiry instants,
// first-insertion order, close. The behaviours both stores share are in PayerStoreBehaviour.
public sealed class InMemoryPayerStoreTests
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    readonly TestPayerAccessor _payers = new();
    readonly FakeTimeProvider _clock = new();

    InMemoryPayerStore Store(int maxEntries = 10_000, TimeSpan? defaultTtl = null) =>
        new(_payers, new InMemoryPayerStoreOptions { MaxEntries = maxEntries, DefaultTtl = defaultTtl ?? TimeSpan.FromHours(1) }, _clock);

    string NewPayer()
    {
        var payer = Payers.NewAddress();
        _payers.Set(payer);
        return payer;
    }

    async Task<string[]> KeysAsync(IPayerStore store, string payer)
    {
        _payers.Set(payer);
        return [.. (await store.ListAsync(new(), Ct)).Items.Select(item => item.Key)];
    }

    [Fact]
    public void Defaults_are_10000_entries_and_one_hour()
    {
        var store = new InMemoryPayerStore(_payers);
        Assert.Equal(10_000, store.MaxEntries);
        Assert.Equal(TimeSpan.FromHours(1), store.DefaultTtl);
        Assert.Equal(10_000, new InMemoryPayerStoreOptions().MaxEntries);
        Assert.Equal(TimeSpan.FromHours(1), new InMemoryPayerStoreOptions().DefaultTtl);
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(-1, 0)]
    [InlineData(int.MinValue, 0)]
    [InlineData(1, -1)]
    public void Constructor_refuses_a_cap_below_one_and_a_negative_ttl(int maxEntries, int ttlMs)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new InMemoryPayerStore(_payers,
            new InMemoryPayerStoreOptions { MaxEntries = maxEntries, DefaultTtl = TimeSpan.FromMilliseconds(ttlMs) }, _clock));
        Assert.Contains(maxEntries < 1 ? "MaxEntries" : "DefaultTtl", error.ParamName);
    }

    [Fact]
    public void Constructor_accepts_one_entry_and_a_zero_ttl()
    {
        var store = Store(maxEntries: 1, defaultTtl: TimeSpan.Zero);
        Assert.Equal(1, store.MaxEntries);
        Assert.Equal(TimeSpan.Zero, store.DefaultTtl);
        Assert.Throws<ArgumentNullException>(() => new InMemoryPayerStore(null!));
    }

    [Fact]
    public async Task Default_ttl_applies_and_zero_means_never()
    {
        NewPayer();
        var expiring = Store(defaultTtl: TimeSpan.FromHours(1));
        var set = await expiring.SetAsync("k", "v", cancellationToken: Ct);
        Assert.Equal(_clock.GetUtcNow() + TimeSpan.FromHours(1), set.ExpiresAt);

        var forever = Store(defaultTtl: TimeSpan.Zero);
        Assert.Null((await forever.SetAsync("k", "v", cancellationToken: Ct)).ExpiresAt);

        _clock.Advance(TimeSpan.FromDays(1000));
        Assert.Null(await expiring.GetAsync("k", Ct));
        Assert.Equal("v", (await forever.GetAsync("k", Ct))?.Value);
    }

    [Fact]
    public async Task Expired_only_when_the_clock_is_strictly_past_the_expiry()
    {
        NewPayer();
        var store = Store();
        var set = await store.SetAsync("k", "v", TimeSpan.FromSeconds(1), Ct);

        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(_clock.GetUtcNow(), set.ExpiresAt);
        var read = await store.GetAsync("k", Ct);
        Assert.Equal("v", read?.Value);
        Assert.Equal(_clock.GetUtcNow() + TimeSpan.FromSeconds(1), read!.ExpiresAt);

        _clock.Advance(TimeSpan.FromSeconds(1) + TimeSpan.FromTicks(1));
        Assert.Null(await store.GetAsync("k", Ct));
    }

    [Fact]
    public async Task Get_slides_with_the_entrys_own_ttl_not_the_default()
    {
        NewPayer();
        var store = Store(defaultTtl: TimeSpan.FromHours(1));
        await store.SetAsync("own", "v", TimeSpan.FromSeconds(5), Ct);
        await store.SetAsync("default", "v", cancellationToken: Ct);
        await store.SetAsync("never", "v", TimeSpan.Zero, Ct);

        _clock.Advance(TimeSpan.FromSeconds(4));
        var now = _clock.GetUtcNow();
        var got = await store.GetManyAsync(["own", "default", "never"], Ct);
        Assert.Equal([now + TimeSpan.FromSeconds(5), now + TimeSpan.FromHours(1), null], got.Select(entry => entry!.ExpiresAt));

        _clock.Advance(TimeSpan.FromSeconds(5) + TimeSpan.FromTicks(1));
        Assert.Equal([null, "v", "v"], (await store.GetManyAsync(["own", "default", "never"], Ct)).Select(entry => entry?.Value));
    }

    [Fact]
    public async Task At_the_cap_the_least_recently_used_entry_is_evicted()
    {
        NewPayer();
        var store = Store(maxEntries: 3);
        foreach (var key in new[] { "a", "b", "c", "d" }) await store.SetAsync(key, key, cancellationToken: Ct);

        Assert.Equal(3, store.Count);
        Assert.Equal(["b", "c", "d"], (await store.ListAsync(new(), Ct)).Items.Select(item => item.Key));
        Assert.Null(await store.GetAsync("a", Ct));
    }

    [Fact]
    public async Task Get_promotes_an_entry()
    {
        NewPayer();
        var store = Store(maxEntries: 3);
        foreach (var key in new[] { "a", "b", "c" }) await store.SetAsync(key, key, cancellationToken: Ct);
        Assert.NotNull(await store.GetAsync("a", Ct));

        await store.SetAsync("d", "d", cancellationToken: Ct);
        Assert.Equal(["a", "c", "d"], (await store.ListAsync(new(), Ct)).Items.Select(item => item.Key));

        // getMany reads like get: it promotes too.
        Assert.NotNull((await store.GetManyAsync(["c"], Ct))[0]);
        await store.SetAsync("e", "e", cancellationToken: Ct);
        Assert.Equal(["c", "d", "e"], (await store.ListAsync(new(), Ct)).Items.Select(item => item.Key).Order());
    }

    [Fact]
    public async Task Overwrite_promotes_an_entry_and_evicts_nothing()
    {
        NewPayer();
        var store = Store(maxEntries: 3);
        foreach (var key in new[] { "a", "b", "c" }) await store.SetAsync(key, key, cancellationToken: Ct);

        await store.SetAsync("a", "a2", cancellationToken: Ct);
        Assert.Equal(3, store.Count);
        await store.SetAsync("d", "d", cancellationToken: Ct);

        Assert.Equal([new PayerListItem("a", "a2"), new("c", "c"), new("d", "d")], (await store.ListAsync(new(), Ct)).Items);
    }

    [Fact]
    public async Task Eviction_crosses_payers()
    {
        var first = NewPayer();
        var store = Store(maxEntries: 3);
        await store.SetAsync("a", "first's", cancellationToken: Ct);
        var second = NewPayer();
        await store.SetAsync("b", "second's", cancellationToken: Ct);
        await store.SetAsync("c", "second's", cancellationToken: Ct);

        await store.SetAsync("d", "second's", cancellationToken: Ct);

        Assert.Empty(await KeysAsync(store, first));
        Assert.Equal(["b", "c", "d"], await KeysAsync(store, second));
        // And back: the first payer's new key pushes out the second payer's oldest.
        _payers.Set(first);
        await store.SetAsync("e", "first's", cancellationToken: Ct);
        Assert.Equal(["e"], await KeysAsync(store, first));
        Assert.Equal(["c", "d"], await KeysAsync(store, second));
    }

    [Fact]
    public async Task Listing_does_not_promote()
    {
        NewPayer();
        var store = Store(maxEntries: 3);
        foreach (var key in new[] { "a", "b", "c" }) await store.SetAsync(key, key, cancellationToken: Ct);
        Assert.Single((await store.ListAsync(new(Prefix: "a"), Ct)).Items);
        Assert.Equal(3, (await store.ListAsync(new(KeysOnly: true), Ct)).Items.Count);

        await store.SetAsync("d", "d", cancellationToken: Ct);
        Assert.Equal(["b", "c", "d"], (await store.ListAsync(new(), Ct)).Items.Select(item => item.Key));
    }

    [Fact]
    public async Task Listing_is_in_first_insertion_order()
    {
        NewPayer();
        var store = Store();
        foreach (var key in new[] { "zeta", "alpha", "mid" }) await store.SetAsync(key, key, cancellationToken: Ct);
        await store.SetAsync("zeta", "overwritten", cancellationToken: Ct);
        Assert.Equal(["zeta", "alpha", "mid"], (await store.ListAsync(new(), Ct)).Items.Select(item => item.Key));

        // Deleted and set again: a new first insertion, at the end.
        await store.DeleteAsync("zeta", Ct);
        await store.SetAsync("zeta", "back", cancellationToken: Ct);
        Assert.Equal(["alpha", "mid", "zeta"], (await store.ListAsync(new(), Ct)).Items.Select(item => item.Key));

        // Expired and removed (by a get), then set again: at the end too.
        await store.SetAsync("alpha", "short", TimeSpan.FromSeconds(1), Ct);
        _clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Null(await store.GetAsync("alpha", Ct));
        await store.SetAsync("alpha", "again", cancellationToken: Ct);
        Assert.Equal(["mid", "zeta", "alpha"], (await store.ListAsync(new(), Ct)).Items.Select(item => item.Key));

        // Expired but not yet removed, then overwritten: still held, so it keeps its place (as aixyz's store).
        await store.SetAsync("mid", "short", TimeSpan.FromSeconds(1), Ct);
        _clock.Advance(TimeSpan.FromSeconds(2));
        await store.SetAsync("mid", "fresh", cancellationToken: Ct);
        Assert.Equal(["mid", "zeta", "alpha"], (await store.ListAsync(new(), Ct)).Items.Select(item => item.Key));
    }

    [Fact]
    public async Task Listing_removes_expired_entries_and_frees_their_place_under_the_cap()
    {
        NewPayer();
        var store = Store(maxEntries: 3);
        await store.SetAsync("a", "a", TimeSpan.FromSeconds(1), Ct);
        await store.SetAsync("b", "b", cancellationToken: Ct);
        _clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(2, store.Count);

        Assert.Equal(["b"], (await store.ListAsync(new(), Ct)).Items.Select(item => item.Key));
        Assert.Equal(1, store.Count);
        await store.SetAsync("c", "c", cancellationToken: Ct);
        await store.SetAsync("d", "d", cancellationToken: Ct);
        Assert.Equal(["b", "c", "d"], (await store.ListAsync(new(), Ct)).Items.Select(item => item.Key));
    }

    [Fact]
    public async Task A_cursor_whose_key_is_gone_ends_the_listing()
    {
        NewPayer();
        var store = Store();
        foreach (var key in new[] { "a", "b", "c" }) await store.SetAsync(key, key, cancellationToken: Ct);
        var first = await store.ListAsync(new(Limit: 1), Ct);
        Assert.Equal("a", first.NextCursor);

        // As in aixyz: the walk never passes a cursor that is no longer there (delete pages after walking them).
        await store.DeleteAsync("a", Ct);
        var next = await store.ListAsync(new(Cursor: first.NextCursor, Limit: 1), Ct);
        Assert.Empty(next.Items);
        Assert.Null(next.NextCursor);
        Assert.Empty((await store.ListAsync(new(Cursor: "never-set"), Ct)).Items);
    }

    [Fact]
    public async Task Deleting_an_expired_entry_is_false()
    {
        NewPayer();
        var store = Store();
        await store.SetManyAsync([new("a", "a"), new("b", "b")], TimeSpan.FromSeconds(1), Ct);
        _clock.Advance(TimeSpan.FromSeconds(2));
        Assert.False(await store.DeleteAsync("a", Ct));
        Assert.Equal(0, await store.DeleteManyAsync(["b"], Ct));
        Assert.Equal(0, store.Count);
    }

    [Fact]
    public async Task Close_drops_every_payers_entries()
    {
        var first = NewPayer();
        var store = Store();
        await store.SetAsync("a", "a", cancellationToken: Ct);
        NewPayer();
        await store.SetAsync("b", "b", cancellationToken: Ct);

        await store.CloseAsync(Ct);

        Assert.Equal(0, store.Count);
        Assert.Null(await store.GetAsync("b", Ct));
        Assert.Empty(await KeysAsync(store, first));
        await store.SetAsync("c", "still usable", cancellationToken: Ct);
        Assert.Equal(1, store.Count);
        await store.DisposeAsync();
        Assert.Equal(0, store.Count);
    }

    [Fact]
    public async Task Concurrent_payers_never_exceed_the_cap_or_see_each_others_keys()
    {
        var store = Store(maxEntries: 100);
        var payers = Enumerable.Range(0, 8).Select(_ => Payers.NewAddress()).ToArray();

        await Task.WhenAll(payers.Select(payer => Task.Run(async () =>
        {
            _payers.Set(payer);
            for (var i = 0; i < 300; i++)
            {
                await store.SetAsync($"k{i % 40}", payer, cancellationToken: Ct);
                if (await store.GetAsync($"k{(i * 7) % 40}", Ct) is { } entry) Assert.Equal(payer, entry.Value);
                if (i % 50 == 0)
                    Assert.All((await store.ListAsync(new(), Ct)).Items, item => Assert.Equal(payer, item.Value));
            }
        }, Ct)));

        Assert.Equal(100, store.Count);
        var listed = 0;
        foreach (var payer in payers)
        {
            _payers.Set(payer);
            var items = (await store.ListAsync(new(), Ct)).Items;
            Assert.All(items, item => Assert.Equal(payer, item.Value));
            listed += items.Count;
        }
        Assert.Equal(100, listed);
    }
}
