using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using Sessions.Payments.Receipts;
using Sessions.Payments.X402;

namespace Sessions.Payments.Svm;

/// <summary>
/// A TransferChecked that passed the off-chain checks. What remains is chain state (blockhash still recent,
/// source account funded, signature unused), which the facilitator's ledger decides.
/// </summary>
public sealed record VerifiedSvmTransfer(
    SolanaTransaction Transaction,
    string Network,
    SolanaAddress FeePayer,
    SolanaAddress TokenProgram,
    SolanaAddress Source,
    SolanaAddress Mint,
    SolanaAddress Destination,
    SolanaAddress Authority,
    ulong Amount,
    byte Decimals);

/// <summary>Verify outcome; <see cref="Transfer"/> is set exactly when valid.</summary>
public sealed record ExactSvmVerification(bool IsValid, string? InvalidReason, string? InvalidMessage, string? Payer, VerifiedSvmTransfer? Transfer)
{
    public VerifyResponse ToVerifyResponse() => new() { IsValid = IsValid, InvalidReason = InvalidReason, InvalidMessage = InvalidMessage, Payer = Payer ?? "" };

    internal static ExactSvmVerification Invalid(string reason, string message, string? payer = null) => new(false, reason, message, payer ?? "", null);
}

/// <summary>Bounds a facilitator sets; the defaults are the official facilitator's.</summary>
public sealed record ExactSvmVerifierOptions
{
    /// <summary>The reference implementation's cap: 5 lamports per compute unit.</summary>
    public ulong MaxComputeUnitPriceMicroLamports { get; init; } = 5_000_000;

    /// <summary>Solana's per-transaction maximum; the official client asks for 20 000.</summary>
    public uint MaxComputeUnits { get; init; } = 1_400_000;
}

/// <summary>
/// The off-chain "exact" SVM facilitator checks of specs/schemes/exact/scheme_exact_svm.md, in the order and with the
/// reason codes of @x402/svm 2.x (static path): scheme; network; extra.feePayer present and ours; transaction decodes;
/// fee payer is account 0; every other required signature verifies (ed25519 over the message); no lookup tables;
/// 3 to 6 instructions; set-compute-unit-limit then -price within bounds; TransferChecked (spl-token or token-2022) third;
/// authority not a fee payer, and (spec) no fee payer among any instruction's accounts; mint; destination = ATA(payTo, mint);
/// amount; only Memo / Lighthouse after it; extra.memo matched by exactly one Memo.
/// </summary>
public sealed class ExactSvmVerifier(IReadOnlyCollection<SolanaAddress> feePayers, ExactSvmVerifierOptions? options = null)
{
    public const string Scheme = "exact";
    public const string NetworkPrefix = "solana:";

    private const byte SetComputeUnitLimit = 2;
    private const byte SetComputeUnitPrice = 3;
    private const byte TransferChecked = 12;

    private readonly ExactSvmVerifierOptions _options = options ?? new ExactSvmVerifierOptions();

    public IReadOnlyCollection<SolanaAddress> FeePayers => feePayers;

    public ExactSvmVerification Verify(PaymentPayload payload, PaymentRequirements requirements)
    {
        if (payload.Accepted.Scheme != Scheme || requirements.Scheme != Scheme)
            return ExactSvmVerification.Invalid(SvmReasonCodes.UnsupportedScheme, $"scheme must be \"{Scheme}\"");
        if (payload.Accepted.Network != requirements.Network)
            return ExactSvmVerification.Invalid(SvmReasonCodes.NetworkMismatch, $"payment is for \"{payload.Accepted.Network}\", requirements are for \"{requirements.Network}\"");
        if (ReadString(requirements.Extra, "feePayer") is not { } feePayerText)
            return ExactSvmVerification.Invalid(SvmReasonCodes.MissingFeePayer, "requirements.extra.feePayer is missing");
        if (!SolanaAddress.TryParse(feePayerText, out var feePayer) || !feePayers.Contains(feePayer))
            return ExactSvmVerification.Invalid(SvmReasonCodes.FeePayerNotManaged, $"fee payer {feePayerText} is not one of this facilitator's");
        if (!SolanaTransaction.TryDecodeBase64(ReadString(payload.Payload, "transaction"), out var transaction, out var decodeError))
            return ExactSvmVerification.Invalid(SvmReasonCodes.TransactionCouldNotBeDecoded, decodeError ?? "payload.transaction is missing");

        var signatureFailure = CheckSignatures(transaction!, feePayer);
        if (signatureFailure is not null)
            return signatureFailure;
        var message = transaction!.Message;
        if (message.AddressTableLookups.Count > 0)
            return ExactSvmVerification.Invalid(SvmReasonCodes.AltResolutionUnavailable, "the transaction uses address lookup tables, which this facilitator does not resolve");
        var instructions = new List<(SolanaAddress Program, SolanaAddress[] Accounts, byte[] Data)>();
        foreach (var compiled in message.Instructions)
        {
            if (!message.TryResolveAccounts(compiled, out var program, out var accounts))
                return ExactSvmVerification.Invalid(SvmReasonCodes.TransactionCouldNotBeDecoded, "an instruction names an account past the message's keys");
            instructions.Add((program, accounts, compiled.Data));
        }
        return CheckInstructions(transaction, instructions, requirements, feePayer);
    }

