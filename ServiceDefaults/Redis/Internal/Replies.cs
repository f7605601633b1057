using System.Buffers;
using System.Runtime.CompilerServices;

namespace Sessions.Redis.Internal;

/// <summary>Reply converters shared by the typed commands (static, so no delegate is allocated per call).</summary>
internal static class Replies
{
    public static readonly ReplyConverter<RedisResult> Raw = static reply => reply;
    public static readonly ReplyConverter<bool> Ignore = static _ => true;
    public static readonly ReplyConverter<RedisValue> Value = static reply => reply.AsValue();
    public static readonly ReplyConverter<string> Text = static reply => reply.AsString() ?? throw new InvalidCastException("Unexpected null reply.");
    public static readonly ReplyConverter<long> Integer = static reply => reply.AsInt64();
    public static readonly ReplyConverter<bool> IntegerIsOne = static reply => reply.AsInt64() == 1;
    /// <summary>SET answers OK, or a null bulk string when an NX/XX condition was not met.</summary>
    public static readonly ReplyConverter<bool> OkOrNull = static reply => !reply.IsNull;
    public static readonly ReplyConverter<double?> NullableDouble = static reply => reply.AsNullableDouble();

    /// <summary>PTTL: -2 missing key, -1 no expiry.</summary>
    public static readonly ReplyConverter<TimeSpan?> TimeToLive = static reply =>
        reply.AsInt64() is var ms && ms < 0 ? null : TimeSpan.FromMilliseconds(ms);

    public static readonly ReplyConverter<RedisValue[]> Values = static reply =>
    {
        var items = reply.AsArray() ?? [];
        var values = new RedisValue[items.Length];
        for (var i = 0; i < items.Length; i++) values[i] = items[i].AsValue();
        return values;
    };

    public static readonly ReplyConverter<Dictionary<string, RedisValue>> HashEntries = static reply =>
    {
        var items = reply.AsArray() ?? [];
        var entries = new Dictionary<string, RedisValue>(items.Length / 2, StringComparer.Ordinal);
        for (var i = 0; i + 1 < items.Length; i += 2) entries[items[i].AsString()!] = items[i + 1].AsValue();
        return entries;
    };

    /// <summary>RESP2 WITHSCORES replies alternate member, score.</summary>
    public static readonly ReplyConverter<SortedSetEntry[]> ScoredEntries = static reply =>
    {
        var items = reply.AsArray() ?? [];
        var entries = new SortedSetEntry[items.Length / 2];
        for (var i = 0; i < entries.Length; i++) entries[i] = new SortedSetEntry(items[2 * i].AsValue(), (double)items[2 * i + 1].AsValue());
        return entries;
    };

    public static readonly ReplyConverter<ScanPage> Scan = static reply =>
    {
        var parts = reply.AsArray();
        if (parts is not [var cursor, var keys]) throw new RedisProtocolException("SCAN reply is not [cursor, keys].");
        var items = keys.AsArray() ?? [];
        var names = new string[items.Length];
        for (var i = 0; i < items.Length; i++) names[i] = items[i].AsString()!;
        return new ScanPage(cursor.AsString()!, names);
    };
}

internal readonly record struct ScanPage(string Cursor, string[] Keys);

/// <summary>Up to eight arguments on the stack, for commands with a small fixed shape.</summary>
[InlineArray(8)]
internal struct ArgBuffer
{
    RedisValue _first;
}

/// <summary>Arguments of a variadic command in a pooled array; the command is encoded before <see cref="Dispose"/>.</summary>
internal ref struct PooledArgs
{
    RedisValue[] _items;
    int _count;

    public PooledArgs(int capacity) => _items = ArrayPool<RedisValue>.Shared.Rent(capacity);

    public readonly ReadOnlySpan<RedisValue> Span => _items.AsSpan(0, _count);

    public void Add(RedisValue value) => _items[_count++] = value;

    public void Dispose()
    {
        _items.AsSpan(0, _count).Clear();   // do not keep callers' strings alive in the shared pool
        ArrayPool<RedisValue>.Shared.Return(_items);
        _items = [];
        _count = 0;
    }
}
