using System.Collections.Concurrent;
using System.Numerics;
using System.Text.Json;
using Sessions.Payments.Crypto;
using Sessions.Payments.Eip712;

namespace Sessions.Payments.X402;

/// <summary>
/// An EIP-3009 authorization whose signature, recipient, time window and amount passed the off-chain
/// checks. What remains is on-chain state (nonce unused, balance), which the facilitator's ledger decides.
/// </summary>
public sealed record VerifiedAuthorization(
    EvmAddress From,
    EvmAddress To,
    BigInteger Value,
    BigInteger ValidAfter,
    BigInteger ValidBefore,
    Bytes32 Nonce,
    string Signature,
    string Network,
    long ChainId,
    EvmAddress Asset,
    Bytes32 Digest);

/// <summary>Verify outcome; <see cref="Authorization"/> is set exactly when valid.</summary>
public sealed record ExactEvmVerification(bool IsValid, string? InvalidReason, string? InvalidMessage, string? Payer, VerifiedAuthorization? Authorization)
{
    public VerifyResponse ToVerifyResponse() => new() { IsValid = IsValid, InvalidReason = InvalidReason, InvalidMessage = InvalidMessage, Payer = Payer };

    internal static ExactEvmVerification Invalid(string reason, string message, string? payer) => new(false, reason, message, payer, null);
}

/// <summary>
/// The off-chain "exact" EVM (EIP-3009) facilitator checks, in the order of @x402/evm 2.x:
/// scheme; extra.name/version; network; signature recovers from; to == payTo; validBefore >= now+6;
/// validAfter <= now; value == amount. The first failing check is the one reported.
/// </summary>
public sealed class ExactEvmVerifier(TimeProvider timeProvider)
{
    public const string Scheme = "exact";

    // Recent recoveries by (digest, signature): a facilitator verifies a payment and re-verifies it moments later to settle
    // it, and recovery, a pure function of the two, is the costliest check (~0.2 ms of CPU). Bounded: cleared when full.
    const int MaxRememberedRecoveries = 4096;
    readonly ConcurrentDictionary<(Bytes32 Digest, string Signature), SignatureRecovery> _recoveries = new();
    int _remembered;

    /// <summary>How many recoveries were computed rather than remembered (tests).</summary>
    internal int RecoveriesComputed;

    /// <summary>validBefore must leave this many seconds for the settlement transaction to land.</summary>
    public const int ValidBeforeBufferSeconds = 6;

    public ExactEvmVerifier() : this(TimeProvider.System)
    {
    }

    public ExactEvmVerification Verify(PaymentPayload payload, PaymentRequirements requirements) => Verify(new CheckInput(
        payload.Accepted.Scheme, payload.Accepted.Network, payload.Payload,
        requirements.Scheme, requirements.Network, requirements.Amount, requirements.Asset, requirements.PayTo, requirements.Extra));

    public ExactEvmVerification Verify(PaymentPayloadV1 payload, PaymentRequirementsV1 requirements) => Verify(new CheckInput(
        payload.Scheme, payload.Network, payload.Payload,
        requirements.Scheme, requirements.Network, requirements.MaxAmountRequired, requirements.Asset, requirements.PayTo, requirements.Extra));

    /// <summary>A facilitator POST /verify body of either version.</summary>
    public ExactEvmVerification Verify(FacilitatorRequest request)
    {
        switch (request.X402Version)
        {
            case 2 when X402Json.TryReadV2(request, out var payload, out var requirements, out _):
                return Verify(payload!, requirements!);
            case 1 when X402Json.TryReadV1(request, out var payloadV1, out var requirementsV1, out _):
                return Verify(payloadV1!, requirementsV1!);
            case 1 or 2:
                return ExactEvmVerification.Invalid(ReasonCodes.InvalidPaymentRequirements, "paymentPayload or paymentRequirements has the wrong shape", null);
            default:
                return ExactEvmVerification.Invalid(ReasonCodes.InvalidX402Version, $"x402Version {request.X402Version} is not supported", null);
        }
    }

