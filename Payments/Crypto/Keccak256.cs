using System.Text;
using Org.BouncyCastle.Crypto.Digests;

namespace Sessions.Payments.Crypto;

/// <summary>
/// Keccak-256 as used by Ethereum (original Keccak padding). Not SHA3-256: .NET's SHA3_256 uses the
/// FIPS 202 padding and gives different digests.
/// </summary>
public static class Keccak256
{
    public const int HashLength = 32;

    public static byte[] Hash(ReadOnlySpan<byte> data)
    {
        var digest = new KeccakDigest(256);
        digest.BlockUpdate(data);
        var output = new byte[HashLength];
        digest.DoFinal(output);
        return output;
    }

    /// <summary>Hash of the UTF-8 encoding of <paramref name="text"/>.</summary>
    public static byte[] HashUtf8(string text) => Hash(Encoding.UTF8.GetBytes(text));

    /// <summary>Hash of the concatenation of several byte sequences.</summary>
    public static byte[] HashConcat(params ReadOnlySpan<byte[]> parts)
    {
        var digest = new KeccakDigest(256);
        foreach (var part in parts)
            digest.BlockUpdate(part, 0, part.Length);
        var output = new byte[HashLength];
        digest.DoFinal(output, 0);
        return output;
    }
}
