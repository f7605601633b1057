using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Net.Http.Headers;
using Sessions.PaymentGate.Paywall;
using Sessions.PaymentGate.Pricing;
using Sessions.Payments;
using Sessions.Payments.Crypto;
using Sessions.Payments.Eip712;
using Sessions.Payments.Mpp;
using Sessions.Payments.X402;

namespace Sessions.PaymentGate.Mpp;

/// <summary>
/// The MPP payment kind: <c>Authorization: Payment &lt;credential&gt;</c> read against a priced route, with the checks of
/// the evm charge draft and mppx's <c>evm.charge</c> server in their order (challenge id, binding to this route, expiry,
/// payload, signature, source), and turned into the x402 v2 "exact" <see cref="PaymentAttempt"/> it is: an EIP-3009
/// TransferWithAuthorization for the route's payTo and price. From there <see cref="PaymentFlow"/> (verify, claim with the
/// replay guard, mandates, forward, settle on the ledger) runs unchanged; only the answers are MPP's (<see cref="MppResponses"/>).
/// MCP clients send the same credential as an object in <c>params._meta</c> (<see cref="ReadMcpAttempt"/>): same checks.
/// </summary>
public sealed class MppPayments(MppChallenger challenger, PaymentFlow flow)
{
    /// <summary>True when an Authorization value uses the Payment scheme.</summary>
    public static bool HasCredential(HttpRequest request)
    {
        foreach (var value in request.Headers.Authorization)
            if (value is not null && HasCredential(value))
                return true;
        return false;
    }

    /// <summary>
    /// Pays <paramref name="route"/> with the request's <c>Authorization: Payment</c> credential (<paramref name="approvalId"/>:
    /// its <c>Mandate-Approval</c>); the answer to give.
    /// </summary>
    public async Task<PaymentAnswer> PayAsync(HttpContext context, Func<Task> next, GateRoute route, string resourceUrl, string? approvalId)
    {
        var (attempt, refusal) = ReadAttempt(context, route, resourceUrl);
        return attempt is null ? refusal! : await flow.PayAndForwardAsync(context, next, attempt, approvalId);
    }

    /// <summary>
    /// The attempt, or the refusal: 402 problem with a fresh challenge (and the x402 offer) for a credential that cannot
    /// pay, 400 for an unsupported method or several Payment credentials (one beside an x402 header never gets here: the
    /// gate refuses it as <c>ambiguous-payment</c>, Proxy/GateRequestGuard).
    /// </summary>
    public (PaymentAttempt? Attempt, PaymentAnswer? Refusal) ReadAttempt(HttpContext context, GateRoute route, string resourceUrl)
    {
        var values = context.Request.Headers.Authorization.ToArray();
        // A payment proof never reaches an upstream (the same rule as PAYMENT-SIGNATURE).
        context.Request.Headers.Remove(HeaderNames.Authorization);
        var decoded = PaymentCredentials.Decode(values);
        if (decoded.Error == CredentialError.Multiple)
            return (null, new PaymentAnswer.MppBadRequest(route, MppResponses.BadRequest, "Send one payment per request: several Payment credentials were sent."));
        // The credential's own text keys the replay guard's redemption of a payment whose settlement was pending.
        var key = decoded.Succeeded ? values.Single(v => v is not null && HasCredential(v))!.Trim() : "";
        return CheckCredential(context, route, resourceUrl, decoded, key, inMcpCall: false);
    }

    /// <summary>
    /// The credential an MCP client sent in <c>params._meta["org.paymentauth/credential"]</c>: mppx's deserialized
    /// credential object (<c>{challenge: {..., request: {decoded}}, payload, source?}</c>). It is put back into its wire
    /// form exactly as mppx's server does (request JCS + base64url, <c>meta</c> as the opaque) and checked like the header.
    /// </summary>
    public (PaymentAttempt? Attempt, PaymentAnswer? Refusal) ReadMcpAttempt(HttpContext context, GateRoute route, string resourceUrl, JsonNode? value)
    {
        var token = ToWireToken(value, out var shapeError);
        var decoded = token is null
            ? new CredentialDecodeResult(null, CredentialError.InvalidShape, shapeError)
            : PaymentCredentials.DecodeToken(token);
        return CheckCredential(context, route, resourceUrl, decoded, $"{PaymentChallenge.Scheme} {token}", inMcpCall: true);
    }

