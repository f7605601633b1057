using System.Security.Cryptography;
using System.Text;
using Sessions.Payments.Receipts;
using Sessions.Payments.Svm;

namespace Sessions.PaymentGate.Facilitator.Local.Svm;

/// <summary>
/// The simulated chain's clock: a slot every 400 ms (as Solana targets), blockhash = SHA-256 of network and slot, and a
/// blockhash usable for 150 slots (about 60 s), as the runtime's recent-blockhash queue keeps them. Nothing is stored:
/// a blockhash is recent when one of the last 150 slots hashes to it.
/// </summary>
public sealed class SimulatedSolanaChain(TimeProvider timeProvider)
{
    public const int SlotMilliseconds = 400;
    public const int BlockhashValiditySlots = 150;

    /// <summary>The fee payer of the local facilitator. Its key is public on purpose: it pays fees on a chain that does not exist.</summary>
    public static SvmFeePayer FeePayer { get; } = SvmFeePayer.FromSeed(SHA256.HashData(Encoding.UTF8.GetBytes("Sessions local facilitator fee payer")));

    public long CurrentSlot => timeProvider.GetUtcNow().ToUnixTimeMilliseconds() / SlotMilliseconds;

    public (string Blockhash, long Slot, long LastValidBlockHeight) LatestBlockhash(string network)
    {
        var slot = CurrentSlot;
        return (SimpleBase.Base58.Bitcoin.Encode(BlockhashOf(network, slot)), slot, slot + BlockhashValiditySlots);
    }

    public bool IsRecent(string network, ReadOnlySpan<byte> blockhash)
    {
        var now = CurrentSlot;
        for (var slot = now; slot >= now - BlockhashValiditySlots; slot--)
        {
            if (blockhash.SequenceEqual(BlockhashOf(network, slot)))
                return true;
        }
        return false;
    }

    static byte[] BlockhashOf(string network, long slot) => SHA256.HashData(Encoding.UTF8.GetBytes($"sessions simulated solana {network} slot {slot}"));
}

/// <summary>An ed25519 key that co-signs settlements as the transaction's fee payer.</summary>
public sealed class SvmFeePayer
{
    readonly Ed25519Key _key;

    SvmFeePayer(Ed25519Key key)
    {
        _key = key;
        Address = SolanaAddress.FromBytes(key.PublicKey);
    }

    public SolanaAddress Address { get; }

    public static SvmFeePayer FromSeed(byte[] seed) => new(new Ed25519Key(seed));

    public byte[] Sign(byte[] message) => _key.Sign(message);
}
