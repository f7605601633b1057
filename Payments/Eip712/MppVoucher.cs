using System.Numerics;
using Sessions.Payments.Crypto;

namespace Sessions.Payments.Eip712;

/// <summary>
/// The MPP session voucher Voucher(bytes32 channelId,uint128 cumulativeAmount) (draft-evm-session). The
/// amount is cumulative and monotonic per channel; the encoder refuses values outside uint128.
/// </summary>
public sealed record MppVoucher(Bytes32 ChannelId, BigInteger CumulativeAmount)
{
    public const string PrimaryType = "Voucher";

    public static Eip712TypeSet Types { get; } = Eip712TypeSet.Create((PrimaryType,
    [
        new("channelId", "bytes32"),
        new("cumulativeAmount", "uint128"),
    ]));

    public IReadOnlyDictionary<string, object?> ToMessage() => new Dictionary<string, object?>(StringComparer.Ordinal)
    {
        ["channelId"] = ChannelId,
        ["cumulativeAmount"] = CumulativeAmount,
    };

    public byte[] HashStruct() => Types.HashStruct(PrimaryType, ToMessage());

    public byte[] Digest(Eip712Domain domain) => Eip712Hasher.Digest(domain.Separator(), HashStruct());

    public byte[] Sign(Eip712Domain domain, ReadOnlySpan<byte> privateKey) => Secp256k1.Sign(Digest(domain), privateKey);

    public SignatureRecovery RecoverSigner(Eip712Domain domain, string? signatureHex) => Secp256k1.Recover(Digest(domain), signatureHex);
}