    static string? ToWireToken(JsonNode? value, out string? error)
    {
        error = "the credential must be an object {challenge, payload, source?} whose challenge.request is an object";
        if (value?.DeepClone() is not JsonObject credential || credential["challenge"] is not JsonObject challenge
            || challenge["request"] is not JsonObject request || !credential.ContainsKey("payload"))
            return null;
        try
        {
            challenge["request"] = Base64Url.Encode(Jcs.CanonicalizeToUtf8(JsonSerializer.SerializeToElement(request)));
            if (challenge["meta"] is JsonObject meta && !challenge.ContainsKey("opaque"))
                challenge["opaque"] = Base64Url.Encode(Jcs.CanonicalizeToUtf8(JsonSerializer.SerializeToElement(meta)));
            challenge.Remove("meta");
            return Base64Url.Encode(Encoding.UTF8.GetBytes(credential.ToJsonString()));
        }
        catch (Exception exception) when (exception is FormatException or InvalidOperationException or JsonException)
        {
            error = $"the credential cannot be canonicalized: {exception.Message}";
            return null;
        }
    }

    /// <summary>
    /// One check path for both transports: challenge id and binding, expiry, the evm authorization, then the exact-EVM
    /// attempt. Refusals are MPP's problems, answered in the request's form (HTTP problem or MCP error).
    /// </summary>
    (PaymentAttempt? Attempt, PaymentAnswer? Refusal) CheckCredential(HttpContext context, GateRoute route, string resourceUrl,
        CredentialDecodeResult decoded, string key, bool inMcpCall)
    {
        string? challengeId = null;

        (PaymentAttempt?, PaymentAnswer?) Refuse(string type, string detail, string? payer = null)
        {
            // Plain HTTP answers an unsupported method with 400; a transport with its own answer format says it there.
            if (type == MppResponses.MethodUnsupported && !inMcpCall)
                return (null, new PaymentAnswer.MppBadRequest(route, type, detail));
            return (null, new PaymentAnswer.PaymentRequired(route, resourceUrl, "mpp_" + type, detail, payer, ProblemType: type,
                Mpp: new MppCredentialSeen(challengeId)));
        }

        if (!decoded.Succeeded)
            return Refuse(MppResponses.MalformedCredential, $"Credential is malformed: {decoded.Message}.");
        var credential = decoded.Credential!;
        var echoed = credential.Challenge;
        if (echoed.Method != MppChallenger.Method || echoed.Intent != MppChallenger.Intent)
        {
            return Refuse(MppResponses.MethodUnsupported,
                $"Method '{echoed.Method}' with intent '{echoed.Intent}' is not accepted here; pay with method \"evm\", intent \"charge\".");
        }
        challengeId = echoed.Id;
        // 1. Issued by this gate with exactly these parameters (request, expires and realm included).
        if (!ChallengeId.Verify(challenger.Key, echoed))
            return Refuse(MppResponses.InvalidChallenge, $"Challenge \"{echoed.Id}\" was not issued by this gate with these parameters.");
        if (echoed.Realm != challenger.RealmOf(context))
            return Refuse(MppResponses.InvalidChallenge, $"Challenge realm '{echoed.Realm}' is not this gate's ('{challenger.RealmOf(context)}').");
        // 2. Bound to this route's price and recipient: a challenge of a cheaper route does not pay this one.
        var expected = Base64Url.Encode(Jcs.CanonicalizeToUtf8(MppChallenger.RequestFor(route)));
        if (!ChallengeId.TryCanonicalRequest(echoed.Request, out var echoedRequest) || echoedRequest != expected)
        {
            var insufficient = TryReadAmount(echoed.Request, out var amount) && amount < route.Amount!.Value;
            return Refuse(insufficient ? MppResponses.PaymentInsufficient : MppResponses.InvalidChallenge, insufficient
                ? $"The challenge asks for {amount} atomic units; {route.Name} costs {route.Amount}."
                : $"The challenge's request does not match what {route.Name} asks for (amount, currency, recipient, chain).");
        }
        // 3. Not expired (and present: fail closed, as mppx does).
        var now = challenger.Time.GetUtcNow();
        if (!DateTimeOffset.TryParse(echoed.Expires, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var expires))
            return Refuse(MppResponses.InvalidChallenge, $"Challenge \"{echoed.Id}\" has no valid expires.");
        // Expired pays nothing new, but is not refused here: the paywall still redeems this credential's own payment if it was
        // settled while its answer could not be given (503 "retry the same payment later"), as it does for x402.
        string? expired = expires <= now ? $"Challenge \"{echoed.Id}\" expired at {echoed.Expires}." : null;
        // 4. The evm authorization payload.
        var (payload, payloadType, payloadError) = ReadAuthorization(credential.Payload);
        if (payload is null)
        {
            // Another credential type (permit2, transaction, hash) is well-formed but not one this gate offered.
            return Refuse(payloadType is null ? MppResponses.MalformedCredential : MppResponses.VerificationFailed, payloadError!);
        }
        var (failureType, failure) = Check(payload!, credential, route, now);
        if (failureType == MppResponses.PaymentExpired)
            expired ??= failure;
        else if (failureType is not null)
            return Refuse(failureType, failure!, payload!.From);

        // 5. The x402 v2 exact payment this authorization is, accepted against the route's own offer.
        var exact = new ExactEvmPayload
        {
            Signature = payload!.Signature,
            Authorization = new ExactEvmAuthorization
            {
                From = payload.From, To = payload.To, Value = payload.Value, ValidAfter = payload.ValidAfter, ValidBefore = payload.ValidBefore,
                Nonce = payload.Nonce,
            },
        };
        var v2 = new PaymentPayload
        {
            Resource = new ResourceInfo { Url = resourceUrl, Description = route.Description, MimeType = route.MimeType },
            Accepted = route.Requirements!,
            Payload = exact.ToJsonElement(),
        };
        var attempt = PaymentAttempt.TryCreate(route, resourceUrl, key, new DecodedPaymentPayload(2, null, v2), now, out var error);
        if (attempt is null)
            return Refuse(MppResponses.VerificationFailed, error, payload.From);
        return (attempt with { ExpiredDetail = expired, Mpp = new MppCredentialSeen(echoed.Id) }, null);
    }