    private sealed record CheckInput(
        string PayloadScheme, string PayloadNetwork, JsonElement Payload,
        string Scheme, string Network, string Amount, string Asset, string PayTo, JsonElement? Extra);

    private ExactEvmVerification Verify(CheckInput input)
    {
        var payer = ReadPayer(input.Payload);

        if (input.PayloadScheme != Scheme || input.Scheme != Scheme)
            return ExactEvmVerification.Invalid(ReasonCodes.InvalidScheme, $"scheme must be \"{Scheme}\", got \"{input.PayloadScheme}\" / \"{input.Scheme}\"", payer);

        if (!TryReadDomainNames(input.Extra, out var tokenName, out var tokenVersion))
            return ExactEvmVerification.Invalid(ReasonCodes.MissingEip712Domain, "requirements.extra must carry the token's EIP-712 name and version", payer);

        if (input.PayloadNetwork != input.Network)
            return ExactEvmVerification.Invalid(ReasonCodes.NetworkMismatch, $"payment is for network \"{input.PayloadNetwork}\", requirements are for \"{input.Network}\"", payer);
        if (!Networks.TryGetChainId(input.Network, out var chainId))
            return ExactEvmVerification.Invalid(ReasonCodes.NetworkMismatch, $"network \"{input.Network}\" is not an EVM network this verifier knows", payer);
        if (!EvmAddress.TryParse(input.Asset, out var asset, out var assetError))
            return ExactEvmVerification.Invalid(ReasonCodes.InvalidPaymentRequirements, $"requirements.asset: {assetError}", payer);

        if (!ExactEvmPayload.TryRead(input.Payload, out var exact, out var payloadError))
            return ExactEvmVerification.Invalid(ReasonCodes.InvalidPayload, payloadError!, payer);
        if (string.IsNullOrEmpty(exact!.Signature))
            return ExactEvmVerification.Invalid(ReasonCodes.MissingSignature, "payload.signature is missing", payer);
        if (!TryParseAuthorization(exact.Authorization, out var message, out var fieldError))
            return ExactEvmVerification.Invalid(ReasonCodes.InvalidPayload, fieldError!, payer);

        var signatureCheck = CheckSignature(exact.Signature, message!, TransferWithAuthorization.Domain(tokenName, tokenVersion, chainId, asset), out var digest);
        if (signatureCheck is { } signatureFailure)
            return ExactEvmVerification.Invalid(signatureFailure.Reason, signatureFailure.Message, payer);

        if (!EvmAddress.TryParse(input.PayTo, out var payTo, out var payToError))
            return ExactEvmVerification.Invalid(ReasonCodes.InvalidPaymentRequirements, $"requirements.payTo: {payToError}", payer);
        if (message!.To != payTo)
            return ExactEvmVerification.Invalid(ReasonCodes.RecipientMismatch, $"authorization.to {message.To} is not payTo {payTo}", payer);

        var now = timeProvider.GetUtcNow().ToUnixTimeSeconds();
        if (message.ValidBefore < now + ValidBeforeBufferSeconds)
            return ExactEvmVerification.Invalid(ReasonCodes.ValidBeforeExpired, $"validBefore {message.ValidBefore} is earlier than now + {ValidBeforeBufferSeconds} s ({now + ValidBeforeBufferSeconds})", payer);
        if (message.ValidAfter > now)
            return ExactEvmVerification.Invalid(ReasonCodes.ValidAfterInFuture, $"validAfter {message.ValidAfter} is later than now ({now})", payer);

        if (!AtomicAmount.TryParse(input.Amount, out var required))
            return ExactEvmVerification.Invalid(ReasonCodes.InvalidRequiredAmount, $"required amount \"{input.Amount}\" is not a decimal uint256", payer);
        if (message.Value != required)
            return ExactEvmVerification.Invalid(ReasonCodes.AuthorizationValueMismatch, $"authorization value {message.Value} differs from the required {required}", payer);

        var verified = new VerifiedAuthorization(message.From, message.To, message.Value, message.ValidAfter, message.ValidBefore, message.Nonce,
            exact.Signature, input.Network, chainId, asset, Bytes32.FromBytes(digest));
        return new ExactEvmVerification(true, null, null, payer, verified);
    }

