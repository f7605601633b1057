using System.Numerics;

namespace Sessions.Payments.Svm;

/// <summary>Bitcoin-alphabet base58, as Solana writes addresses, signatures and blockhashes.</summary>
public static class Base58
{
    private const string Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

    private static readonly sbyte[] DigitOf = BuildDigitTable();

    public static string Encode(ReadOnlySpan<byte> bytes)
    {
        var leadingZeros = 0;
        while (leadingZeros < bytes.Length && bytes[leadingZeros] == 0)
            leadingZeros++;
        var value = new BigInteger(bytes, isUnsigned: true, isBigEndian: true);
        var digits = new List<char>(bytes.Length * 138 / 100 + 1);
        while (value > 0)
        {
            value = BigInteger.DivRem(value, 58, out var remainder);
            digits.Add(Alphabet[(int)remainder]);
        }
        digits.AddRange(Enumerable.Repeat('1', leadingZeros));
        digits.Reverse();
        return new string(digits.ToArray());
    }

    /// <summary>False for an empty string or any character outside the alphabet.</summary>
    public static bool TryDecode(string? text, out byte[] bytes)
    {
        bytes = [];
        if (string.IsNullOrEmpty(text))
            return false;
        var leadingOnes = 0;
        while (leadingOnes < text.Length && text[leadingOnes] == '1')
            leadingOnes++;
        BigInteger value = 0;
        foreach (var c in text)
        {
            var digit = c < 128 ? DigitOf[c] : (sbyte)-1;
            if (digit < 0)
                return false;
            value = value * 58 + digit;
        }
        var body = value.IsZero ? [] : value.ToByteArray(isUnsigned: true, isBigEndian: true);
        bytes = new byte[leadingOnes + body.Length];
        body.CopyTo(bytes, leadingOnes);
        return true;
    }

    /// <summary>Decodes text that must be exactly <paramref name="length"/> bytes (32 for a key, 64 for a signature).</summary>
    public static bool TryDecodeFixed(string? text, int length, out byte[] bytes) =>
        TryDecode(text, out bytes) && bytes.Length == length;

    private static sbyte[] BuildDigitTable()
    {
        var table = new sbyte[128];
        Array.Fill(table, (sbyte)-1);
        for (var i = 0; i < Alphabet.Length; i++)
            table[Alphabet[i]] = (sbyte)i;
        return table;
    }
}
