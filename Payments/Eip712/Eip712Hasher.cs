using Sessions.Payments.Crypto;

namespace Sessions.Payments.Eip712;

/// <summary>The final EIP-712 signing digest and its recovery.</summary>
public static class Eip712Hasher
{
    /// <summary>keccak256(0x19 0x01 || domainSeparator || structHash).</summary>
    public static byte[] Digest(ReadOnlySpan<byte> domainSeparator, ReadOnlySpan<byte> structHash)
    {
        if (domainSeparator.Length != 32 || structHash.Length != 32)
            throw new ArgumentException("Domain separator and struct hash are 32 bytes each.");
        Span<byte> input = stackalloc byte[66];
        input[0] = 0x19;
        input[1] = 0x01;
        domainSeparator.CopyTo(input[2..]);
        structHash.CopyTo(input[34..]);
        return Keccak256.Hash(input);
    }

    public static byte[] HashTypedData(Eip712Domain domain, Eip712TypeSet types, string primaryType, IReadOnlyDictionary<string, object?> message) =>
        Digest(domain.Separator(), types.HashStruct(primaryType, message));

    public static byte[] Sign(Eip712Domain domain, Eip712TypeSet types, string primaryType, IReadOnlyDictionary<string, object?> message, ReadOnlySpan<byte> privateKey) =>
        Secp256k1.Sign(HashTypedData(domain, types, primaryType, message), privateKey);

    public static SignatureRecovery RecoverSigner(Eip712Domain domain, Eip712TypeSet types, string primaryType, IReadOnlyDictionary<string, object?> message, string? signatureHex) =>
        Secp256k1.Recover(HashTypedData(domain, types, primaryType, message), signatureHex);
}
