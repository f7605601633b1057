using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace Sessions.Redis;

/// <summary>
/// A command argument or a bulk reply: a string, raw bytes, an integer or a double, or null (a missing key).
/// Replies keep the raw bytes and decode to a string only when converted, so callers that want bytes never pay for UTF-8 decoding.
/// </summary>
public readonly struct RedisValue : IEquatable<RedisValue>
{
    enum Kind : byte { Null, String, Bytes, Integer, Double }

    readonly object? _reference;   // string or byte[]
    readonly long _number;         // integer, or the bits of a double
    readonly Kind _kind;

    RedisValue(object? reference, long number, Kind kind)
    {
        _reference = reference;
        _number = number;
        _kind = kind;
    }

    public static RedisValue Null => default;
    public static RedisValue EmptyString { get; } = new("", 0, Kind.String);

    public bool IsNull => _kind == Kind.Null;
    public bool IsNullOrEmpty => _kind switch
    {
        Kind.Null => true,
        Kind.String => ((string)_reference!).Length == 0,
        Kind.Bytes => ((byte[])_reference!).Length == 0,
        _ => false,
    };

    public static implicit operator RedisValue(string? value) => value is null ? Null : new(value, 0, Kind.String);
    public static implicit operator RedisValue(byte[]? value) => value is null ? Null : new(value, 0, Kind.Bytes);
    public static implicit operator RedisValue(long value) => new(null, value, Kind.Integer);
    public static implicit operator RedisValue(int value) => new(null, value, Kind.Integer);
    public static implicit operator RedisValue(double value) => new(null, BitConverter.DoubleToInt64Bits(value), Kind.Double);

    public static implicit operator string?(RedisValue value) => value._kind switch
    {
        Kind.Null => null,
        Kind.String => (string)value._reference!,
        Kind.Bytes => Encoding.UTF8.GetString((byte[])value._reference!),
        Kind.Integer => value._number.ToString(CultureInfo.InvariantCulture),
        _ => FormatDouble(BitConverter.Int64BitsToDouble(value._number)),
    };

    public static implicit operator byte[]?(RedisValue value) => value._kind switch
    {
        Kind.Null => null,
        Kind.Bytes => (byte[])value._reference!,
        _ => Encoding.UTF8.GetBytes((string)value!),
    };

    /// <exception cref="InvalidCastException">The value is null or not an integer.</exception>
    public static explicit operator long(RedisValue value) =>
        value.TryParseInt64(out var result) ? result : throw new InvalidCastException($"Redis value '{value}' is not an integer.");

    public static explicit operator long?(RedisValue value) => value.IsNull ? null : (long)value;

    /// <exception cref="InvalidCastException">The value is null or not a number.</exception>
    public static explicit operator double(RedisValue value) =>
        value.TryParseDouble(out var result) ? result : throw new InvalidCastException($"Redis value '{value}' is not a number.");

    public static explicit operator double?(RedisValue value) => value.IsNull ? null : (double)value;

    public bool TryParseInt64(out long result)
    {
        switch (_kind)
        {
            case Kind.Integer:
                result = _number;
                return true;
            case Kind.Bytes:
                var bytes = (byte[])_reference!;
                return Utf8Parser.TryParse(bytes, out result, out var consumed) && consumed == bytes.Length && bytes.Length > 0;
            case Kind.String:
                return long.TryParse((string)_reference!, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out result);
            default:
                result = 0;
                return false;
        }
    }

    public bool TryParseDouble(out double result)
    {
        switch (_kind)
        {
            case Kind.Integer:
                result = _number;
                return true;
            case Kind.Double:
                result = BitConverter.Int64BitsToDouble(_number);
                return true;
            case Kind.Null:
                result = 0;
                return false;
            default:
                return TryParseDouble((string)this!, out result);
        }
    }

    internal static bool TryParseDouble(string text, out double result)
    {
        switch (text)
        {
            case "inf" or "+inf":
                result = double.PositiveInfinity;
                return true;
            case "-inf":
                result = double.NegativeInfinity;
                return true;
            default:
                return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out result);
        }
    }

    /// <summary>Redis spells infinities <c>+inf</c>/<c>-inf</c>; everything else round-trips with the invariant "R" format.</summary>
    internal static string FormatDouble(double value) => value switch
    {
        double.PositiveInfinity => "+inf",
        double.NegativeInfinity => "-inf",
        _ when double.IsNaN(value) => throw new ArgumentException("Redis does not accept NaN."),
        _ => value.ToString("R", CultureInfo.InvariantCulture),
    };

    /// <summary>Writes the value as a RESP bulk string.</summary>
    internal void WriteTo(Protocol.CommandBuffer buffer)
    {
        switch (_kind)
        {
            case Kind.String:
                Protocol.RespWriter.WriteBulkString(buffer, (string)_reference!);
                break;
            case Kind.Bytes:
                Protocol.RespWriter.WriteBulkString(buffer, (byte[])_reference!);
                break;
            case Kind.Integer:
                Protocol.RespWriter.WriteBulkInteger(buffer, _number);
                break;
            case Kind.Double:
                Protocol.RespWriter.WriteBulkString(buffer, FormatDouble(BitConverter.Int64BitsToDouble(_number)));
                break;
            default:
                // A null argument is sent as an empty string, as StackExchange.Redis does.
                Protocol.RespWriter.WriteBulkString(buffer, "");
                break;
        }
    }

    /// <summary>The text, or <c>""</c> for null (use the <c>string?</c> conversion to tell them apart).</summary>
    public override string ToString() => (string?)this ?? "";

    public bool Equals(RedisValue other)
    {
        if (_kind == Kind.Null || other._kind == Kind.Null) return _kind == other._kind;
        if (_kind == other._kind && _kind is Kind.Integer or Kind.Double) return _number == other._number;
        if (_kind == Kind.String && other._kind == Kind.String) return (string)_reference! == (string)other._reference!;
        return ((ReadOnlySpan<byte>)(byte[])this!).SequenceEqual((byte[])other!);
    }

    public override bool Equals(object? obj) => obj is RedisValue other && Equals(other);

    public override int GetHashCode()
    {
        if (_kind == Kind.Null) return 0;
        var hash = new HashCode();
        hash.AddBytes((byte[])this!);
        return hash.ToHashCode();
    }

    public static bool operator ==(RedisValue left, RedisValue right) => left.Equals(right);
    public static bool operator !=(RedisValue left, RedisValue right) => !left.Equals(right);
}
