using Sessions.Payments.Crypto;

namespace Sessions.Client;

/// <summary>
/// Who pays: an EVM address and the signing of a 32-byte EIP-712 digest. Async so that a KMS or HSM signer (a network call)
/// fits; the handler computes the digest itself (Sessions.Payments), so a signer never parses payment messages.
/// </summary>
public interface IPaymentSigner
{
    EvmAddress Address { get; }

    /// <summary>A 65-byte r||s||v signature (v = 27/28, low s) of <paramref name="digest"/> by <see cref="Address"/>.</summary>
    ValueTask<byte[]> SignDigestAsync(ReadOnlyMemory<byte> digest, CancellationToken cancellationToken = default);
}

/// <summary>A private key held in this process (RFC 6979, low s: the signature viem and the official clients make).</summary>
public sealed class LocalKeySigner : IPaymentSigner
{
    readonly byte[] _privateKey;

    /// <summary>A <c>"0x"</c> + 64 hex digit private key.</summary>
    public LocalKeySigner(string privateKeyHex) : this(Secp256k1.ParsePrivateKeyHex(privateKeyHex)) { }

    public LocalKeySigner(ReadOnlySpan<byte> privateKey)
    {
        _privateKey = privateKey.ToArray();
        Address = Secp256k1.AddressOf(_privateKey);
    }

    public EvmAddress Address { get; }

    public ValueTask<byte[]> SignDigestAsync(ReadOnlyMemory<byte> digest, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Secp256k1.Sign(digest.Span, _privateKey));
}
