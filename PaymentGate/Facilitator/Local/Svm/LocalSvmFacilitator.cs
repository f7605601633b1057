using System.Collections.Frozen;
using System.Text.Json;
using Sessions.Payments.Svm;
using Sessions.Payments.X402;

namespace Sessions.PaymentGate.Facilitator.Local.Svm;

/// <summary>
/// The local facilitator for <c>solana:*</c>: the spec's off-chain checks (<see cref="ExactSvmVerifier"/>), then what a
/// simulation on the chain would refuse (blockhash not recent, unknown mint or wrong decimals, source account missing,
/// not the authority's, short of funds, transaction already processed), then settlement on <see cref="SvmLedger"/>:
/// the fee payer's co-signature names the transaction, and the transfer lands once under that name.
/// </summary>
public sealed class LocalSvmFacilitator(SvmLedger ledger, SimulatedSolanaChain chain, ILogger<LocalSvmFacilitator> logger)
{
    /// <summary>Devnet only, so nobody mistakes the simulated chain's transactions for money.</summary>
    public static readonly FrozenSet<string> ServedNetworks = FrozenSet.Create(StringComparer.Ordinal, SvmNetworks.Devnet);

    readonly ExactSvmVerifier _verifier = new([SimulatedSolanaChain.FeePayer.Address]);

    public static string FeePayer => SimulatedSolanaChain.FeePayer.Address.ToString();

    public IEnumerable<SupportedKind> SupportedKinds() => ServedNetworks.Select(network => new SupportedKind
    {
        X402Version = 2,
        Scheme = ExactSvmVerifier.Scheme,
        Network = network,
        Extra = JsonSerializer.SerializeToElement(new Dictionary<string, string> { ["feePayer"] = FeePayer }),
    });

    public async Task<VerifyResponse> VerifyAsync(FacilitatorRequest request, CancellationToken cancellationToken)
    {
        var check = Check(request);
        if (check.Failure is { } failure)
            return new VerifyResponse { IsValid = false, InvalidReason = failure.Reason, InvalidMessage = failure.Message, Payer = check.Payer };
        var transfer = check.Transfer!;
        var state = await ledger.GetTransferStateAsync(transfer.Network, check.Signature!, transfer.Source.ToString(), cancellationToken);
        if (SimulationError(state, transfer) is { } error)
            return new VerifyResponse { IsValid = false, InvalidReason = SvmReasonCodes.TransactionSimulationFailed, InvalidMessage = error, Payer = check.Payer };
        return new VerifyResponse { IsValid = true, Payer = check.Payer };
    }

