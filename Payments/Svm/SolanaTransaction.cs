using System.Security.Cryptography;
using SimpleBase;

namespace Sessions.Payments.Svm;

/// <summary>One compiled instruction: indexes into the message's account list, and opaque data.</summary>
public sealed record CompiledInstruction(byte ProgramIndex, IReadOnlyList<byte> AccountIndexes, byte[] Data);

/// <summary>A v0 address-table lookup (accounts loaded from an on-chain table, not in the message).</summary>
public sealed record AddressTableLookup(SolanaAddress Table, IReadOnlyList<byte> WritableIndexes, IReadOnlyList<byte> ReadonlyIndexes);

/// <summary>
/// A Solana message as it is signed: header, static account keys, recent blockhash, instructions and,
/// for v0, address-table lookups. <see cref="Version"/> is null for a legacy message.
/// </summary>
public sealed record SolanaMessage(
    int? Version,
    byte RequiredSignatures,
    byte ReadonlySigned,
    byte ReadonlyUnsigned,
    IReadOnlyList<SolanaAddress> StaticAccounts,
    byte[] RecentBlockhash,
    IReadOnlyList<CompiledInstruction> Instructions,
    IReadOnlyList<AddressTableLookup> AddressTableLookups)
{
    public SolanaAddress FeePayer => StaticAccounts[0];

    public string RecentBlockhashBase58 => Base58.Bitcoin.Encode(RecentBlockhash);

    /// <summary>The accounts an instruction names; false when an index points past the static keys (a lookup-table account).</summary>
    public bool TryResolveAccounts(CompiledInstruction instruction, out SolanaAddress program, out SolanaAddress[] accounts)
    {
        program = default;
        accounts = [];
        if (instruction.ProgramIndex >= StaticAccounts.Count || instruction.AccountIndexes.Any(index => index >= StaticAccounts.Count))
            return false;
        program = StaticAccounts[instruction.ProgramIndex];
        accounts = instruction.AccountIndexes.Select(index => StaticAccounts[index]).ToArray();
        return true;
    }

    /// <summary>
    /// The official getTokenPayerFromTransaction: the 4th account (the authority) of the first spl-token or token-2022
    /// instruction with at least four accounts; null when there is none.
    /// </summary>
    public SolanaAddress? TokenPayer()
    {
        foreach (var instruction in Instructions)
        {
            if (TryResolveAccounts(instruction, out var program, out var accounts) && SolanaPrograms.IsTokenProgram(program) && accounts.Length >= 4)
                return accounts[3];
        }
        return null;
    }

    /// <summary>The bytes a signer signs (the inverse of decoding).</summary>
    public byte[] Serialize()
    {
        var output = new List<byte>();
        if (Version is { } version)
            output.Add((byte)(0x80 | version));
        output.AddRange([RequiredSignatures, ReadonlySigned, ReadonlyUnsigned]);
        CompactU16.Write(output, StaticAccounts.Count);
        foreach (var account in StaticAccounts)
            output.AddRange(account.Bytes);
        output.AddRange(RecentBlockhash);
        CompactU16.Write(output, Instructions.Count);
        foreach (var instruction in Instructions)
        {
            output.Add(instruction.ProgramIndex);
            CompactU16.Write(output, instruction.AccountIndexes.Count);
            output.AddRange(instruction.AccountIndexes);
            CompactU16.Write(output, instruction.Data.Length);
            output.AddRange(instruction.Data);
        }
        if (Version is not null)
        {
            CompactU16.Write(output, AddressTableLookups.Count);
            foreach (var lookup in AddressTableLookups)
            {
                output.AddRange(lookup.Table.Bytes);
                CompactU16.Write(output, lookup.WritableIndexes.Count);
                output.AddRange(lookup.WritableIndexes);
                CompactU16.Write(output, lookup.ReadonlyIndexes.Count);
                output.AddRange(lookup.ReadonlyIndexes);
            }
        }
        return output.ToArray();
    }
}

/// <summary>
/// A wire transaction: compact-u16 count of 64-byte signatures (all zeros = not yet signed), then the message bytes.
/// Decoding is strict: trailing bytes, short reads and unknown versions fail.
/// </summary>
public sealed class SolanaTransaction
{
    public const int SignatureLength = 64;

    private SolanaTransaction(byte[][] signatures, byte[] messageBytes, SolanaMessage message)
    {
        Signatures = signatures;
        MessageBytes = messageBytes;
        Message = message;
    }

    public IReadOnlyList<byte[]> Signatures { get; }
    public byte[] MessageBytes { get; }
    public SolanaMessage Message { get; }

    /// <summary>The transaction id: the first (fee payer's) signature, base58.</summary>
    public string Id => Base58.Bitcoin.Encode(Signatures[0]);

    /// <summary>SHA-256 of the message, as the official facilitator keys its duplicate-settlement cache.</summary>
    public byte[] MessageHash() => SHA256.HashData(MessageBytes);

    public static bool IsUnsigned(ReadOnlySpan<byte> signature) => !signature.ContainsAnyExcept((byte)0);

