using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Sessions.PaymentGate.Pricing;
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

    /// <summary>Set when the request carried a Payment credential: answers are MPP's.</summary>
    internal const string AnsweringItem = "mpp.answering";
    /// <summary>The problem type chosen by the MPP checks (otherwise derived from the paywall's reason).</summary>
    internal const string ProblemTypeItem = "mpp.problem";
    /// <summary>The paywall's reason for its 402 ("missing", "replay", an x402 reason code...).</summary>
    public const string ReasonItem = "paywall.reason";
    internal const string ChallengeIdItem = "mpp.challengeId";

    /// <summary><c>Accept-Payment</c>: the header mppx sends with every request, naming the methods it can pay with.</summary>
    public const string AcceptPaymentHeader = "Accept-Payment";

    /// <summary>
    /// MPP answers for a request that carried a Payment credential, or that says it speaks MPP (<c>Accept-Payment</c>, or
    /// <c>Accept: application/problem+json</c>): its 402 body is the problem; x402 1.x clients keep their v1 body.
    /// </summary>
    public static bool IsAnswering(HttpContext context) =>
        context.Items.ContainsKey(AnsweringItem)
        || context.Request.Headers.ContainsKey(AcceptPaymentHeader)
        || context.Request.Headers.Accept.Any(a => a?.Contains("application/problem+json", StringComparison.OrdinalIgnoreCase) == true);

    /// <summary>Adds a fresh challenge for <paramref name="route"/> (no-op when MPP is not registered).</summary>
    public static void AddChallenge(HttpContext context, GateRoute route)
    {
        if (CreateChallenge(context, route) is not { } challenge)
            return;
        context.Response.Headers.WWWAuthenticate = challenge.ToHeaderValue();
        context.Response.Headers.CacheControl = "no-store";
        ExposeHeader(context.Response, "WWW-Authenticate");
    }

    /// <summary>A fresh challenge for <paramref name="route"/>; null when MPP is not registered or the route has no price.</summary>
    public static PaymentChallenge? CreateChallenge(HttpContext context, GateRoute route) =>
        route.Organization is null || route.Amount is null || context.RequestServices.GetService<MppChallenger>() is not { } challenger
            ? null
            : challenger.Create(context, route);

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
    public static Task WritePaymentProblemAsync(HttpContext context, string detail, IReadOnlyDictionary<string, object?>? extra)
    {
        var (type, status, extensions) = ProblemOf(context, extra, challengeId: null);
        return Problems.WriteAsync(context, status, type, TitleOf(type), detail, extensions, type: ProblemBase + type);
    }

    /// <summary>
    /// The problem of the refusal being answered: its type (chosen by the MPP checks, else derived from the paywall's
    /// reason), status (400 for a request the scheme calls bad, else 402) and extensions (<paramref name="extra"/>, the
    /// echoed challenge's id, else <paramref name="challengeId"/>).
    /// </summary>
    public static (string Type, int Status, Dictionary<string, object?> Extensions) ProblemOf(HttpContext context,
        IReadOnlyDictionary<string, object?>? extra, string? challengeId)
    {
        var type = context.Items[ProblemTypeItem] as string ?? TypeOf(context.Items[ReasonItem] as string);
        var extensions = new Dictionary<string, object?>(extra ?? new Dictionary<string, object?>());
        if ((context.Items[ChallengeIdItem] as string ?? challengeId) is { } id)
            extensions["challengeId"] = id;
        var status = type is MethodUnsupported or BadRequest ? StatusCodes.Status400BadRequest : StatusCodes.Status402PaymentRequired;
        return (type, status, extensions);
    }

    /// <summary>The problem as a JSON object (RFC 9457 members first), for transports that carry it inside their own message.</summary>
    public static JsonObject ProblemJson(HttpContext context, string detail, IReadOnlyDictionary<string, object?>? extra, string? challengeId)
    {
        var (type, status, extensions) = ProblemOf(context, extra, challengeId);
        var problem = new JsonObject { ["type"] = ProblemBase + type, ["title"] = TitleOf(type), ["status"] = status, ["detail"] = detail };
        foreach (var (name, value) in extensions)
            problem[name] = JsonSerializer.SerializeToNode(value, JsonSerializerOptions.Web);
        return problem;
    }

    /// <summary>A 400 of the Payment scheme (method unsupported, several credentials), with a challenge that would work.</summary>
    public static Task WriteBadRequestAsync(HttpContext context, GateRoute route, string type, string detail)
    {
        context.Response.Clear();
        AddChallenge(context, route);
        context.Response.Headers.CacheControl = "no-store";
        return Problems.WriteAsync(context, StatusCodes.Status400BadRequest, type, TitleOf(type), detail, type: ProblemBase + type);
    }

    /// <summary><c>Payment-Receipt</c> for a settled MPP payment; the reference is the settlement's transaction (ledger transfer id).</summary>
    public static void AddReceipt(HttpResponse response, SettleResponse settlement)
    {
        if (!IsAnswering(response.HttpContext))
            return;
        response.Headers[ReceiptHeader] = ReceiptFor(response.HttpContext, settlement).ToHeaderValue();
        // A paid answer is the payer's alone: shared caches must not hand it to someone else.
        var cacheControl = response.Headers.CacheControl.ToString();
        if (!cacheControl.Split(',').Any(d => d.Trim().Equals("private", StringComparison.OrdinalIgnoreCase)))
            response.Headers.CacheControl = cacheControl.Length == 0 ? "private" : $"{cacheControl}, private";
        ExposeHeader(response, ReceiptHeader);
    }

    /// <summary>The receipt of a settled MPP payment; the reference is the settlement's transaction (ledger transfer id).</summary>
    public static PaymentReceipt ReceiptFor(HttpContext context, SettleResponse settlement)
    {
        var time = context.RequestServices.GetService<TimeProvider>() ?? TimeProvider.System;
        return new PaymentReceipt { Method = MppChallenger.Method, Timestamp = MppChallenger.FormatTime(time.GetUtcNow()), Reference = settlement.Transaction };
    }

    /// <summary>The id of the challenge the request's credential echoed (null before the MPP checks read one).</summary>
    public static string? EchoedChallengeId(HttpContext context) => context.Items[ChallengeIdItem] as string;

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
