using System.Globalization;
using System.Numerics;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Sessions.Payments;

/// <summary>
/// A token amount in atomic units (USDC has 6 decimals: 1 = $0.000001), from 0 to 2^256-1 like an EIP-3009 value. The one
/// way the system reads and writes amounts: on the wire a decimal string of ASCII digits ("10000": no sign, no leading zeros,
/// no spaces, no fraction or exponent, at most 78 digits); in configuration also dollars ("$0.01"), scaled exactly by the
/// asset's decimals; in JSON the wire string. No floating point anywhere. Converts implicitly to <see cref="BigInteger"/>.
/// </summary>
[JsonConverter(typeof(AtomicAmountJsonConverter))]
public readonly record struct AtomicAmount : IComparable<AtomicAmount>
{
    /// <summary>Largest value an EVM uint256 holds; it has 78 decimal digits.</summary>
    public static readonly BigInteger MaxUInt256 = (BigInteger.One << 256) - 1;

    const int MaxDigits = 78;

    public static readonly AtomicAmount Zero;

    public static readonly AtomicAmount MaxValue = new(MaxUInt256);

    /// <exception cref="OverflowException">Negative or above 2^256-1.</exception>
    public AtomicAmount(BigInteger value) =>
        Value = value.Sign >= 0 && value <= MaxUInt256 ? value : throw new OverflowException($"{value} is not an amount between 0 and 2^256-1.");

    public BigInteger Value { get; }

    public bool IsZero => Value.IsZero;

    /// <summary>The wire form, strictly: "0", or digits without a leading zero, at most 2^256-1.</summary>
    public static bool TryParse(string? text, out AtomicAmount amount) => TryParse(text, out amount, out _);

    /// <inheritdoc cref="TryParse(string?, out AtomicAmount)"/>
    public static bool TryParse(string? text, out AtomicAmount amount, out string? error)
    {
        amount = Zero;
        if (string.IsNullOrEmpty(text))
            return Fail("amount is empty", out error);
        if (text.Length > MaxDigits)
            return Fail($"amount '{Shorten(text)}' has more than {MaxDigits} digits (uint256)", out error);
        if (!IsDigits(text))
            return Fail($"amount '{text}' is not a whole number of atomic units in decimal digits", out error);
        if (text.Length > 1 && text[0] == '0')
            return Fail($"amount '{text}' has a leading zero", out error);
        var value = BigInteger.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture);
        if (value > MaxUInt256)
            return Fail($"amount '{text}' overflows a uint256", out error);
        error = null;
        amount = new AtomicAmount(value);
        return true;
    }

    /// <exception cref="FormatException">Not the wire form.</exception>
    public static AtomicAmount Parse(string? text) => TryParse(text, out var amount, out var error) ? amount : throw new FormatException(error);

    /// <summary>
    /// The same grammar for the uint256 fields that are not amounts (EIP-3009 <c>validAfter</c>/<c>validBefore</c>), whose
    /// value goes on as a plain <see cref="BigInteger"/>.
    /// </summary>
    public static bool TryParseUInt256(string? text, out BigInteger value)
    {
        var parsed = TryParse(text, out var amount);
        value = amount.Value;
        return parsed;
    }

    /// <summary>
    /// A configured price: dollars ("$0.01", "$1", whole dollars may have leading zeros) scaled by the asset's
    /// <paramref name="decimals"/> (10000 for 6-decimal USDC; more fraction digits than the asset has are refused, never
    /// rounded), or an amount already in atomic units in the wire form ("10000").
    /// </summary>
    public static bool TryParsePrice(string? text, int decimals, out AtomicAmount amount, out string? error)
    {
        amount = Zero;
        if (decimals is < 0 or > MaxDigits - 1)
            throw new ArgumentOutOfRangeException(nameof(decimals));
        if (string.IsNullOrEmpty(text))
            return Fail("price is empty", out error);
        if (text.StartsWith('-') || text.StartsWith("$-", StringComparison.Ordinal))
            return Fail($"price '{text}' is negative", out error);

        var isDollars = text.StartsWith('$');
        var body = isDollars ? text.AsSpan(1) : text.AsSpan();
        var dot = body.IndexOf('.');
        var whole = dot < 0 ? body : body[..dot];
        var fraction = dot < 0 ? [] : body[(dot + 1)..];
        if (whole.Length == 0 || !IsDigits(whole) || (dot >= 0 && (fraction.Length == 0 || !IsDigits(fraction))))
            return Fail($"price '{text}' is not a number like \"$0.01\" or an atomic amount like \"10000\"", out error);
        if (!isDollars && dot >= 0)
            return Fail($"atomic amount '{text}' must be a whole number (use \"$\" for a dollar price)", out error);
        if (!isDollars)
            return TryParse(text, out amount, out error);
        if (fraction.Length > decimals)
            return Fail($"price '{text}' has {fraction.Length} decimals but the asset has {decimals}", out error);
        // 78 digits at most once scaled, whatever the leading zeros.
        if (whole.TrimStart('0').Length + decimals > MaxDigits)
            return Fail($"price '{text}' overflows a uint256 amount", out error);

        var digits = string.Concat(whole, fraction) + new string('0', decimals - fraction.Length);
        var value = BigInteger.Parse(digits, NumberStyles.None, CultureInfo.InvariantCulture);
        if (value > MaxUInt256)
            return Fail($"price '{text}' overflows a uint256 amount", out error);
        amount = new AtomicAmount(value);
        error = null;
        return true;
    }

    /// <exception cref="FormatException">Not a price (the message says why).</exception>
    public static AtomicAmount ParsePrice(string text, int decimals) =>
        TryParsePrice(text, decimals, out var amount, out var error) ? amount : throw new FormatException(error);

    /// <summary>The wire form: "10000".</summary>
    public override string ToString() => Value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Dollars for display, at least two fraction digits: 1000 → "$0.001", 10000 → "$0.01", 1000000 → "$1.00".</summary>
    public string ToDollars(int decimals)
    {
        if (decimals is < 0 or > MaxDigits - 1)
            throw new ArgumentOutOfRangeException(nameof(decimals));
        var text = ToString().PadLeft(decimals + 1, '0');
        var whole = text[..^decimals];
        var fraction = text[^decimals..].TrimEnd('0');
        return $"${whole}.{fraction.PadRight(2, '0')}";
    }

    public int CompareTo(AtomicAmount other) => Value.CompareTo(other.Value);

    public static bool operator <(AtomicAmount left, AtomicAmount right) => left.Value < right.Value;

    public static bool operator >(AtomicAmount left, AtomicAmount right) => left.Value > right.Value;

    public static bool operator <=(AtomicAmount left, AtomicAmount right) => left.Value <= right.Value;

    public static bool operator >=(AtomicAmount left, AtomicAmount right) => left.Value >= right.Value;

    /// <exception cref="OverflowException">The sum is above 2^256-1.</exception>
    public static AtomicAmount operator +(AtomicAmount left, AtomicAmount right) => new(left.Value + right.Value);

    /// <exception cref="OverflowException">The difference is below zero.</exception>
    public static AtomicAmount operator -(AtomicAmount left, AtomicAmount right) => new(left.Value - right.Value);

    public static implicit operator BigInteger(AtomicAmount amount) => amount.Value;

    /// <exception cref="OverflowException">Negative or above 2^256-1.</exception>
    public static explicit operator AtomicAmount(BigInteger value) => new(value);

    static bool IsDigits(ReadOnlySpan<char> span) => !span.ContainsAnyExceptInRange('0', '9');

    // Errors quote what was sent, but not a megabyte of it.
    static string Shorten(string text) => text.Length <= 100 ? text : text[..100] + "…";

    static bool Fail(string message, out string? error)
    {
        error = message;
        return false;
    }
}

/// <summary>
/// JSON form of <see cref="AtomicAmount"/>: the wire string ("10000"), as every contract of the system carries amounts
/// (a JSON number loses precision past 2^53). A number, a malformed string or null is refused.
/// </summary>
public sealed class AtomicAmountJsonConverter : JsonConverter<AtomicAmount>
{
    public override AtomicAmount Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String)
            throw new JsonException("An amount must be a string of atomic units in decimal digits, e.g. \"10000\".");
        return AtomicAmount.TryParse(reader.GetString(), out var amount, out var error) ? amount : throw new JsonException(error);
    }

    public override void Write(Utf8JsonWriter writer, AtomicAmount value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.ToString());
}
