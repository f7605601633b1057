using System.Diagnostics;
using System.Runtime.CompilerServices;
using Sessions.Redis.Internal;

namespace Sessions.Redis;

// The typed commands: each encodes its arguments on the stack (or in a pooled array) and converts the reply on arrival.
public sealed partial class RedisClient
{
    public async ValueTask<TimeSpan> PingAsync(CancellationToken cancellationToken = default)
    {
        var start = Stopwatch.GetTimestamp();
        await SendAsync("PING", [], Replies.Ignore, cancellationToken).ConfigureAwait(false);
        return Stopwatch.GetElapsedTime(start);
    }

    public ValueTask<RedisValue> GetAsync(string key, CancellationToken cancellationToken = default) =>
        SendAsync("GET", [key], Replies.Value, cancellationToken);

    public ValueTask<bool> SetAsync(string key, RedisValue value, TimeSpan? expiry = null, SetCondition condition = SetCondition.Always, CancellationToken cancellationToken = default)
    {
        var buffer = new ArgBuffer();
        Span<RedisValue> args = buffer;
        var count = 0;
        args[count++] = key;
        args[count++] = value;
        if (expiry is { } ttl)
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ttl, TimeSpan.Zero, nameof(expiry));
            args[count++] = "PX";
            args[count++] = Math.Max(1, (long)ttl.TotalMilliseconds);
        }
        if (condition != SetCondition.Always) args[count++] = condition == SetCondition.NotExists ? "NX" : "XX";
        return SendAsync("SET", args[..count], Replies.OkOrNull, cancellationToken);
    }

    public ValueTask<RedisValue[]> GetManyAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keys);
        if (keys.Count == 0) return ValueTask.FromResult(Array.Empty<RedisValue>());
        using var args = KeysArgs(null, keys);
        return SendAsync("MGET", args.Span, Replies.Values, cancellationToken);
    }

    public ValueTask<bool> DeleteAsync(string key, CancellationToken cancellationToken = default) =>
        SendAsync("DEL", [key], Replies.IntegerIsOne, cancellationToken);

    public ValueTask<long> DeleteAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keys);
        if (keys.Count == 0) return ValueTask.FromResult(0L);
        using var args = KeysArgs(null, keys);
        return SendAsync("DEL", args.Span, Replies.Integer, cancellationToken);
    }

    public ValueTask<bool> ExistsAsync(string key, CancellationToken cancellationToken = default) =>
        SendAsync("EXISTS", [key], Replies.IntegerIsOne, cancellationToken);

    public ValueTask<long> ExistsAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keys);
        if (keys.Count == 0) return ValueTask.FromResult(0L);
        using var args = KeysArgs(null, keys);
        return SendAsync("EXISTS", args.Span, Replies.Integer, cancellationToken);
    }

    public ValueTask<long> IncrementAsync(string key, long by = 1, CancellationToken cancellationToken = default) =>
        SendAsync("INCRBY", [key, by], Replies.Integer, cancellationToken);

    public ValueTask<long> DecrementAsync(string key, long by = 1, CancellationToken cancellationToken = default) =>
        SendAsync("DECRBY", [key, by], Replies.Integer, cancellationToken);

    public ValueTask<bool> ExpireAsync(string key, TimeSpan expiry, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(expiry, TimeSpan.Zero);
        return expiry.Ticks % TimeSpan.TicksPerSecond == 0
            ? SendAsync("EXPIRE", [key, (long)expiry.TotalSeconds], Replies.IntegerIsOne, cancellationToken)
            : SendAsync("PEXPIRE", [key, Math.Max(1, (long)expiry.TotalMilliseconds)], Replies.IntegerIsOne, cancellationToken);
    }

    public ValueTask<TimeSpan?> TimeToLiveAsync(string key, CancellationToken cancellationToken = default) =>
        SendAsync("PTTL", [key], Replies.TimeToLive, cancellationToken);

    public ValueTask<RedisValue> HashGetAsync(string key, string field, CancellationToken cancellationToken = default) =>
        SendAsync("HGET", [key, field], Replies.Value, cancellationToken);

    public ValueTask<RedisValue[]> HashGetManyAsync(string key, IReadOnlyList<string> fields, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(fields);
        if (fields.Count == 0) return ValueTask.FromResult(Array.Empty<RedisValue>());
        using var args = KeysArgs(key, fields);
        return SendAsync("HMGET", args.Span, Replies.Values, cancellationToken);
    }

    public ValueTask<Dictionary<string, RedisValue>> HashGetAllAsync(string key, CancellationToken cancellationToken = default) =>
        SendAsync("HGETALL", [key], Replies.HashEntries, cancellationToken);

    public ValueTask<bool> HashSetAsync(string key, string field, RedisValue value, CancellationToken cancellationToken = default) =>
        SendAsync("HSET", [key, field, value], Replies.IntegerIsOne, cancellationToken);

    public ValueTask<long> HashSetAsync(string key, IReadOnlyList<KeyValuePair<string, RedisValue>> fields, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(fields);
        ArgumentOutOfRangeException.ThrowIfZero(fields.Count, nameof(fields));
        using var args = new PooledArgs(1 + 2 * fields.Count);
        args.Add(key);
        for (var i = 0; i < fields.Count; i++)
        {
            args.Add(fields[i].Key);
            args.Add(fields[i].Value);
        }
        return SendAsync("HSET", args.Span, Replies.Integer, cancellationToken);
    }

    public ValueTask<long> HashDeleteAsync(string key, IReadOnlyList<string> fields, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(fields);
        if (fields.Count == 0) return ValueTask.FromResult(0L);
        using var args = KeysArgs(key, fields);
        return SendAsync("HDEL", args.Span, Replies.Integer, cancellationToken);
    }

    public ValueTask<long> HashIncrementAsync(string key, string field, long by = 1, CancellationToken cancellationToken = default) =>
        SendAsync("HINCRBY", [key, field, by], Replies.Integer, cancellationToken);

    public ValueTask<bool> SortedSetAddAsync(string key, RedisValue member, double score, CancellationToken cancellationToken = default) =>
        SendAsync("ZADD", [key, score, member], Replies.IntegerIsOne, cancellationToken);

    public ValueTask<long> SortedSetAddAsync(string key, IReadOnlyList<SortedSetEntry> entries, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entries);
        if (entries.Count == 0) return ValueTask.FromResult(0L);
        using var args = new PooledArgs(1 + 2 * entries.Count);
        args.Add(key);
        for (var i = 0; i < entries.Count; i++)
        {
            args.Add(entries[i].Score);
            args.Add(entries[i].Member);
        }
        return SendAsync("ZADD", args.Span, Replies.Integer, cancellationToken);
    }

    public ValueTask<long> SortedSetRemoveAsync(string key, IReadOnlyList<RedisValue> members, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(members);
        if (members.Count == 0) return ValueTask.FromResult(0L);
        using var args = new PooledArgs(1 + members.Count);
        args.Add(key);
        for (var i = 0; i < members.Count; i++) args.Add(members[i]);
        return SendAsync("ZREM", args.Span, Replies.Integer, cancellationToken);
    }

    public ValueTask<RedisValue[]> SortedSetRangeByRankAsync(string key, long start = 0, long stop = -1, CancellationToken cancellationToken = default) =>
        SendAsync("ZRANGE", [key, start, stop], Replies.Values, cancellationToken);

    public ValueTask<SortedSetEntry[]> SortedSetRangeByRankWithScoresAsync(string key, long start = 0, long stop = -1, CancellationToken cancellationToken = default) =>
        SendAsync("ZRANGE", [key, start, stop, "WITHSCORES"], Replies.ScoredEntries, cancellationToken);

    public ValueTask<RedisValue[]> SortedSetRangeByScoreAsync(string key, double min = double.NegativeInfinity, double max = double.PositiveInfinity, long offset = 0, long count = -1, CancellationToken cancellationToken = default)
    {
        var buffer = new ArgBuffer();
        return SendAsync("ZRANGE", RangeByScoreArgs(buffer, key, min, max, offset, count, withScores: false), Replies.Values, cancellationToken);
    }

    public ValueTask<SortedSetEntry[]> SortedSetRangeByScoreWithScoresAsync(string key, double min = double.NegativeInfinity, double max = double.PositiveInfinity, long offset = 0, long count = -1, CancellationToken cancellationToken = default)
    {
        var buffer = new ArgBuffer();
        return SendAsync("ZRANGE", RangeByScoreArgs(buffer, key, min, max, offset, count, withScores: true), Replies.ScoredEntries, cancellationToken);
    }

    public ValueTask<long> SortedSetLengthAsync(string key, CancellationToken cancellationToken = default) =>
        SendAsync("ZCARD", [key], Replies.Integer, cancellationToken);

    public ValueTask<double?> SortedSetScoreAsync(string key, RedisValue member, CancellationToken cancellationToken = default) =>
        SendAsync("ZSCORE", [key, member], Replies.NullableDouble, cancellationToken);

    public async IAsyncEnumerable<string> ScanAsync(string? pattern = null, int pageSize = 250, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pageSize, 1);
        var cursor = "0";
        do
        {
            // The cursor is stateless on the server, so a page that fails after a reconnect can simply be retried by the caller.
            var page = await ScanPageAsync(cursor, pattern, pageSize, cancellationToken).ConfigureAwait(false);
            cursor = page.Cursor;
            foreach (var key in page.Keys) yield return key;
        }
        while (cursor != "0");
    }

    ValueTask<ScanPage> ScanPageAsync(string cursor, string? pattern, int pageSize, CancellationToken cancellationToken) =>
        pattern is null
            ? SendAsync("SCAN", [cursor, "COUNT", pageSize], Replies.Scan, cancellationToken)
            : SendAsync("SCAN", [cursor, "MATCH", pattern, "COUNT", pageSize], Replies.Scan, cancellationToken);

    public async ValueTask<RedisResult> EvaluateAsync(LuaScript script, IReadOnlyList<string>? keys = null, IReadOnlyList<RedisValue>? args = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(script);
        try
        {
            return await SendScriptAsync("EVALSHA", script.Sha1, keys, args, cancellationToken).ConfigureAwait(false);
        }
        catch (RedisServerException e) when (e.ErrorCode == "NOSCRIPT")
        {
            // The server lost its script cache (restart, SCRIPT FLUSH): NOSCRIPT means nothing ran, so re-sending is safe.
            // EVAL runs the source and caches it again, in one round trip.
            script.OnReloaded();
            RedisTelemetry.ScriptReloads.Add(1);
            return await SendScriptAsync("EVAL", script.Source, keys, args, cancellationToken).ConfigureAwait(false);
        }
    }

    public ValueTask<string> ScriptLoadAsync(LuaScript script, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(script);
        return SendAsync("SCRIPT", ["LOAD", script.Source], Replies.Text, cancellationToken);
    }

    public async ValueTask FlushDatabaseAsync(CancellationToken cancellationToken = default) =>
        await SendAsync("FLUSHDB", [], Replies.Ignore, cancellationToken).ConfigureAwait(false);

    public async ValueTask ScriptFlushAsync(CancellationToken cancellationToken = default) =>
        await SendAsync("SCRIPT", ["FLUSH"], Replies.Ignore, cancellationToken).ConfigureAwait(false);

    ValueTask<RedisResult> SendScriptAsync(string command, string scriptOrSha, IReadOnlyList<string>? keys, IReadOnlyList<RedisValue>? values, CancellationToken cancellationToken)
    {
        var keyCount = keys?.Count ?? 0;
        var valueCount = values?.Count ?? 0;
        using var args = new PooledArgs(2 + keyCount + valueCount);
        args.Add(scriptOrSha);
        args.Add(keyCount);
        for (var i = 0; i < keyCount; i++) args.Add(keys![i]);
        for (var i = 0; i < valueCount; i++) args.Add(values![i]);
        return SendAsync(command, args.Span, Replies.Raw, cancellationToken);
    }

    static PooledArgs KeysArgs(string? first, IReadOnlyList<string> items)
    {
        var args = new PooledArgs((first is null ? 0 : 1) + items.Count);
        if (first is not null) args.Add(first);
        for (var i = 0; i < items.Count; i++) args.Add(items[i]);
        return args;
    }

    static ReadOnlySpan<RedisValue> RangeByScoreArgs(Span<RedisValue> args, string key, double min, double max, long offset, long count, bool withScores)
    {
        var n = 0;
        args[n++] = key;
        args[n++] = min;
        args[n++] = max;
        args[n++] = "BYSCORE";
        if (offset != 0 || count >= 0)
        {
            args[n++] = "LIMIT";
            args[n++] = offset;
            args[n++] = count;
        }
        if (withScores) args[n++] = "WITHSCORES";
        return args[..n];
    }
}
