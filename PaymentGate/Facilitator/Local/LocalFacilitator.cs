using System.Collections.Frozen;
using Sessions.Payments.Crypto;
using Sessions.Payments.Eip712;
using Sessions.Payments.Svm;
using Sessions.Payments.X402;
using Sessions.PaymentGate.Facilitator.Local.Svm;

namespace Sessions.PaymentGate.Facilitator.Local;

/// <summary>
/// A facilitator for development and tests: the real off-chain "exact" EVM checks (<see cref="ExactEvmVerifier"/>), then
/// the chain simulated by <see cref="TokenLedger"/> instead of a transferWithAuthorization transaction. Requirements on
/// <c>solana:*</c> go to <see cref="LocalSvmFacilitator"/> (when registered).
/// </summary>
public sealed class LocalFacilitator(ExactEvmVerifier verifier, TokenLedger ledger, ILogger<LocalFacilitator> logger, LocalSvmFacilitator? svm = null)
{
    /// <summary>Legacy core reason for a network this facilitator does not serve.</summary>
    public const string InvalidNetwork = "invalid_network";

    /// <summary>Networks the simulated chain serves (CAIP-2): testnet only, so nobody mistakes its "transactions" for money.</summary>
    public static readonly FrozenSet<string> ServedNetworks = FrozenSet.Create(StringComparer.Ordinal, Networks.BaseSepolia);

    /// <summary>Stands in for the address that would send settlement transactions (the <c>signers</c> of /supported).</summary>
    public static readonly EvmAddress Signer = EvmAddress.FromBytes(Keccak256.HashUtf8("Sessions local facilitator")[12..]);

    public SupportedResponse Supported()
    {
        var kinds = new List<SupportedKind>();
        foreach (var network in ServedNetworks)
        {
            Networks.TryParseCaip2(network, out var chainId);
            if (Networks.TryGetV1Name(chainId, out var v1Name))
                kinds.Add(new SupportedKind { X402Version = 1, Scheme = ExactEvmVerifier.Scheme, Network = v1Name });
            kinds.Add(new SupportedKind { X402Version = 2, Scheme = ExactEvmVerifier.Scheme, Network = network });
        }
        var signers = new Dictionary<string, IReadOnlyList<string>> { ["eip155:*"] = [Signer.ToString()] };
        if (svm is not null)
        {
            kinds.AddRange(svm.SupportedKinds());
            signers["solana:*"] = [LocalSvmFacilitator.FeePayer];
        }
        return new SupportedResponse { Kinds = kinds, Signers = signers };
    }

    public async Task<VerifyResponse> VerifyAsync(FacilitatorRequest request, CancellationToken cancellationToken)
    {
        if (svm is not null && SvmNetworks.IsSvm(ReadNetwork(request)))
            return await svm.VerifyAsync(request, cancellationToken);
        var check = Check(request);
        if (check.Failure is { } failure)
            return new VerifyResponse { IsValid = false, InvalidReason = failure.Reason, InvalidMessage = failure.Message, Payer = check.Payer };

        var (authorization, token) = (check.Authorization!, check.Token!);
        var from = authorization.From.ToLowerHex();
        var (nonceUsed, balance) = await ledger.GetAuthorizationStateAsync(from, authorization.Nonce.ToString(), token, cancellationToken);
        if (nonceUsed)
            return Invalid(ReasonCodes.NonceAlreadyUsed, $"authorization nonce {authorization.Nonce} of {from} was already used", check.Payer);
        if (balance < authorization.Value)
            return Invalid(ReasonCodes.InsufficientBalance, $"balance {balance} of {from} is below {authorization.Value}", check.Payer);
        return new VerifyResponse { IsValid = true, Payer = check.Payer };
    }

