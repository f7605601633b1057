using System.Text;
using SimpleBase;

namespace Sessions.Payments.Svm;

/// <summary>
/// Decoding of Solana's base58 text (addresses, signatures, blockhashes; SimpleBase's Bitcoin alphabet) for untrusted input:
/// false, never an exception, for anything that is not base58 (SimpleBase 5.6.4 throws IndexOutOfRangeException on non-ASCII).
/// Encode with <c>Base58.Bitcoin.Encode</c>.
/// </summary>
public static class SolanaBase58
{
    /// <summary>False for null, empty, or any character outside the alphabet.</summary>
    public static bool TryDecode(string? text, out byte[] bytes)
    {
        bytes = [];
        if (string.IsNullOrEmpty(text) || !Ascii.IsValid(text))
            return false;
        var buffer = new byte[Base58.Bitcoin.GetSafeByteCountForDecoding(text)];
        if (!Base58.Bitcoin.TryDecode(text, buffer, out var written))
            return false;
        bytes = buffer[..written];
        return true;
    }

    /// <summary>Decodes text that must be exactly <paramref name="length"/> bytes (32 for a key or blockhash, 64 for a signature).</summary>
    public static bool TryDecode(string? text, int length, out byte[] bytes) =>
        TryDecode(text, out bytes) && bytes.Length == length;
}
