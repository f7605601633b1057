using Microsoft.Extensions.Hosting;
using StackExchange.Redis;

namespace Sessions.McpServer.Storage;

/// <summary>
/// <see cref="IPayerStore"/> on Redis. Layout per payer (the <c>{payer}</c> hash tag keeps a payer's keys in one
/// cluster slot, so its scripts stay single-slot):
/// <list type="bullet">
/// <item><c>kv:{payer}:&lt;key&gt;</c> string: the value, with PEXPIRE when it has a TTL (Redis expires it).</item>
/// <item><c>idx:{payer}</c> sorted set, every score 0: the payer's keys in bytewise order, paged with ZRANGE BYLEX.</item>
/// <item><c>exp:{payer}</c> sorted set, score = expiry in unix ms: lets a listing drop expired keys from the index.</item>
/// <item><c>ttl:{payer}</c> hash, key → TTL in ms: the entry's own TTL, which every get restarts (sliding expiry).</item>
/// </list>
/// Value and indexes change together in Lua scripts; a listing also skips (and unindexes) any indexed key whose value is
/// gone, so an expired or evicted key never shows. Expiry is Redis's own (PEXPIRE; expired iff now &gt; expiry).
/// Differences from the in-memory store (docs/payer-storage.md): listings are in key order, and there is
/// no entry cap of its own (Redis's maxmemory policy bounds memory).
/// </summary>
public sealed class RedisPayerStore(IDatabase redis, IPayerContextAccessor payers, RedisPayerStoreOptions? options = null)
    : IPayerStore, IAsyncDisposable
{
    // KEYS: idx, exp, ttl, kv...; ARGV: ttl ms (0 = never), then one key per kv, then one value per kv.
    // Returns the expiry in unix ms (-1 = none), as Redis computed it.
    const string SetScript = """
        local ttl = tonumber(ARGV[1])
        local n = #KEYS - 3
        local expiry = -1
        for i = 1, n do
          local key, value = ARGV[1 + i], ARGV[1 + n + i]
          if ttl > 0 then
            redis.call('SET', KEYS[3 + i], value, 'PX', ttl)
            expiry = redis.call('PEXPIRETIME', KEYS[3 + i])
            redis.call('ZADD', KEYS[2], expiry, key)
            redis.call('HSET', KEYS[3], key, ttl)
          else
            redis.call('SET', KEYS[3 + i], value)
            redis.call('ZREM', KEYS[2], key)
            redis.call('HDEL', KEYS[3], key)
          end
          redis.call('ZADD', KEYS[1], 0, key)
        end
        return expiry
        """;

    // KEYS: idx, exp, ttl, kv...; ARGV: one key per kv. Returns how many values existed (expired ones do not).
    const string DeleteScript = """
        local deleted = 0
        for i = 4, #KEYS do
          local key = ARGV[i - 3]
          deleted = deleted + redis.call('DEL', KEYS[i])
          redis.call('ZREM', KEYS[1], key)
          redis.call('ZREM', KEYS[2], key)
          redis.call('HDEL', KEYS[3], key)
        end
        return deleted
        """;

    // KEYS: exp, ttl, kv...; ARGV: one key per kv. Returns value, expiry ms (-1 none, -2 missing) per key.
    // A live value with a TTL gets it again from now (sliding expiry, the entry's own TTL); values written before the
    // ttl hash existed keep their fixed expiry.
    const string GetScript = """
        local out = {}
        for i = 3, #KEYS do
          local key = ARGV[i - 2]
          local value = redis.call('GET', KEYS[i])
          out[#out + 1] = value
          if value then
            local ttl = redis.call('HGET', KEYS[2], key)
            if ttl then
              redis.call('PEXPIRE', KEYS[i], ttl)
              local expiry = redis.call('PEXPIRETIME', KEYS[i])
              redis.call('ZADD', KEYS[1], expiry, key)
              out[#out + 1] = expiry
            else
              out[#out + 1] = redis.call('PEXPIRETIME', KEYS[i])
            end
          else
            out[#out + 1] = -2
          end
        end
        return out
        """;

    // KEYS: idx, exp, ttl; ARGV: kv key prefix, min and max (ZRANGE BYLEX bounds), limit (0 = all), keysOnly (1/0).
    // First drops up to 1000 expired keys from the indexes (expired iff now > expiry, as Redis decides), then walks the
    // index from min and collects live entries; an indexed key without a value (expired meanwhile, evicted) is
    // unindexed and skipped. Builds kv names from ARGV: they share the payer's hash tag, so the script stays in one slot.
    // Touches no value's TTL. Returns {more (1/0), key, value, key, value...} (no values when keysOnly).
    const string ListScript = """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local expired = redis.call('ZRANGE', KEYS[2], '-inf', '(' .. now, 'BYSCORE', 'LIMIT', 0, 1000)
        for _, key in ipairs(expired) do
          redis.call('ZREM', KEYS[1], key)
          redis.call('ZREM', KEYS[2], key)
          redis.call('HDEL', KEYS[3], key)
          redis.call('DEL', ARGV[1] .. key)
        end
        local limit = tonumber(ARGV[4])
        local keysOnly = ARGV[5] == '1'
        local out = {0}
        local found = 0
        local min = ARGV[2]
        while out[1] == 0 do
          local count = 100
          if limit > 0 then count = limit + 1 - found end
          local batch = redis.call('ZRANGE', KEYS[1], min, ARGV[3], 'BYLEX', 'LIMIT', 0, count)
          if #batch == 0 then break end
          for _, key in ipairs(batch) do
            local value
            if keysOnly then
              if redis.call('EXISTS', ARGV[1] .. key) == 1 then value = '' else value = false end
            else
              value = redis.call('GET', ARGV[1] .. key)
            end
            if value then
              if limit > 0 and found == limit then out[1] = 1 break end
              found = found + 1
              out[#out + 1] = key
              if not keysOnly then out[#out + 1] = value end
            else
              redis.call('ZREM', KEYS[1], key)
              redis.call('ZREM', KEYS[2], key)
              redis.call('HDEL', KEYS[3], key)
            end
            min = '(' .. key
          end
        end
        return out
        """;

    readonly TimeSpan _defaultTtl = options?.DefaultTtl is { } ttl && ttl < TimeSpan.Zero
        ? throw new ArgumentOutOfRangeException(nameof(options), ttl, "DefaultTtl must be zero (never expires) or positive.")
        : options?.DefaultTtl ?? TimeSpan.Zero;

    public string Payer => PayerKey.Resolve(payers);

    public TimeSpan DefaultTtl => _defaultTtl;

    public async Task<PayerEntry?> GetAsync(string key, CancellationToken cancellationToken = default) =>
        (await GetManyAsync([key], cancellationToken))[0];

    public async Task<IReadOnlyList<PayerEntry?>> GetManyAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keys);
        foreach (var key in keys) PayerStoreLimits.ThrowIfInvalidKey(key, nameof(keys));
        if (keys.Count == 0) return [];
        var payer = Payer;
        var reply = (RedisResult[])(await redis.ScriptEvaluateAsync(GetScript, [ExpiryKey(payer), TtlKey(payer), .. keys.Select(key => ValueKey(payer, key))],
            [.. keys.Select(key => (RedisValue)key)]))!;
        var entries = new PayerEntry?[keys.Count];
        for (var i = 0; i < keys.Count; i++)
        {
            if ((string?)reply[2 * i] is not { } value) continue;
            var expiresAt = (long)reply[2 * i + 1];
            entries[i] = new PayerEntry(keys[i], value, System.Text.Encoding.UTF8.GetByteCount(value),
                expiresAt >= 0 ? DateTimeOffset.FromUnixTimeMilliseconds(expiresAt) : null);
        }
        return entries;
    }

    public async Task<PayerEntry> SetAsync(string key, string value, TimeSpan? ttl = null, CancellationToken cancellationToken = default) =>
        (await SetManyAsync([new(key, value)], ttl, cancellationToken))[0];

    public async Task<IReadOnlyList<PayerEntry>> SetManyAsync(IReadOnlyList<KeyValuePair<string, string>> entries, TimeSpan? ttl = null,
        CancellationToken cancellationToken = default)
    {
        var sizes = PayerStoreLimits.ThrowIfInvalidEntries(entries, ttl);
        if (entries.Count == 0) return [];
        var payer = Payer;
        var ttlMs = PayerStoreLimits.ToMilliseconds(ttl ?? _defaultTtl);
        RedisValue[] args = [ttlMs, .. entries.Select(e => (RedisValue)e.Key), .. entries.Select(e => (RedisValue)e.Value)];
        var expiry = (long)await redis.ScriptEvaluateAsync(SetScript,
            [IndexKey(payer), ExpiryKey(payer), TtlKey(payer), .. entries.Select(e => ValueKey(payer, e.Key))], args);
        DateTimeOffset? expiresAt = expiry >= 0 ? DateTimeOffset.FromUnixTimeMilliseconds(expiry) : null;
        return [.. entries.Select((e, i) => new PayerEntry(e.Key, e.Value, sizes[i], expiresAt))];
    }

    public async Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default) =>
        await DeleteManyAsync([key], cancellationToken) > 0;

    public async Task<long> DeleteManyAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keys);
        foreach (var key in keys) PayerStoreLimits.ThrowIfInvalidKey(key, nameof(keys));
        var distinct = keys.Distinct(StringComparer.Ordinal).ToArray();
        if (distinct.Length == 0) return 0;
        var payer = Payer;
        return (long)await redis.ScriptEvaluateAsync(DeleteScript,
            [IndexKey(payer), ExpiryKey(payer), TtlKey(payer), .. distinct.Select(key => ValueKey(payer, key))],
            [.. distinct.Select(key => (RedisValue)key)]);
    }

    public async Task<PayerPage> ListAsync(PayerListOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!PayerStoreLimits.IsValidPrefix(options.Prefix, out var error)) throw new ArgumentException(error, nameof(options));
        var cursor = string.IsNullOrEmpty(options.Cursor) ? null : options.Cursor;
        if (cursor is not null) PayerStoreLimits.ThrowIfInvalidKey(cursor, nameof(options));
        var payer = Payer;
        var limit = options.Limit is { } requested && requested > 0 ? requested : 0;
        var prefix = options.Prefix ?? "";

        // Start after the cursor, or at the prefix when the cursor lies before it (the prefix applies after the cursor).
        // Keys are ASCII, so U+00FF (UTF-8 C3 BF) sorts after every key that starts with the prefix.
        var min = cursor is not null && string.CompareOrdinal(cursor, prefix) >= 0 ? "(" + cursor
            : prefix.Length > 0 ? "[" + prefix : "-";
        var max = prefix.Length > 0 ? "[" + prefix + "\u00ff" : "+";
        var reply = (RedisResult[])(await redis.ScriptEvaluateAsync(ListScript, [IndexKey(payer), ExpiryKey(payer), TtlKey(payer)],
            [ValueKey(payer, ""), min, max, limit, options.KeysOnly ? 1 : 0]))!;

        var items = new List<PayerListItem>();
        var stride = options.KeysOnly ? 1 : 2;
        for (var i = 1; i + stride - 1 < reply.Length; i += stride)
            items.Add(new PayerListItem((string)reply[i]!, options.KeysOnly ? null : (string?)reply[i + 1]));
        var more = (long)reply[0] == 1;
        return new PayerPage(items, more && items.Count > 0 ? items[^1].Key : null);
    }

    /// <summary>Nothing to release: the data outlives the process and the connection belongs to the host.</summary>
    public Task CloseAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    internal static string ValueKey(string payer, string key) => $"kv:{{{payer}}}:{key}";
    internal static string IndexKey(string payer) => $"idx:{{{payer}}}";
    internal static string ExpiryKey(string payer) => $"exp:{{{payer}}}";
    internal static string TtlKey(string payer) => $"ttl:{{{payer}}}";
}