    private static ExactSvmVerification? CheckSignatures(SolanaTransaction transaction, SolanaAddress feePayer)
    {
        var message = transaction.Message;
        if (message.FeePayer != feePayer)
            return ExactSvmVerification.Invalid(SvmReasonCodes.FeePayerMismatch, $"the transaction's fee payer is {message.FeePayer}, not {feePayer}");
        for (var i = 1; i < message.RequiredSignatures; i++)
        {
            var signature = transaction.Signatures[i];
            if (SolanaTransaction.IsUnsigned(signature)
                || !Ed25519Key.Verify(message.StaticAccounts[i].Bytes, transaction.MessageBytes, signature))
                return ExactSvmVerification.Invalid(SvmReasonCodes.SignatureInvalid, $"signer {message.StaticAccounts[i]} has no valid ed25519 signature over the message");
        }
        return null;
    }

    private ExactSvmVerification CheckInstructions(
        SolanaTransaction transaction, List<(SolanaAddress Program, SolanaAddress[] Accounts, byte[] Data)> instructions,
        PaymentRequirements requirements, SolanaAddress feePayer)
    {
        if (instructions.Count is < 3 or > 6)
            return ExactSvmVerification.Invalid(SvmReasonCodes.InstructionsLength, $"{instructions.Count} instructions; the spec allows 3 to 6");
        if (CheckComputeBudget(instructions[0], instructions[1]) is { } budgetFailure)
            return budgetFailure;

        var (program, accounts, data) = instructions[2];
        var payer = transaction.Message.TokenPayer()?.ToString();
        if (payer is null)
            return ExactSvmVerification.Invalid(SvmReasonCodes.NoTransferInstruction, "no token instruction with an authority");
        if (!SolanaPrograms.IsTokenProgram(program) || data.Length < 10 || data[0] != TransferChecked || accounts.Length < 4)
            return ExactSvmVerification.Invalid(SvmReasonCodes.NoTransferInstruction, "the third instruction is not a TransferChecked of spl-token or token-2022", payer);
        var (source, mint, destination, authority) = (accounts[0], accounts[1], accounts[2], accounts[3]);
        if (feePayers.Contains(authority))
            return ExactSvmVerification.Invalid(SvmReasonCodes.FeePayerTransferringFunds, "the fee payer is the transfer's authority", payer);
        // The spec (not the TS static path) also bars the fee payer from every instruction's accounts: it must sponsor, never take part.
        if (instructions.Any(instruction => instruction.Accounts.Any(feePayers.Contains)))
            return ExactSvmVerification.Invalid(SvmReasonCodes.FeePayerTransferringFunds, "the fee payer appears in an instruction's accounts", payer);

        if (!SolanaAddress.TryParse(requirements.Asset, out var asset) || mint != asset)
            return ExactSvmVerification.Invalid(SvmReasonCodes.MintMismatch, $"the transfer's mint {mint} is not the asset {requirements.Asset}", payer);
        if (!SolanaAddress.TryParse(requirements.PayTo, out var payTo) || destination != SolanaAddress.AssociatedTokenAccount(payTo, asset, program))
            return ExactSvmVerification.Invalid(SvmReasonCodes.RecipientMismatch, $"the destination {destination} is not the associated token account of payTo {requirements.PayTo}", payer);
        var amount = BinaryPrimitives.ReadUInt64LittleEndian(data.AsSpan(1, 8));
        if (!ulong.TryParse(requirements.Amount, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var required) || amount != required)
            return ExactSvmVerification.Invalid(SvmReasonCodes.AmountMismatch, $"the transfer moves {amount}, the requirement is {requirements.Amount}", payer);

        if (CheckOptionalInstructions(instructions, requirements) is { } optionalFailure)
            return optionalFailure with { Payer = payer };

        var transfer = new VerifiedSvmTransfer(transaction, requirements.Network, feePayer, program, source, mint, destination, authority, amount, data[9]);
        return new ExactSvmVerification(true, null, null, payer, transfer);
    }

