using Sessions.Payments.Receipts;
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
    readonly Ed25519Key _key;

    public LocalSolanaKeySigner(ReadOnlySpan<byte> seed)
    {
        if (seed.Length != Ed25519Key.SeedSize)
            throw new ArgumentException($"An ed25519 seed is {Ed25519Key.SeedSize} bytes.", nameof(seed));
        _key = new Ed25519Key(seed);
        Address = SolanaAddress.FromBytes(_key.PublicKey);
    }

    public SolanaAddress Address { get; }

    public ValueTask<byte[]> SignMessageAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(_key.Sign(message.Span));
}
