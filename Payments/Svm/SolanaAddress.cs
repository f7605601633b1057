using System.Security.Cryptography;
using System.Text;
using Org.BouncyCastle.Math.EC.Rfc8032;

namespace Sessions.Payments.Svm;

/// <summary>A 32-byte Solana public key (account address), written base58.</summary>
public readonly record struct SolanaAddress
{
    public const int Length = 32;

    private readonly byte[]? _bytes;

    private SolanaAddress(byte[] bytes) => _bytes = bytes;

    public ReadOnlySpan<byte> Bytes => _bytes ?? new byte[Length];

    public static SolanaAddress FromBytes(ReadOnlySpan<byte> bytes) =>
        bytes.Length == Length ? new SolanaAddress(bytes.ToArray()) : throw new ArgumentException($"A Solana address is {Length} bytes.", nameof(bytes));

    public static bool TryParse(string? text, out SolanaAddress address)
    {
        address = default;
        // The official client's SVM_ADDRESS_REGEX: 32 to 44 base58 characters.
        if (text is null || text.Length is < 32 or > 44 || !SolanaBase58.TryDecode(text, Length, out var bytes))
            return false;
        address = new SolanaAddress(bytes);
        return true;
    }

    public static SolanaAddress Parse(string text) =>
        TryParse(text, out var address) ? address : throw new FormatException($"'{text}' is not a base58 Solana address.");

    public bool Equals(SolanaAddress other) => Bytes.SequenceEqual(other.Bytes);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.AddBytes(Bytes);
        return hash.ToHashCode();
    }

    public override string ToString() => SimpleBase.Base58.Bitcoin.Encode(Bytes);

    /// <summary>True when the bytes decode to a point of ed25519 (program-derived addresses must not).</summary>
    /// <remarks>
    /// Decompression only, as Solana's is_on_curve. The one Ed25519 use left on BouncyCastle: libsodium (Ed25519Key) has no such
    /// check, its is_valid_point also refuses points outside the prime-order subgroup and would derive other addresses.
    /// </remarks>
    public bool IsOnCurve => Ed25519.ValidatePublicKeyPartial(Bytes.ToArray(), 0);

    /// <summary>find_program_address: the highest bump seed whose hash lies off the curve.</summary>
    public static (SolanaAddress Address, byte Bump) FindProgramAddress(IReadOnlyList<byte[]> seeds, SolanaAddress programId)
    {
        var marker = Encoding.ASCII.GetBytes("ProgramDerivedAddress");
        for (var bump = 255; bump >= 0; bump--)
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            foreach (var seed in seeds)
                hash.AppendData(seed);
            hash.AppendData([(byte)bump]);
            hash.AppendData(programId.Bytes);
            hash.AppendData(marker);
            var candidate = new SolanaAddress(hash.GetHashAndReset());
            if (!candidate.IsOnCurve)
                return (candidate, (byte)bump);
        }
        throw new InvalidOperationException("No off-curve program address for these seeds.");
    }

    /// <summary>The associated token account of (owner, mint) under a token program.</summary>
    public static SolanaAddress AssociatedTokenAccount(SolanaAddress owner, SolanaAddress mint, SolanaAddress tokenProgram) =>
        FindProgramAddress([owner.Bytes.ToArray(), tokenProgram.Bytes.ToArray(), mint.Bytes.ToArray()], SolanaPrograms.AssociatedTokenAccount).Address;
}

/// <summary>The programs an exact SVM payment may use.</summary>
public static class SolanaPrograms
{
    public static SolanaAddress System { get; } = SolanaAddress.Parse("11111111111111111111111111111111");
    public static SolanaAddress Token { get; } = SolanaAddress.Parse("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA");
    public static SolanaAddress Token2022 { get; } = SolanaAddress.Parse("TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb");
    public static SolanaAddress AssociatedTokenAccount { get; } = SolanaAddress.Parse("ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL");
    public static SolanaAddress ComputeBudget { get; } = SolanaAddress.Parse("ComputeBudget111111111111111111111111111111");
    public static SolanaAddress Memo { get; } = SolanaAddress.Parse("MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr");
    public static SolanaAddress Lighthouse { get; } = SolanaAddress.Parse("L2TExMFKdjpN9kozasaurPirfHy9P8sbXoAN1qA3S95");

    public static bool IsTokenProgram(SolanaAddress program) => program == Token || program == Token2022;
}