    public static bool TryDecodeBase64(string? base64, out SolanaTransaction? transaction, out string? error)
    {
        transaction = null;
        error = null;
        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(base64 ?? "");
        }
        catch (FormatException)
        {
            error = "transaction is not base64";
            return false;
        }
        return TryDecode(bytes, out transaction, out error);
    }

    public static bool TryDecode(byte[] bytes, out SolanaTransaction? transaction, out string? error)
    {
        transaction = null;
        var reader = new Reader(bytes);
        try
        {
            var signatureCount = reader.CompactU16();
            var signatures = new byte[signatureCount][];
            for (var i = 0; i < signatureCount; i++)
                signatures[i] = reader.Take(SignatureLength);
            var messageStart = reader.Position;
            var message = ReadMessage(ref reader);
            if (reader.Position != bytes.Length)
                throw new FormatException($"{bytes.Length - reader.Position} bytes after the message");
            if (message.RequiredSignatures != signatureCount)
                throw new FormatException($"{signatureCount} signatures for a message that requires {message.RequiredSignatures}");
            transaction = new SolanaTransaction(signatures, bytes[messageStart..], message);
            error = null;
            return true;
        }
        catch (FormatException exception)
        {
            error = exception.Message;
            return false;
        }
    }

    /// <summary>The wire bytes with <paramref name="signature"/> in the slot of <paramref name="signer"/> (a co-signature).</summary>
    public byte[] WithSignature(SolanaAddress signer, ReadOnlySpan<byte> signature)
    {
        var slot = Message.StaticAccounts.Take(Message.RequiredSignatures).ToList().IndexOf(signer);
        if (slot < 0)
            throw new ArgumentException($"{signer} is not a signer of this message.", nameof(signer));
        var signatures = Signatures.Select(s => s.ToArray()).ToArray();
        signatures[slot] = signature.ToArray();
        return Serialize(signatures, MessageBytes);
    }

    public static byte[] Serialize(IReadOnlyList<byte[]> signatures, byte[] messageBytes)
    {
        var output = new List<byte>(3 + signatures.Count * SignatureLength + messageBytes.Length);
        CompactU16.Write(output, signatures.Count);
        foreach (var signature in signatures)
            output.AddRange(signature);
        output.AddRange(messageBytes);
        return output.ToArray();
    }

    private static SolanaMessage ReadMessage(ref Reader reader)
    {
        int? version = null;
        var first = reader.Byte();
        if ((first & 0x80) != 0)
        {
            version = first & 0x7F;
            if (version != 0)
                throw new FormatException($"message version {version} is not supported");
            first = reader.Byte();
        }
        var header = (Required: first, ReadonlySigned: reader.Byte(), ReadonlyUnsigned: reader.Byte());
        var accountCount = reader.CompactU16();
        var accounts = new SolanaAddress[accountCount];
        for (var i = 0; i < accountCount; i++)
            accounts[i] = SolanaAddress.FromBytes(reader.Take(SolanaAddress.Length));
        if (accountCount == 0 || header.Required == 0 || header.Required > accountCount || header.ReadonlySigned >= header.Required
            || header.ReadonlyUnsigned > accountCount - header.Required)
            throw new FormatException("message header does not fit its account keys");
        var blockhash = reader.Take(32);
        var instructionCount = reader.CompactU16();
        var instructions = new CompiledInstruction[instructionCount];
        for (var i = 0; i < instructionCount; i++)
        {
            var program = reader.Byte();
            var indexes = reader.Take(reader.CompactU16());
            var data = reader.Take(reader.CompactU16());
            instructions[i] = new CompiledInstruction(program, indexes, data);
        }
        var lookups = new List<AddressTableLookup>();
        if (version == 0)
        {
            var lookupCount = reader.CompactU16();
            for (var i = 0; i < lookupCount; i++)
            {
                var table = SolanaAddress.FromBytes(reader.Take(SolanaAddress.Length));
                var writable = reader.Take(reader.CompactU16());
                var readOnly = reader.Take(reader.CompactU16());
                lookups.Add(new AddressTableLookup(table, writable, readOnly));
            }
        }
        return new SolanaMessage(version, header.Required, header.ReadonlySigned, header.ReadonlyUnsigned, accounts, blockhash, instructions, lookups);
    }

    private ref struct Reader(byte[] bytes)
    {
        public int Position { get; private set; }

        public byte Byte() => Take(1)[0];

        public byte[] Take(int count)
        {
            if (count > bytes.Length - Position)
                throw new FormatException($"transaction ends at byte {bytes.Length}, {count} more expected at {Position}");
            var slice = bytes[Position..(Position + count)];
            Position += count;
            return slice;
        }

        public int CompactU16()
        {
            if (!Svm.CompactU16.TryRead(bytes.AsSpan(Position), out var value, out var length))
                throw new FormatException($"bad compact-u16 at byte {Position}");
            Position += length;
            return value;
        }
    }
}

/// <summary>Solana's "short vec" length: 7 bits per byte, little-endian, at most 3 bytes, canonical.</summary>
public static class CompactU16
{
    public static bool TryRead(ReadOnlySpan<byte> bytes, out int value, out int length)
    {
        value = 0;
        length = 0;
        for (var i = 0; i < 3; i++)
        {
            if (i >= bytes.Length)
                return false;
            var b = bytes[i];
            if (i == 2 && b > 0x03)
                return false; // past u16
            value |= (b & 0x7F) << (7 * i);
            length = i + 1;
            if ((b & 0x80) == 0)
                return b != 0 || i == 0; // a zero continuation byte is an alias of a shorter encoding
        }
        return false;
    }

    public static void Write(List<byte> output, int value)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(value);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(value, ushort.MaxValue);
        do
        {
            var b = (byte)(value & 0x7F);
            value >>= 7;
            output.Add(value == 0 ? b : (byte)(b | 0x80));
        }
        while (value != 0);
    }
}
