using Org.BouncyCastle.Math.EC.Rfc8032;
using Sessions.Payments.Svm;

namespace Sessions.Client;

/// <summary>
/// Who pays on Solana: an ed25519 address and the signing of a transaction message. Async so that a KMS or HSM signer fits;
/// the handler builds the message itself (Sessions.Payments.Svm), so a signer never parses transactions.
/// </summary>
public interface ISolanaPaymentSigner
{
    SolanaAddress Address { get; }

    /// <summary>The 64-byte ed25519 signature of <paramref name="message"/> by <see cref="Address"/>.</summary>
    ValueTask<byte[]> SignMessageAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken = default);
}

/// <summary>An ed25519 key held in this process, from its 32-byte seed (the first half of a Solana CLI keypair file).</summary>
public sealed class LocalSolanaKeySigner : ISolanaPaymentSigner
{
    readonly byte[] _seed;

    public LocalSolanaKeySigner(ReadOnlySpan<byte> seed)
    {
        if (seed.Length != Ed25519.SecretKeySize)
            throw new ArgumentException($"An ed25519 seed is {Ed25519.SecretKeySize} bytes.", nameof(seed));
        _seed = seed.ToArray();
        var publicKey = new byte[Ed25519.PublicKeySize];
        Ed25519.GeneratePublicKey(_seed, 0, publicKey, 0);
        Address = SolanaAddress.FromBytes(publicKey);
    }

    public SolanaAddress Address { get; }

    public ValueTask<byte[]> SignMessageAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken = default)
    {
        var signature = new byte[Ed25519.SignatureSize];
        var bytes = message.ToArray();
        Ed25519.Sign(_seed, 0, bytes, 0, bytes.Length, signature, 0);
        return ValueTask.FromResult(signature);
    }
}