    private ExactSvmVerification? CheckComputeBudget(
        (SolanaAddress Program, SolanaAddress[] Accounts, byte[] Data) limit, (SolanaAddress Program, SolanaAddress[] Accounts, byte[] Data) price)
    {
        if (limit.Program != SolanaPrograms.ComputeBudget || limit.Data.Length < 5 || limit.Data[0] != SetComputeUnitLimit)
            return ExactSvmVerification.Invalid(SvmReasonCodes.ComputeLimitInstruction, "the first instruction is not SetComputeUnitLimit");
        var units = BinaryPrimitives.ReadUInt32LittleEndian(limit.Data.AsSpan(1, 4));
        if (units > _options.MaxComputeUnits)
            return ExactSvmVerification.Invalid(SvmReasonCodes.ComputeLimitInstructionTooHigh, $"compute unit limit {units} exceeds {_options.MaxComputeUnits}");
        if (price.Program != SolanaPrograms.ComputeBudget || price.Data.Length < 9 || price.Data[0] != SetComputeUnitPrice)
            return ExactSvmVerification.Invalid(SvmReasonCodes.ComputePriceInstruction, "the second instruction is not SetComputeUnitPrice");
        var microLamports = BinaryPrimitives.ReadUInt64LittleEndian(price.Data.AsSpan(1, 8));
        if (microLamports > _options.MaxComputeUnitPriceMicroLamports)
            return ExactSvmVerification.Invalid(SvmReasonCodes.ComputePriceInstructionTooHigh, $"compute unit price {microLamports} micro-lamports exceeds {_options.MaxComputeUnitPriceMicroLamports}");
        return null;
    }

    private static ExactSvmVerification? CheckOptionalInstructions(List<(SolanaAddress Program, SolanaAddress[] Accounts, byte[] Data)> instructions, PaymentRequirements requirements)
    {
        string[] reasonByPosition = [SvmReasonCodes.UnknownFourthInstruction, SvmReasonCodes.UnknownFifthInstruction, SvmReasonCodes.UnknownSixthInstruction];
        var optional = instructions.Skip(3).ToList();
        for (var i = 0; i < optional.Count; i++)
        {
            if (optional[i].Program != SolanaPrograms.Memo && optional[i].Program != SolanaPrograms.Lighthouse)
                return ExactSvmVerification.Invalid(reasonByPosition[i], $"instruction {i + 4} runs {optional[i].Program}; only Memo and Lighthouse may follow the transfer");
        }
        if (ReadString(requirements.Extra, "memo") is not { Length: > 0 } expectedMemo)
            return null;
        var memos = optional.Where(instruction => instruction.Program == SolanaPrograms.Memo).ToList();
        if (memos.Count != 1)
            return ExactSvmVerification.Invalid(SvmReasonCodes.MemoCount, $"{memos.Count} Memo instructions; extra.memo asks for exactly one");
        if (!memos[0].Data.AsSpan().SequenceEqual(Encoding.UTF8.GetBytes(expectedMemo)))
            return ExactSvmVerification.Invalid(SvmReasonCodes.MemoMismatch, "the Memo differs from extra.memo");
        return null;
    }

    private static string? ReadString(JsonElement? element, string name) =>
        element is { ValueKind: JsonValueKind.Object } obj && obj.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;
}
