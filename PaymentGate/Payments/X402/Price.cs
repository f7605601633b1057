using System.Globalization;
using System.Numerics;

namespace Sessions.Payments.X402;

/// <summary>
/// Price strings to atomic token units. "$0.01" is a dollar amount scaled by the asset's decimals
/// (10000 for 6-decimal USDC); a bare "10000" is already atomic. No floating point anywhere.
/// </summary>
public static class Price
{
    /// <summary>Largest value an EVM uint256 amount can hold.</summary>
    public static readonly BigInteger MaxUInt256 = (BigInteger.One << 256) - 1;

    public static bool TryParseAtomic(string? text, int decimals, out BigInteger amount, out string? error)
    {
        amount = BigInteger.Zero;
        if (decimals is < 0 or > 77)
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
        if (fraction.Length > decimals)
            return Fail($"price '{text}' has {fraction.Length} decimals but the asset has {decimals}", out error);
        // A uint256 has 78 digits; anything longer overflows whatever the leading zeros.
        var scale = isDollars ? decimals : 0;
        if (whole.TrimStart('0').Length + scale > 78)
            return Fail($"price '{text}' overflows a uint256 amount", out error);

        var digits = isDollars ? string.Concat(whole, fraction) + new string('0', decimals - fraction.Length) : whole.ToString();
        var value = BigInteger.Parse(digits, NumberStyles.None, CultureInfo.InvariantCulture);
        if (value > MaxUInt256)
            return Fail($"price '{text}' overflows a uint256 amount", out error);

        amount = value;
        error = null;
        return true;
    }

    public static BigInteger ParseAtomic(string text, int decimals) =>
        TryParseAtomic(text, decimals, out var amount, out var error) ? amount : throw new FormatException(error);

    /// <summary>Strict decimal uint256 as x402 carries amounts and timestamps: digits only, no sign, at most 78 digits.</summary>
    public static bool TryParseUInt256(string? text, out BigInteger value)
    {
        value = BigInteger.Zero;
        if (string.IsNullOrEmpty(text) || text.Length > 78 || !IsDigits(text))
            return false;
        value = BigInteger.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture);
        return value <= MaxUInt256;
    }

    private static bool IsDigits(ReadOnlySpan<char> span) => !span.ContainsAnyExceptInRange('0', '9');

    private static bool Fail(string message, out string? error)
    {
        error = message;
        return false;
    }
}
