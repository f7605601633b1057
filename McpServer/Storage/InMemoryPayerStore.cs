using Microsoft.Extensions.Hosting;

namespace Sessions.McpServer.Storage;

/// <summary>
/// <see cref="IPayerStore"/> in process memory with exactly the semantics of aixyz's InMemoryPayerStore
/// (PROTOCOLS.md §3): one LRU across all payers keyed (payer, key) with a hard <see cref="InMemoryPayerStoreOptions.MaxEntries"/>
/// (the least recently used entry goes first, whoever's it is; get and overwrite promote), per-entry TTL
/// (set's TTL, else the default; zero = never) that every get restarts with the entry's own TTL, expired iff now is past
/// the expiry (strictly), removed lazily on get and list. Lists walk the payer's keys in first-insertion order (an
/// overwrite keeps the position) and touch neither the LRU nor TTLs.
/// One lock guards everything: each operation is short and never waits on I/O. Not shared between instances:
/// use the Redis store when the service scales out.
/// </summary>
public sealed class InMemoryPayerStore : IPayerStore, IAsyncDisposable
{
    sealed class Entry(string payer, string key)
    {
        public string Payer { get; } = payer;
        public string Key { get; } = key;
        public string Value { get; set; } = "";
        public long Size { get; set; }
        /// <summary>The entry's own TTL, reused when a get slides the expiry; zero = never expires.</summary>
        public TimeSpan Ttl { get; set; }
        public DateTimeOffset? ExpiresAt { get; set; }
        public LinkedListNode<Entry>? Recency { get; set; }
        public LinkedListNode<Entry>? Position { get; set; }
    }

    readonly IPayerContextAccessor _payers;
    readonly TimeProvider _time;
    readonly int _maxEntries;
    readonly TimeSpan _defaultTtl;
    readonly Lock _lock = new();
    readonly Dictionary<(string Payer, string Key), Entry> _entries = [];
    // First = least recently used (set, overwritten or read longest ago).
    readonly LinkedList<Entry> _recency = new();
    // Per payer, its entries in first-insertion order (what list walks).
    readonly Dictionary<string, LinkedList<Entry>> _insertionOrder = new(StringComparer.Ordinal);

