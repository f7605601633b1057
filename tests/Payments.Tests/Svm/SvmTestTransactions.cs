using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using Sessions.Payments.Receipts;
using Sessions.Payments.Svm;
using Sessions.Payments.X402;

namespace Sessions.Payments.Tests.Svm;

/// <summary>An ed25519 key from a 32-byte seed filled with one byte (as generate-official-fixture.mjs makes them).</summary>
internal sealed record TestKey(Ed25519Key Key, SolanaAddress Address)
{
    public static TestKey FromSeedByte(byte fill)
    {
        var key = new Ed25519Key(Enumerable.Repeat(fill, 32).ToArray());
        return new TestKey(key, SolanaAddress.FromBytes(key.PublicKey));
    }

    public byte[] Sign(byte[] message) => Key.Sign(message);
}

internal sealed record TestAccount(SolanaAddress Address, bool Signer, bool Writable);

internal sealed record TestInstruction(SolanaAddress Program, TestAccount[] Accounts, byte[] Data);

/// <summary>
/// Builds exact-SVM payments the way @x402/svm's client does (v0 message, fee payer first), and lets a test bend any part.
/// Compiled into PaymentGate.Tests too (linked), where the fee payer is the local facilitator's.
/// </summary>
internal static class SvmTestTransactions
{
    public const string Devnet = "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1";
    public static readonly SolanaAddress UsdcDevnet = SolanaAddress.Parse("4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU");
    public static readonly TestKey Payer = TestKey.FromSeedByte(1);
    public static readonly TestKey PayTo = TestKey.FromSeedByte(2);
    public static readonly TestKey FeePayer = TestKey.FromSeedByte(3);
    public static readonly byte[] Blockhash = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();

    public static TestInstruction ComputeLimit(uint units) => new(SolanaPrograms.ComputeBudget, [], [2, .. LittleEndian(units)]);

    public static TestInstruction ComputePrice(ulong microLamports) => new(SolanaPrograms.ComputeBudget, [], [3, .. LittleEndian(microLamports)]);

    public static TestInstruction Memo(string text, params TestAccount[] accounts) => new(SolanaPrograms.Memo, accounts, Encoding.UTF8.GetBytes(text));

    public static TestInstruction TransferChecked(SolanaAddress? authority = null, ulong amount = 10_000, SolanaAddress? mint = null, SolanaAddress? destination = null,
        byte discriminator = 12, SolanaAddress? payTo = null, byte decimals = 6)
    {
        var owner = authority ?? Payer.Address;
        var tokenMint = mint ?? UsdcDevnet;
        return new TestInstruction(SolanaPrograms.Token,
        [
            new(SolanaAddress.AssociatedTokenAccount(owner, tokenMint, SolanaPrograms.Token), false, true),
            new(tokenMint, false, false),
            new(destination ?? SolanaAddress.AssociatedTokenAccount(payTo ?? PayTo.Address, tokenMint, SolanaPrograms.Token), false, true),
            new(owner, true, false),
        ], [discriminator, .. LittleEndian(amount), decimals]);
    }

    /// <summary>The client's four instructions: limit 20 000, price 1, the transfer, a random-looking memo.</summary>
    public static List<TestInstruction> StandardInstructions(string memo = "00112233445566778899aabbccddeeff") =>
        [ComputeLimit(20_000), ComputePrice(1), TransferChecked(), Memo(memo)];

    public static string Build(IEnumerable<TestInstruction> instructions, TestKey[]? signers = null, SolanaAddress? feePayer = null, bool legacy = false,
        IReadOnlyList<AddressTableLookup>? lookups = null, byte[]? blockhash = null)
    {
        var message = Compile(feePayer ?? FeePayer.Address, instructions.ToList(), legacy, lookups ?? [], blockhash ?? Blockhash);
        var messageBytes = message.Serialize();
        var keys = signers ?? [Payer];
        var signatures = message.StaticAccounts.Take(message.RequiredSignatures)
            .Select(address => keys.FirstOrDefault(k => k.Address == address)?.Sign(messageBytes) ?? new byte[64])
            .ToArray();
        return Convert.ToBase64String(SolanaTransaction.Serialize(signatures, messageBytes));
    }

    public static PaymentRequirements Requirements(string amount = "10000", string? memo = null, SolanaAddress? feePayer = null, SolanaAddress? payTo = null) => new()
    {
        Scheme = "exact",
        Network = Devnet,
        Amount = amount,
        Asset = UsdcDevnet.ToString(),
        PayTo = (payTo ?? PayTo.Address).ToString(),
        MaxTimeoutSeconds = 60,
        Extra = JsonSerializer.SerializeToElement(memo is null
            ? new Dictionary<string, string> { ["feePayer"] = (feePayer ?? FeePayer.Address).ToString() }
            : new Dictionary<string, string> { ["feePayer"] = (feePayer ?? FeePayer.Address).ToString(), ["memo"] = memo }),
    };

    public static PaymentPayload Payload(string transaction, PaymentRequirements? accepted = null) => new()
    {
        Accepted = accepted ?? Requirements(),
        Payload = JsonSerializer.SerializeToElement(new { transaction }),
    };

    private static SolanaMessage Compile(SolanaAddress feePayer, List<TestInstruction> instructions, bool legacy, IReadOnlyList<AddressTableLookup> lookups, byte[] blockhash) =>
        SolanaInstruction.Compile(feePayer,
            instructions.Select(i => new SolanaInstruction(i.Program, i.Accounts.Select(a => new SolanaAccountMeta(a.Address, a.Signer, a.Writable)).ToArray(), i.Data)).ToList(),
            blockhash, legacy, lookups);

    private static byte[] LittleEndian(uint value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, value);
        return bytes;
    }

    private static byte[] LittleEndian(ulong value)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, value);
        return bytes;
    }
}