    /// <summary>Re-verifies, then settles on the ledger in one transaction; a refusal is success:false with the reason.</summary>
    public async Task<SettleResponse> SettleAsync(FacilitatorRequest request, CancellationToken cancellationToken)
    {
        if (svm is not null && SvmNetworks.IsSvm(ReadNetwork(request)))
            return await svm.SettleAsync(request, cancellationToken);
        var check = Check(request);
        var network = check.Authorization?.Network ?? ReadNetwork(request);
        if (check.Failure is { } failure)
            return Refused(failure.Reason, failure.Message, check.Payer, network);

        var (authorization, token) = (check.Authorization!, check.Token!);
        var from = authorization.From.ToLowerHex();
        // keccak256(EIP-712 digest): one authorization, one hash, stable across retries of the same payment.
        var transaction = Hex.Encode(Keccak256.Hash(authorization.Digest.Span));
        var outcome = await ledger.TransferWithAuthorizationAsync(token, from, authorization.To.ToLowerHex(), authorization.Value,
            authorization.Nonce.ToString(), transaction, cancellationToken);
        switch (outcome)
        {
            case LedgerTransferOutcome.NonceAlreadyUsed:
                return Refused(ReasonCodes.NonceAlreadyUsed, $"authorization nonce {authorization.Nonce} of {from} was already used", check.Payer, network);
            case LedgerTransferOutcome.InsufficientBalance:
                return Refused(ReasonCodes.InsufficientBalance, $"balance of {from} is below {authorization.Value}", check.Payer, network);
        }
        // Debug: the paywall logs every settlement at Information already; a second line per paid request is log volume only.
        logger.LogDebug("Local facilitator settled {Value} from {From} to {To} on {Network}: {Transaction}.",
            authorization.Value, from, authorization.To.ToLowerHex(), token.Network, transaction);
        return new SettleResponse
        {
            Success = true,
            Payer = check.Payer,
            Transaction = transaction,
            Network = network,
            Amount = authorization.Value.ToString(),
        };
    }

    sealed record CheckResult(string? Payer, (string Reason, string Message)? Failure, VerifiedAuthorization? Authorization, LedgerToken? Token);

    // The verifier's off-chain checks, then what the token contract would refuse before touching state.
    CheckResult Check(FacilitatorRequest request)
    {
        var verification = verifier.Verify(request);
        if (!verification.IsValid)
            return new(verification.Payer, (verification.InvalidReason!, verification.InvalidMessage ?? verification.InvalidReason!), null, null);

        var authorization = verification.Authorization!;
        var network = Networks.ToCaip2(authorization.ChainId);
        if (!ServedNetworks.Contains(network))
            return new(verification.Payer, (InvalidNetwork, $"the local facilitator serves {string.Join(", ", ServedNetworks)}, not {authorization.Network}"), null, null);

        // A known token's contract hashes with its own EIP-712 name/version: a signature over other names fails on chain.
        if (KnownAssets.TryFind(network, authorization.Asset, out var asset))
        {
            var message = new TransferWithAuthorization(authorization.From, authorization.To, authorization.Value,
                authorization.ValidAfter, authorization.ValidBefore, authorization.Nonce);
            var domain = TransferWithAuthorization.Domain(asset.Eip712Name, asset.Eip712Version, authorization.ChainId, asset.Address);
            if (Bytes32.FromBytes(message.Digest(domain)) != authorization.Digest)
                return new(verification.Payer, (ReasonCodes.InvalidSignature,
                    $"token {asset.Address} signs with EIP-712 domain (\"{asset.Eip712Name}\", \"{asset.Eip712Version}\"), not the one in requirements.extra"), null, null);
        }
        return new(verification.Payer, null, authorization, new LedgerToken(authorization.Asset.ToLowerHex(), network));
    }

    static VerifyResponse Invalid(string reason, string message, string? payer) =>
        new() { IsValid = false, InvalidReason = reason, InvalidMessage = message, Payer = payer };

    static SettleResponse Refused(string reason, string message, string? payer, string network) =>
        new() { Success = false, ErrorReason = reason, ErrorMessage = message, Payer = payer, Transaction = "", Network = network };

    static string ReadNetwork(FacilitatorRequest request) =>
        request.PaymentRequirements.ValueKind == System.Text.Json.JsonValueKind.Object
        && request.PaymentRequirements.TryGetProperty("network", out var network)
        && network.ValueKind == System.Text.Json.JsonValueKind.String
            ? network.GetString()!
            : "";
}