    /// <summary>mppx's checks in its order; (null, null) when the authorization pays this route.</summary>
    (string? Type, string? Detail) Check(AuthorizationPayload payload, PaymentCredential credential, GateRoute route, DateTimeOffset now)
    {
        var organization = route.Organization!;
        var asset = organization.Asset;
        if (!EvmAddress.TryParse(payload.From, out var from) || !EvmAddress.TryParse(payload.To, out var to)
            || !AtomicAmount.TryParse(payload.Value, out var value) || !AtomicAmount.TryParseUInt256(payload.ValidAfter, out var validAfter)
            || !AtomicAmount.TryParseUInt256(payload.ValidBefore, out var validBefore) || !Bytes32.TryParse(payload.Nonce, out var nonce))
            return (MppResponses.MalformedCredential, "Credential is malformed: from/to must be addresses, value/validAfter/validBefore decimal strings, nonce 32 bytes hex.");
        if (to != organization.PayTo)
            return (MppResponses.VerificationFailed, $"EVM authorization recipient mismatch: {to} is not {organization.PayTo}.");
        if (value != route.Amount!.Value)
            return (value < route.Amount.Value ? MppResponses.PaymentInsufficient : MppResponses.VerificationFailed,
                $"EVM authorization amount mismatch: {value} instead of {route.Amount}.");
        if (nonce != MppEvm.AuthorizationNonce(credential.Challenge.Id, credential.Challenge.Realm))
            return (MppResponses.VerificationFailed, "EVM authorization challenge hash mismatch: nonce must be keccak256(challenge.id + challenge.realm).");
        var unixNow = now.ToUnixTimeSeconds();
        if (validAfter > unixNow)
            return (MppResponses.VerificationFailed, $"EVM authorization is not valid yet (validAfter {validAfter}).");
        // Checked last: an expired authorization that is otherwise sound may still redeem its own settled payment.
        var expired = validBefore <= unixNow ? $"EVM authorization has expired (validBefore {validBefore})." : null;
        var message = new TransferWithAuthorization(from, to, value, validAfter, validBefore, nonce);
        var recovered = message.RecoverSigner(TransferWithAuthorization.Domain(asset.Eip712Name, asset.Eip712Version, asset.ChainId, asset.Address),
            payload.Signature);
        if (!recovered.Succeeded || recovered.Signer != from)
            return (MppResponses.VerificationFailed, "EVM authorization signature mismatch: the typed-data signer is not 'from'.");
        if (credential.Source is { } source
            && (!MppEvm.TryParseSourceDid(source, out var chainId, out var sourceAddress) || chainId != asset.ChainId || sourceAddress != from))
            return (MppResponses.VerificationFailed, $"EVM authorization source mismatch: expected {MppEvm.SourceDid(asset.ChainId, from)}.");
        return expired is null ? (null, null) : (MppResponses.PaymentExpired, expired);
    }