    private (string Reason, string Message)? CheckSignature(string signatureHex, TransferWithAuthorization message, Eip712Domain domain, out byte[] digest)
    {
        digest = message.Digest(domain);
        if (!Hex.TryDecode(signatureHex, out var signature))
            return (ReasonCodes.InvalidSignatureFormat, "signature is not 0x-prefixed hex");
        if (signature.Length != Secp256k1.SignatureLength)
            return (ReasonCodes.InvalidSignatureFormat, $"signature is {signature.Length} bytes; only 65-byte EOA signatures are supported");

        var recovery = Recover(digest, signature, signatureHex);
        if (!recovery.Succeeded)
            return (ReasonCodes.InvalidSignature, recovery.Message ?? "signature does not recover");
        if (recovery.Signer != message.From)
            return (ReasonCodes.InvalidSignature, $"signature recovers {recovery.Signer}, not authorization.from {message.From}");
        return null;
    }

    private SignatureRecovery Recover(byte[] digest, byte[] signature, string signatureHex)
    {
        var key = (Bytes32.FromBytes(digest), signatureHex);
        if (_recoveries.TryGetValue(key, out var remembered))
            return remembered;
        Interlocked.Increment(ref RecoveriesComputed);
        var recovery = Secp256k1.Recover(digest, signature);
        if (Interlocked.Increment(ref _remembered) > MaxRememberedRecoveries)
        {
            _recoveries.Clear();
            Interlocked.Exchange(ref _remembered, 0);
        }
        _recoveries[key] = recovery;
        return recovery;
    }

    private static bool TryParseAuthorization(ExactEvmAuthorization raw, out TransferWithAuthorization? message, out string? error)
    {
        message = null;
        error = null;
        if (!EvmAddress.TryParse(raw.From, out var from, out var fromError))
            error = $"authorization.from: {fromError}";
        else if (!EvmAddress.TryParse(raw.To, out var to, out var toError))
            error = $"authorization.to: {toError}";
        else if (!AtomicAmount.TryParse(raw.Value, out var value))
            error = "authorization.value must be a decimal uint256 string";
        else if (!AtomicAmount.TryParseUInt256(raw.ValidAfter, out var validAfter))
            error = "authorization.validAfter must be a decimal uint256 string";
        else if (!AtomicAmount.TryParseUInt256(raw.ValidBefore, out var validBefore))
            error = "authorization.validBefore must be a decimal uint256 string";
        else if (!Bytes32.TryParse(raw.Nonce, out var nonce))
            error = "authorization.nonce must be \"0x\" + 64 hex digits";
        else
            message = new TransferWithAuthorization(from, to, value, validAfter, validBefore, nonce);
        return message is not null;
    }

    private static bool TryReadDomainNames(JsonElement? extra, out string name, out string version)
    {
        name = version = "";
        if (extra is not { ValueKind: JsonValueKind.Object } element)
            return false;
        if (element.TryGetProperty("name", out var nameElement) && nameElement.ValueKind == JsonValueKind.String)
            name = nameElement.GetString()!;
        if (element.TryGetProperty("version", out var versionElement) && versionElement.ValueKind == JsonValueKind.String)
            version = versionElement.GetString()!;
        return name.Length > 0 && version.Length > 0;
    }

    /// <summary>The payer as sent (authorization.from), reported even when a later check fails.</summary>
    private static string? ReadPayer(JsonElement payload) =>
        payload.ValueKind == JsonValueKind.Object
        && payload.TryGetProperty("authorization", out var authorization)
        && authorization.ValueKind == JsonValueKind.Object
        && authorization.TryGetProperty("from", out var from)
        && from.ValueKind == JsonValueKind.String
            ? from.GetString()
            : null;
}
