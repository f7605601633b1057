using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Sessions.PaymentGate.Paywall;
using Sessions.Payments.Mpp;
using Sessions.Payments.X402;
using Sessions.ServiceDefaults.Errors;

namespace Sessions.PaymentGate.Mpp;

/// <summary>
/// What MPP adds to the paywall's answers: a fresh <c>WWW-Authenticate: Payment</c> challenge on every 402 of a paid
/// route, and, to a request that paid (or tried to) with <c>Authorization: Payment</c>, RFC 9457 problems with the
/// paymentauth.org types instead of the x402 v1 body, and <c>Payment-Receipt</c> + <c>Cache-Control: private</c> on success.
/// x402 clients see one extra header and nothing else changes for them.
/// </summary>
public static class MppResponses
{
    public const string ProblemBase = "https://paymentauth.org/problems/";
    public const string PaymentRequired = "payment-required";
    public const string PaymentInsufficient = "payment-insufficient";
    public const string PaymentExpired = "payment-expired";
    public const string VerificationFailed = "verification-failed";
    public const string MalformedCredential = "malformed-credential";
    public const string InvalidChallenge = "invalid-challenge";
    public const string MethodUnsupported = "method-unsupported";
    public const string BadRequest = "bad-request";
    public const string ReceiptHeader = "Payment-Receipt";

    /// <summary><c>Accept-Payment</c>: the header mppx sends with every request, naming the methods it can pay with.</summary>
    public const string AcceptPaymentHeader = "Accept-Payment";

    /// <summary>
    /// MPP answers for a request that carried a Payment credential (<paramref name="credentialSent"/>), or that says it speaks
    /// MPP (<c>Accept-Payment</c>, or <c>Accept: application/problem+json</c>): its 402 body is the problem; x402 1.x clients
    /// keep their v1 body.
    /// </summary>
    public static bool IsAnswering(HttpRequest request, bool credentialSent) =>
        credentialSent
        || request.Headers.ContainsKey(AcceptPaymentHeader)
        || request.Headers.Accept.Any(a => a?.Contains("application/problem+json", StringComparison.OrdinalIgnoreCase) == true);

    /// <summary>Adds <paramref name="challenge"/> (a fresh one for the route; null when MPP offers none) as <c>WWW-Authenticate</c>.</summary>
    public static void AddChallenge(HttpResponse response, PaymentChallenge? challenge)
    {
        if (challenge is null)
            return;
        response.Headers.WWWAuthenticate = challenge.ToHeaderValue();
        response.Headers.CacheControl = "no-store";
        ExposeHeader(response, "WWW-Authenticate");
    }

    /// <summary>
    /// A challenge as MPP's MCP transport carries it (<c>error.data.challenges[]</c>, mppx <c>Challenge.Schema</c>): the
    /// auth-params as members, <c>request</c> decoded to its object. Clients re-encode it (JCS) when they echo it.
    /// </summary>
    public static JsonObject ToJson(PaymentChallenge challenge)
    {
        Base64Url.TryDecode(challenge.Request, out var request);
        var json = new JsonObject
        {
            ["id"] = challenge.Id, ["realm"] = challenge.Realm, ["method"] = challenge.Method, ["intent"] = challenge.Intent,
            ["request"] = JsonNode.Parse(request),
        };
        if (challenge.Description is not null) json["description"] = challenge.Description;
        if (challenge.Digest is not null) json["digest"] = challenge.Digest;
        if (challenge.Expires is not null) json["expires"] = challenge.Expires;
        if (challenge.Opaque is not null) json["opaque"] = challenge.Opaque;
        return json;
    }

    /// <summary>The 402 body for an MPP client (headers, challenge included, are already set by the paywall's writer).</summary>
    public static Task WritePaymentProblemAsync(HttpContext context, PaymentAnswer.PaymentRequired refusal)
    {
        var (type, status, extensions) = ProblemOf(refusal, challengeId: null);
        return Problems.WriteAsync(context, status, type, TitleOf(type), refusal.Error, extensions, type: ProblemBase + type);
    }

