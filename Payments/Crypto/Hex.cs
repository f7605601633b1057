namespace Sessions.Payments.Crypto;

/// <summary>Strict hexadecimal helpers for EVM values ("0x" prefix, even length, no whitespace).</summary>
public static class Hex
{
    /// <summary>Lowercase hex with a "0x" prefix.</summary>
    public static string Encode(ReadOnlySpan<byte> bytes) => "0x" + Convert.ToHexStringLower(bytes);

    /// <summary>Lowercase hex without prefix.</summary>
    public static string EncodeBare(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(bytes);

    /// <summary>
    /// Decodes "0x"-prefixed hex (either case). An empty body ("0x") decodes to no bytes.
    /// Returns false for a missing prefix, odd length or any non-hex character.
    /// </summary>
    public static bool TryDecode(string? text, out byte[] bytes)
    {
        bytes = [];
        if (text is null || text.Length < 2 || text[0] != '0' || (text[1] != 'x' && text[1] != 'X'))
            return false;
        return TryDecodeBare(text.AsSpan(2), out bytes);
    }

    /// <summary>Decodes hex without prefix; false on odd length or non-hex characters.</summary>
    public static bool TryDecodeBare(ReadOnlySpan<char> body, out byte[] bytes)
    {
        bytes = [];
        if (body.Length % 2 != 0)
            return false;
        foreach (var c in body)
        {
            if (!char.IsAsciiHexDigit(c))
                return false;
        }
        bytes = Convert.FromHexString(body);
        return true;
    }

    /// <summary>Decodes "0x"-prefixed hex of exactly <paramref name="length"/> bytes.</summary>
    public static bool TryDecodeFixed(string? text, int length, out byte[] bytes) =>
        TryDecode(text, out bytes) && bytes.Length == length;
}
