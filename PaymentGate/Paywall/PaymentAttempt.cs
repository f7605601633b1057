using System.Globalization;
using System.Numerics;
using System.Text.Json;
using Sessions.PaymentGate.Pricing;
using Sessions.Payments;
using Sessions.Payments.Crypto;
using Sessions.Payments.Svm;
using Sessions.Payments.X402;

namespace Sessions.PaymentGate.Paywall;

/// <summary>
/// One payment header read against one priced route: decoded, matched to the offered requirement, and with the
/// EIP-3009 fields the gate needs for its replay guard (payer, nonce, validBefore). Building it persists nothing.
/// </summary>
public sealed record PaymentAttempt(
    GateRoute Route, string ResourceUrl, string Header, int X402Version, JsonElement Payload, JsonElement Requirements,
    string Network, string Payer, string Nonce, DateTimeOffset ValidBefore)
{
    public byte[] HeaderSha256 { get; } = PaymentStore.Hash(Header);

    /// <summary>
    /// Set for an MPP credential whose challenge or authorization has expired (why, for the payment-expired problem): it pays
    /// nothing new, but still redeems a payment of its own that was settled while the answer could not be given.
    /// </summary>
    public string? ExpiredDetail { get; init; }

    /// <summary>The v2 requirement the payment accepted (EVM or SVM); null for v1, which has the organisation's EVM one.</summary>
    public PaymentRequirements? Accepted { get; init; }

    /// <summary>
    /// How long an SVM payment's claim lives: its blockhash expires after 150 slots (60 to 90 s), after which the
    /// transaction can never land; the spec's duplicate-settlement window is 120 s.
    /// </summary>
    public static readonly TimeSpan SvmClaimLifetime = TimeSpan.FromSeconds(120);

    /// <summary>Set when the attempt is an MPP credential (PaymentGate/Mpp): the answers are MPP's, with its challenge id.</summary>
    public MppCredentialSeen? Mpp { get; init; }

    public VerifyRequest VerifyRequest() => new() { X402Version = X402Version, PaymentPayload = Payload, PaymentRequirements = Requirements };

    public SettleRequest SettleRequest() => new() { X402Version = X402Version, PaymentPayload = Payload, PaymentRequirements = Requirements };

    /// <summary>
    /// The attempt, or the 402 error text (the x402 reason code where one exists). <paramref name="now"/>, the gate's clock,
    /// starts an SVM claim's lifetime.
    /// </summary>
    public static PaymentAttempt? TryCreate(GateRoute route, string resourceUrl, string header, DecodedPaymentPayload decoded, DateTimeOffset now,
        out string error)
    {
        int version;
        JsonElement payload, requirements;
        string network;
        if (decoded.V2 is { } v2)
        {
            // v2: the client echoes the requirement it accepted; it must deep-equal the one offered (extra included).
            var accepted = RequirementsMatcher.FindAccepted(v2, route.Offers);
            if (accepted is null)
            {
                error = $"accepted requirement does not match what {route.Name} offers (scheme {v2.Accepted.Scheme}, network {v2.Accepted.Network}, " +
                        $"amount {v2.Accepted.Amount}, asset {v2.Accepted.Asset}, payTo {v2.Accepted.PayTo})";
                return null;
            }
            (version, network) = (2, accepted.Network);
            payload = X402Json.ToElement(v2, X402JsonContext.Strict.PaymentPayload);
            requirements = X402Json.ToElement(accepted, X402JsonContext.Strict.PaymentRequirements);
            if (SvmNetworks.IsSvm(network))
                return TryCreateSvm(route, resourceUrl, header, v2, accepted, payload, requirements, now, out error);
        }
        else
        {
            var v1 = decoded.V1!;
            var offered = route.RequirementsV1(resourceUrl);
            if (offered is null || RequirementsMatcher.FindV1(v1, [offered]) is null)
            {
                error = offered is null
                    ? $"{route.Name} is not payable with x402 v1 (its network has no v1 name)"
                    : $"{ReasonCodes.UnsupportedScheme}: scheme '{v1.Scheme}' on network '{v1.Network}' is not offered (expected '{offered.Scheme}' on '{offered.Network}')";
                return null;
            }
            (version, network) = (1, offered.Network);
            payload = X402Json.ToElement(v1, X402JsonContext.Strict.PaymentPayloadV1);
            requirements = X402Json.ToElement(offered, X402JsonContext.Strict.PaymentRequirementsV1);
        }

        // The replay key and claim lifetime come from the signed authorization; a payload without them cannot verify either.
        var exactPayload = decoded.V2?.Payload ?? decoded.V1!.Payload;
        if (!ExactEvmPayload.TryRead(exactPayload, out var exact, out var payloadError))
        {
            error = $"{ReasonCodes.InvalidPayload}: {payloadError}";
            return null;
        }
        var authorization = exact!.Authorization;
        if (!EvmAddress.TryParse(authorization.From, out var from, out var fromError))
        {
            error = $"{ReasonCodes.InvalidPayload}: authorization.from: {fromError}";
            return null;
        }
        if (!Bytes32.TryParse(authorization.Nonce, out var nonce))
        {
            error = $"{ReasonCodes.InvalidPayload}: authorization.nonce must be \"0x\" + 64 hex digits";
            return null;
        }
        if (!AtomicAmount.TryParseUInt256(authorization.ValidBefore, out var validBefore))
        {
            error = $"{ReasonCodes.InvalidPayload}: authorization.validBefore must be a decimal uint256 string";
            return null;
        }
        error = "";
        return new PaymentAttempt(route, resourceUrl, header, version, payload, requirements, network,
            from.ToLowerHex(), nonce.ToString().ToLowerInvariant(), ToTime(validBefore));
    }

    // An SVM payment's replay key: its authority and the SHA-256 of its message (the key the official facilitator's
    // duplicate-settlement cache uses). Every copy of one signed transaction has it; a new memo nonce makes a new payment.
    static PaymentAttempt? TryCreateSvm(GateRoute route, string resourceUrl, string header, PaymentPayload v2, PaymentRequirements accepted,
        JsonElement payload, JsonElement requirements, DateTimeOffset now, out string error)
    {
        if (!ExactSvmPayload.TryRead(v2.Payload, out var transaction, out var payloadError))
        {
            error = $"{SvmReasonCodes.TransactionCouldNotBeDecoded}: {payloadError}";
            return null;
        }
        if (transaction!.Message.TokenPayer() is not { } payer)
        {
            error = $"{SvmReasonCodes.NoTransferInstruction}: the transaction has no token transfer with an authority";
            return null;
        }
        error = "";
        return new PaymentAttempt(route, resourceUrl, header, 2, payload, requirements, accepted.Network,
            payer.ToString(), Hex.Encode(transaction.MessageHash()), now + SvmClaimLifetime) { Accepted = accepted };
    }

    public NewPayment ToNewPayment() => new(Payer, Nonce, Route.Organization!.Id, Route.Name, ResourceUrl, Route.Amount!.Value,
        Network, Accepted?.Asset ?? Route.Organization.Asset.Address.ToString(), Accepted?.PayTo ?? Route.Organization.PayTo.ToString(),
        X402Version, HeaderSha256, ValidBefore, X402Json.Serialize(SettleRequest(), X402JsonContext.Strict.SettleRequest));

    static DateTimeOffset ToTime(BigInteger unixSeconds) =>
        unixSeconds >= 253402300799 ? DateTimeOffset.MaxValue : DateTimeOffset.FromUnixTimeSeconds((long)unixSeconds);

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"x402 v{X402Version} {Payer}/{Nonce} for {Route.Name}");
}
