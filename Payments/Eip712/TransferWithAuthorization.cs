using System.Numerics;
using Sessions.Payments.Crypto;

namespace Sessions.Payments.Eip712;

/// <summary>
/// The EIP-3009 TransferWithAuthorization message that x402 "exact" EVM payments sign, with the token's
/// domain (name, version, chainId, verifyingContract = token address).
/// </summary>
public sealed record TransferWithAuthorization(
    EvmAddress From,
    EvmAddress To,
    BigInteger Value,
    BigInteger ValidAfter,
    BigInteger ValidBefore,
    Bytes32 Nonce)
{
    public const string PrimaryType = "TransferWithAuthorization";

    public static Eip712TypeSet Types { get; } = Eip712TypeSet.Create((PrimaryType,
    [
        new("from", "address"),
        new("to", "address"),
        new("value", "uint256"),
        new("validAfter", "uint256"),
        new("validBefore", "uint256"),
        new("nonce", "bytes32"),
    ]));

    /// <summary>The token's EIP-712 domain: (extra.name, extra.version, chainId, asset).</summary>
    public static Eip712Domain Domain(string name, string version, long chainId, EvmAddress token) =>
        new(name, version, chainId, token);

    public IReadOnlyDictionary<string, object?> ToMessage() => new Dictionary<string, object?>(StringComparer.Ordinal)
    {
        ["from"] = From,
        ["to"] = To,
        ["value"] = Value,
        ["validAfter"] = ValidAfter,
        ["validBefore"] = ValidBefore,
        ["nonce"] = Nonce,
    };

    public byte[] HashStruct() => Types.HashStruct(PrimaryType, ToMessage());

    public byte[] Digest(Eip712Domain domain) => Eip712Hasher.Digest(domain.Separator(), HashStruct());

    public byte[] Sign(Eip712Domain domain, ReadOnlySpan<byte> privateKey) => Secp256k1.Sign(Digest(domain), privateKey);

    public SignatureRecovery RecoverSigner(Eip712Domain domain, string? signatureHex) => Secp256k1.Recover(Digest(domain), signatureHex);
}