    sealed record AuthorizationPayload(string From, string To, string Value, string ValidAfter, string ValidBefore, string Nonce, string Signature);

    /// <summary>The authorization payload; else its type (null when there is none) and why it cannot be used.</summary>
    static (AuthorizationPayload? Payload, string? Type, string? Error) ReadAuthorization(JsonElement payload)
    {
        var type = Text(payload, "type");
        if (type is null)
            return (null, null, "Credential is malformed: payload.type is missing.");
        if (type != "authorization")
            return (null, type, $"Credential type '{type}' is not accepted: this gate offers EIP-3009 \"authorization\" credentials only.");
        string?[] fields = [Text(payload, "from"), Text(payload, "to"), Text(payload, "value"), Text(payload, "validAfter"),
            Text(payload, "validBefore"), Text(payload, "nonce"), Text(payload, "signature")];
        if (fields.Any(f => f is null))
            return (null, null, "Credential is malformed: an authorization payload has string members from, to, value, validAfter, validBefore, nonce, signature.");
        return (new AuthorizationPayload(fields[0]!, fields[1]!, fields[2]!, fields[3]!, fields[4]!, fields[5]!, fields[6]!), type, null);
    }

    static bool TryReadAmount(string requestB64, out AtomicAmount amount)
    {
        amount = AtomicAmount.Zero;
        if (!Base64Url.TryDecode(requestB64, out var bytes))
            return false;
        try
        {
            using var document = JsonDocument.Parse(bytes);
            return AtomicAmount.TryParse(Text(document.RootElement, "amount"), out amount);
        }
        catch (JsonException)
        {
            return false;
        }
    }

    static string? Text(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    /// <summary>True when one Authorization value (or one of its comma-separated parts) uses the Payment scheme.</summary>
    public static bool HasCredential(string value) =>
        // Trimmed on both sides as PaymentCredentials.TryExtractToken does: "Payment " alone is no credential to either.
        value.Split(',').Any(part => part.Trim(' ', '\t') is var item && item.Length > PaymentChallenge.Scheme.Length
            && item.StartsWith(PaymentChallenge.Scheme, StringComparison.OrdinalIgnoreCase) && item[PaymentChallenge.Scheme.Length] is ' ' or '\t');
}