    public async Task<SettleResponse> SettleAsync(FacilitatorRequest request, CancellationToken cancellationToken)
    {
        var check = Check(request);
        if (check.Failure is { } failure)
            return Refused(failure.Reason, failure.Message, check.Payer, check.Network);
        var transfer = check.Transfer!;
        var outcome = await ledger.TransferAsync(check.Signature!, transfer, check.PayTo!, cancellationToken);
        if (outcome != SvmTransferOutcome.Transferred)
        {
            // Settled already (a replay, or a concurrent copy that won): the official facilitator's duplicate_settlement.
            return outcome == SvmTransferOutcome.AlreadyProcessed
                ? Refused(SvmReasonCodes.DuplicateSettlement, $"transaction {check.Signature} was already processed", check.Payer, check.Network)
                : Refused(SvmReasonCodes.TransactionSimulationFailed, Describe(outcome), check.Payer, check.Network);
        }
        logger.LogDebug("Local facilitator settled {Amount} of {Mint} from {Source} to {Destination} on {Network}: {Transaction}.",
            transfer.Amount, transfer.Mint, transfer.Source, transfer.Destination, transfer.Network, check.Signature);
        return new SettleResponse
        {
            Success = true,
            Payer = check.Payer,
            Transaction = check.Signature!,
            Network = check.Network,
            Amount = transfer.Amount.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
    }

    sealed record CheckResult(string Network, string? Payer, (string Reason, string Message)? Failure, VerifiedSvmTransfer? Transfer = null,
        string? Signature = null, string? PayTo = null);

    // The verifier's checks, then what the simulated chain refuses without reading the ledger; on success the co-signed id.
    CheckResult Check(FacilitatorRequest request)
    {
        if (request.X402Version != 2 || !X402Json.TryReadV2(request, out var payload, out var requirements, out _))
            return new("", null, request.X402Version is 1 or 2
                ? (ReasonCodes.InvalidPaymentRequirements, "solana payments are x402 v2: paymentPayload or paymentRequirements has the wrong shape")
                : (ReasonCodes.InvalidX402Version, $"x402Version {request.X402Version} is not supported"));
        var network = requirements!.Network;
        var verification = _verifier.Verify(payload!, requirements);
        if (!verification.IsValid)
            return new(network, verification.Payer, (verification.InvalidReason!, verification.InvalidMessage ?? verification.InvalidReason!));
        var transfer = verification.Transfer!;
        if (!ServedNetworks.Contains(network))
            return new(network, verification.Payer, (LocalFacilitator.InvalidNetwork, $"the local facilitator serves {string.Join(", ", ServedNetworks)}, not {network}"));
        if (!chain.IsRecent(network, transfer.Transaction.Message.RecentBlockhash))
            return new(network, verification.Payer, (SvmReasonCodes.TransactionSimulationFailed, "Blockhash not found: the transaction's blockhash is not one of the last 150 slots"));
        if (!KnownSvmAssets.TryFind(network, transfer.Mint, out var asset) || asset.TokenProgram != transfer.TokenProgram)
            return new(network, verification.Payer, (SvmReasonCodes.TransactionSimulationFailed, $"mint {transfer.Mint} is not an account of {transfer.TokenProgram} on the simulated chain"));
        if (asset.Decimals != transfer.Decimals)
            return new(network, verification.Payer, (SvmReasonCodes.TransactionSimulationFailed, $"TransferChecked says {transfer.Decimals} decimals, the mint has {asset.Decimals}"));
        // Ed25519 is deterministic: every copy of one message gets the same co-signature, hence the same transaction id.
        var signature = SimpleBase.Base58.Bitcoin.Encode(SimulatedSolanaChain.FeePayer.Sign(transfer.Transaction.MessageBytes));
        return new(network, verification.Payer, null, transfer, signature, requirements.PayTo);
    }

    static string? SimulationError(SvmTransferState state, VerifiedSvmTransfer transfer) => state switch
    {
        { AlreadyProcessed: true } => "AlreadyProcessed: this transaction has already been processed",
        { Source: null } => Describe(SvmTransferOutcome.SourceMissing),
        { Source: var source } when source.Owner != transfer.Authority.ToString() => Describe(SvmTransferOutcome.OwnerMismatch),
        { Source: var source } when source.Mint != transfer.Mint.ToString() => Describe(SvmTransferOutcome.MintMismatch),
        { Source: var source } when source.Balance < transfer.Amount => Describe(SvmTransferOutcome.InsufficientFunds),
        _ => null,
    };

    // The token program's errors, as a simulation reports them.
    static string Describe(SvmTransferOutcome outcome) => outcome switch
    {
        SvmTransferOutcome.SourceMissing => "AccountNotFound: the source token account does not exist",
        SvmTransferOutcome.OwnerMismatch => "custom program error: 0x4 (OwnerMismatch): the authority does not own the source account",
        SvmTransferOutcome.MintMismatch => "custom program error: 0x3 (MintMismatch): the source account holds another mint",
        SvmTransferOutcome.InsufficientFunds => "custom program error: 0x1 (InsufficientFunds)",
        _ => outcome.ToString(),
    };

    static SettleResponse Refused(string reason, string message, string? payer, string network) =>
        new() { Success = false, ErrorReason = reason, ErrorMessage = message, Payer = payer, Transaction = "", Network = network };
}