    /// <summary>
    /// The problem of <paramref name="refusal"/>: its type (chosen by the MPP checks, else derived from the paywall's
    /// reason), status (400 for a request the scheme calls bad, else 402) and extensions (the refusal's extra members, the
    /// echoed challenge's id, else <paramref name="challengeId"/>).
    /// </summary>
    public static (string Type, int Status, Dictionary<string, object?> Extensions) ProblemOf(PaymentAnswer.PaymentRequired refusal, string? challengeId)
    {
        var type = refusal.ProblemType ?? TypeOf(refusal.Reason);
        var extensions = new Dictionary<string, object?>(refusal.Extra ?? new Dictionary<string, object?>());
        if ((refusal.Mpp?.ChallengeId ?? challengeId) is { } id)
            extensions["challengeId"] = id;
        var status = type is MethodUnsupported or BadRequest ? StatusCodes.Status400BadRequest : StatusCodes.Status402PaymentRequired;
        return (type, status, extensions);
    }

    /// <summary>The problem as a JSON object (RFC 9457 members first), for transports that carry it inside their own message.</summary>
    public static JsonObject ProblemJson(PaymentAnswer.PaymentRequired refusal, string? challengeId)
    {
        var (type, status, extensions) = ProblemOf(refusal, challengeId);
        var problem = new JsonObject { ["type"] = ProblemBase + type, ["title"] = TitleOf(type), ["status"] = status, ["detail"] = refusal.Error };
        foreach (var (name, value) in extensions)
            problem[name] = JsonSerializer.SerializeToNode(value, JsonSerializerOptions.Web);
        return problem;
    }

    /// <summary>A 400 of the Payment scheme (method unsupported, several credentials), with <paramref name="challenge"/>, which would work.</summary>
    public static Task WriteBadRequestAsync(HttpContext context, PaymentChallenge? challenge, string type, string detail)
    {
        context.Response.Clear();
        AddChallenge(context.Response, challenge);
        context.Response.Headers.CacheControl = "no-store";
        return Problems.WriteAsync(context, StatusCodes.Status400BadRequest, type, TitleOf(type), detail, type: ProblemBase + type);
    }

    /// <summary><c>Payment-Receipt</c> for a settled MPP payment, and <c>Cache-Control: private</c>.</summary>
    public static void AddReceipt(HttpResponse response, PaymentReceipt receipt)
    {
        response.Headers[ReceiptHeader] = receipt.ToHeaderValue();
        // A paid answer is the payer's alone: shared caches must not hand it to someone else.
        var cacheControl = response.Headers.CacheControl.ToString();
        if (!cacheControl.Split(',').Any(d => d.Trim().Equals("private", StringComparison.OrdinalIgnoreCase)))
            response.Headers.CacheControl = cacheControl.Length == 0 ? "private" : $"{cacheControl}, private";
        ExposeHeader(response, ReceiptHeader);
    }

    /// <summary>The receipt of a settled MPP payment; the reference is the settlement's transaction (ledger transfer id).</summary>
    public static PaymentReceipt ReceiptFor(TimeProvider time, SettleResponse settlement) =>
        new() { Method = MppChallenger.Method, Timestamp = MppChallenger.FormatTime(time.GetUtcNow()), Reference = settlement.Transaction };

    /// <summary>The problem type for a reason of the shared x402 path (verify, claim, settle).</summary>
    public static string TypeOf(string? reason) => reason switch
    {
        null or "missing" or "session_unusable" => PaymentRequired,
        "malformed" => MalformedCredential,
        // A credential whose nonce the gate has seen: the challenge was used already.
        "unmatched" or "replay" or ReasonCodes.NonceAlreadyUsed => InvalidChallenge,
        ReasonCodes.ValidBeforeExpired => PaymentExpired,
        ReasonCodes.AuthorizationValueMismatch => PaymentInsufficient,
        _ => VerificationFailed,
    };

    static string TitleOf(string type) => type switch
    {
        PaymentRequired => "Payment Required",
        PaymentInsufficient => "Payment Insufficient",
        PaymentExpired => "Payment Expired",
        VerificationFailed => "Verification Failed",
        MalformedCredential => "Malformed Credential",
        InvalidChallenge => "Invalid Challenge",
        MethodUnsupported => "Method Unsupported",
        _ => CultureInfo.InvariantCulture.TextInfo.ToTitleCase(type.Replace('-', ' ')),
    };

    static void ExposeHeader(HttpResponse response, string name)
    {
        var current = response.Headers.AccessControlExposeHeaders.ToString();
        if (!current.Split(',').Any(h => h.Trim().Equals(name, StringComparison.OrdinalIgnoreCase)))
            response.Headers.AccessControlExposeHeaders = current.Length == 0 ? name : $"{current}, {name}";
    }
}
