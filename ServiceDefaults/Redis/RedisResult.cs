using System.Globalization;
using System.Text;

namespace Sessions.Redis;

public enum RedisResultKind
{
    SimpleString,
    Error,
    Integer,
    BulkString,
    Array,
}

/// <summary>
/// One RESP2 reply: a simple string, an error, an integer, a bulk string (possibly null) or an array (possibly null)
/// whose elements are replies themselves. Bulk strings keep their bytes; conversions decode on demand.
/// Converting an error reply throws <see cref="RedisServerException"/>.
/// </summary>
public sealed class RedisResult
{
    // Replies that need no allocation: OK/PONG/QUEUED and small integers are by far the most frequent.
    static readonly RedisResult[] SmallIntegers = CreateSmallIntegers();
    internal static readonly RedisResult Ok = new(RedisResultKind.SimpleString, "OK", 0);
    internal static readonly RedisResult Pong = new(RedisResultKind.SimpleString, "PONG", 0);
    internal static readonly RedisResult Queued = new(RedisResultKind.SimpleString, "QUEUED", 0);
    internal static readonly RedisResult NullBulk = new(RedisResultKind.BulkString, null, 0);
    internal static readonly RedisResult NullArray = new(RedisResultKind.Array, null, 0);
    internal static readonly RedisResult EmptyBulk = new(RedisResultKind.BulkString, System.Array.Empty<byte>(), 0);
    internal static readonly RedisResult EmptyArray = new(RedisResultKind.Array, System.Array.Empty<RedisResult>(), 0);

    readonly object? _value;   // string (simple, error), byte[] (bulk), RedisResult[] (array); null for null bulk/array
    readonly long _integer;

    RedisResult(RedisResultKind kind, object? value, long integer)
    {
        Kind = kind;
        _value = value;
        _integer = integer;
    }

    public RedisResultKind Kind { get; }

    /// <summary>True for a null bulk string (<c>$-1</c>) or a null array (<c>*-1</c>).</summary>
    public bool IsNull => _value is null && Kind is RedisResultKind.BulkString or RedisResultKind.Array;

    public bool IsError => Kind == RedisResultKind.Error;

    /// <summary>The server's message when <see cref="Kind"/> is <see cref="RedisResultKind.Error"/>.</summary>
    public string? ErrorMessage => IsError ? (string)_value! : null;

    /// <summary>Array elements; null unless this is a non-null array.</summary>
    public IReadOnlyList<RedisResult>? Elements => _value as RedisResult[];

    internal RedisResult[]? ArrayOrNull => _value as RedisResult[];

    internal static RedisResult SimpleString(string value) => new(RedisResultKind.SimpleString, value, 0);
    internal static RedisResult Error(string message) => new(RedisResultKind.Error, message, 0);
    internal static RedisResult Bulk(byte[] value) => value.Length == 0 ? EmptyBulk : new(RedisResultKind.BulkString, value, 0);
    internal static RedisResult FromArray(RedisResult[] items) => items.Length == 0 ? EmptyArray : new(RedisResultKind.Array, items, 0);

    internal static RedisResult Integer(long value) =>
        value >= -1 && value < SmallIntegers.Length - 1 ? SmallIntegers[value + 1] : new(RedisResultKind.Integer, null, value);

    /// <summary>The reply as a value: bulk and simple strings, integers; null bulk becomes <see cref="RedisValue.Null"/>.</summary>
    public RedisValue AsValue()
    {
        ThrowIfError();
        return Kind switch
        {
            RedisResultKind.Integer => _integer,
            RedisResultKind.BulkString => (byte[]?)_value,
            RedisResultKind.SimpleString => (string)_value!,
            _ => IsNull ? RedisValue.Null : throw new InvalidCastException("A Redis array reply is not a single value."),
        };
    }

    public string? AsString() => Kind == RedisResultKind.Array && !IsNull ? throw new InvalidCastException("A Redis array reply is not a string.") : (string?)AsValue();
    public byte[]? AsBytes() => (byte[]?)AsValue();
    public long AsInt64() => Kind == RedisResultKind.Integer ? _integer : (long)AsValue();
    public long? AsNullableInt64() => IsNull ? null : AsInt64();
    public double? AsNullableDouble() => IsNull ? null : (double)AsValue();

    /// <summary>The elements of an array reply (null for a null array).</summary>
    public RedisResult[]? AsArray()
    {
        ThrowIfError();
        return Kind == RedisResultKind.Array ? (RedisResult[]?)_value : throw new InvalidCastException($"A Redis {Kind} reply is not an array.");
    }

    public static explicit operator string?(RedisResult result) => result.AsString();
    public static explicit operator byte[]?(RedisResult result) => result.AsBytes();
    public static explicit operator long(RedisResult result) => result.AsInt64();
    public static explicit operator long?(RedisResult result) => result.AsNullableInt64();
    public static explicit operator RedisResult[]?(RedisResult result) => result.AsArray();

    internal void ThrowIfError()
    {
        if (Kind == RedisResultKind.Error) throw new RedisServerException((string)_value!);
    }

    public override string ToString() => Kind switch
    {
        RedisResultKind.SimpleString => (string)_value!,
        RedisResultKind.Error => "(error) " + (string)_value!,
        RedisResultKind.Integer => _integer.ToString(CultureInfo.InvariantCulture),
        RedisResultKind.BulkString => _value is byte[] bytes ? Encoding.UTF8.GetString(bytes) : "(nil)",
        _ => _value is RedisResult[] items ? "[" + string.Join(", ", (IEnumerable<RedisResult>)items) + "]" : "(nil)",
    };

    static RedisResult[] CreateSmallIntegers()
    {
        var values = new RedisResult[258];
        for (var i = 0; i < values.Length; i++) values[i] = new RedisResult(RedisResultKind.Integer, null, i - 1);
        return values;
    }
}