    /// <exception cref="ArgumentOutOfRangeException">MaxEntries below 1 or a negative DefaultTtl.</exception>
    public InMemoryPayerStore(IPayerContextAccessor payers, InMemoryPayerStoreOptions? options = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(payers);
        options ??= new InMemoryPayerStoreOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxEntries, 1, "options.MaxEntries");
        ArgumentOutOfRangeException.ThrowIfLessThan(options.DefaultTtl, TimeSpan.Zero, "options.DefaultTtl");
        _payers = payers;
        _maxEntries = options.MaxEntries;
        _defaultTtl = options.DefaultTtl;
        _time = timeProvider ?? TimeProvider.System;
    }

    public string Payer => PayerKey.Resolve(_payers);

    public int MaxEntries => _maxEntries;

    public TimeSpan DefaultTtl => _defaultTtl;

    /// <summary>Entries held, expired ones not yet removed included (they count against the cap until removed, as in aixyz).</summary>
    public int Count
    {
        get { lock (_lock) return _entries.Count; }
    }

    public Task<PayerEntry?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        PayerStoreLimits.ThrowIfInvalidKey(key);
        cancellationToken.ThrowIfCancellationRequested();
        var payer = Payer;
        lock (_lock) return Task.FromResult(Get(payer, key, _time.GetUtcNow()));
    }

    public Task<IReadOnlyList<PayerEntry?>> GetManyAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keys);
        foreach (var key in keys) PayerStoreLimits.ThrowIfInvalidKey(key, nameof(keys));
        cancellationToken.ThrowIfCancellationRequested();
        if (keys.Count == 0) return Task.FromResult<IReadOnlyList<PayerEntry?>>([]);
        var payer = Payer;
        lock (_lock)
        {
            var now = _time.GetUtcNow();
            return Task.FromResult<IReadOnlyList<PayerEntry?>>([.. keys.Select(key => Get(payer, key, now))]);
        }
    }

    public async Task<PayerEntry> SetAsync(string key, string value, TimeSpan? ttl = null, CancellationToken cancellationToken = default) =>
        (await SetManyAsync([new(key, value)], ttl, cancellationToken))[0];

    public Task<IReadOnlyList<PayerEntry>> SetManyAsync(IReadOnlyList<KeyValuePair<string, string>> entries, TimeSpan? ttl = null,
        CancellationToken cancellationToken = default)
    {
        var sizes = PayerStoreLimits.ThrowIfInvalidEntries(entries, ttl);
        cancellationToken.ThrowIfCancellationRequested();
        if (entries.Count == 0) return Task.FromResult<IReadOnlyList<PayerEntry>>([]);
        var payer = Payer;
        var lifetime = ttl ?? _defaultTtl;
        lock (_lock)
        {
            var now = _time.GetUtcNow();
            var result = new PayerEntry[entries.Count];
            for (var i = 0; i < entries.Count; i++)
                result[i] = Set(payer, entries[i].Key, entries[i].Value, sizes[i], lifetime, now);
            return Task.FromResult<IReadOnlyList<PayerEntry>>(result);
        }
    }

    public async Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default) =>
        await DeleteManyAsync([key], cancellationToken) > 0;

    public Task<long> DeleteManyAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keys);
        foreach (var key in keys) PayerStoreLimits.ThrowIfInvalidKey(key, nameof(keys));
        cancellationToken.ThrowIfCancellationRequested();
        if (keys.Count == 0) return Task.FromResult(0L);
        var payer = Payer;
        lock (_lock)
        {
            var now = _time.GetUtcNow();
            long deleted = 0;
            foreach (var key in keys)
            {
                if (!_entries.TryGetValue((payer, key), out var entry)) continue;
                // An expired entry is already gone for every reader, so deleting it does not count (same as Redis's DEL).
                if (!IsExpired(entry, now)) deleted++;
                Remove(entry);
            }
            return Task.FromResult(deleted);
        }
    }

    public Task<PayerPage> ListAsync(PayerListOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!PayerStoreLimits.IsValidPrefix(options.Prefix, out var error)) throw new ArgumentException(error, nameof(options));
        var cursor = string.IsNullOrEmpty(options.Cursor) ? null : options.Cursor;
        if (cursor is not null) PayerStoreLimits.ThrowIfInvalidKey(cursor, nameof(options));
        cancellationToken.ThrowIfCancellationRequested();
        var payer = Payer;
        var limit = options.Limit is { } requested && requested > 0 ? requested : int.MaxValue;
        var prefix = options.Prefix ?? "";

        lock (_lock)
        {
            var items = new List<PayerListItem>();
            if (!_insertionOrder.TryGetValue(payer, out var order)) return Task.FromResult(new PayerPage(items, null));
            var now = _time.GetUtcNow();
            var pastCursor = cursor is null;
            var more = false;
            for (var node = order.First; node is not null;)
            {
                var entry = node.Value;
                node = node.Next;
                if (IsExpired(entry, now))
                {
                    Remove(entry);
                    continue;
                }
                // Entries up to and including the cursor are skipped before the prefix is looked at, so a cursor that
                // does not match the prefix still positions the walk. A cursor that is gone (deleted, expired,
                // evicted) is never passed: the page is empty, as in aixyz.
                if (!pastCursor)
                {
                    pastCursor = entry.Key == cursor;
                    continue;
                }
                if (!entry.Key.StartsWith(prefix, StringComparison.Ordinal)) continue;
                if (items.Count >= limit)
                {
                    more = true;
                    break;
                }
                items.Add(new PayerListItem(entry.Key, options.KeysOnly ? null : entry.Value));
            }
            return Task.FromResult(new PayerPage(items, more ? items[^1].Key : null));
        }
    }

    public Task CloseAsync(CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            _entries.Clear();
            _recency.Clear();
            _insertionOrder.Clear();
        }
        return Task.CompletedTask;
    }

    public async ValueTask DisposeAsync() => await CloseAsync();

    PayerEntry? Get(string payer, string key, DateTimeOffset now)
    {
        if (!_entries.TryGetValue((payer, key), out var entry)) return null;
        if (IsExpired(entry, now))
        {
            Remove(entry);
            return null;
        }
        _recency.Remove(entry.Recency!);
        _recency.AddLast(entry.Recency!);
        entry.ExpiresAt = ExpiryFor(entry.Ttl, now);
        return ToSessionEntry(entry);
    }

    PayerEntry Set(string payer, string key, string value, long size, TimeSpan ttl, DateTimeOffset now)
    {
        // An entry still held (even expired but not yet removed) is overwritten in place: it keeps its list position
        // and moves to the most recently used end; the store does not grow, so nothing is evicted.
        if (_entries.TryGetValue((payer, key), out var entry))
        {
            _recency.Remove(entry.Recency!);
            _recency.AddLast(entry.Recency!);
        }
        else
        {
            if (_entries.Count >= _maxEntries) Remove(_recency.First!.Value);
            entry = new Entry(payer, key);
            entry.Recency = _recency.AddLast(entry);
            if (!_insertionOrder.TryGetValue(payer, out var order)) _insertionOrder[payer] = order = new LinkedList<Entry>();
            entry.Position = order.AddLast(entry);
            _entries[(payer, key)] = entry;
        }
        entry.Value = value;
        entry.Size = size;
        entry.Ttl = ttl;
        entry.ExpiresAt = ExpiryFor(ttl, now);
        return ToSessionEntry(entry);
    }

    void Remove(Entry entry)
    {
        _entries.Remove((entry.Payer, entry.Key));
        _recency.Remove(entry.Recency!);
        var order = entry.Position!.List!;
        order.Remove(entry.Position);
        if (order.Count == 0) _insertionOrder.Remove(entry.Payer);
    }

    static bool IsExpired(Entry entry, DateTimeOffset now) => entry.ExpiresAt is { } expiresAt && now > expiresAt;

    static DateTimeOffset? ExpiryFor(TimeSpan ttl, DateTimeOffset now) => ttl > TimeSpan.Zero ? now + ttl : null;

    static PayerEntry ToSessionEntry(Entry entry) => new(entry.Key, entry.Value, entry.Size, entry.ExpiresAt);
}
