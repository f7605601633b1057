using System.Globalization;
using Sessions.PaymentGate.Pricing;
using Sessions.Payments.Mpp;
using Sessions.Payments.X402;

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
        if (route.Organization is null || route.Amount is null || context.RequestServices.GetService<MppChallenger>() is not { } challenger)
            return;
        context.Response.Headers.WWWAuthenticate = challenger.Create(context, route).ToHeaderValue();
        context.Response.Headers.CacheControl = "no-store";
        ExposeHeader(context.Response, "WWW-Authenticate");
    }

    /// <summary>The 402 body for an MPP client (headers, challenge included, are already set by the paywall's writer).</summary>
    public static Task WritePaymentProblemAsync(HttpContext context, string detail, IReadOnlyDictionary<string, object?>? extra)
    {
        var type = context.Items[ProblemTypeItem] as string ?? TypeOf(context.Items[ReasonItem] as string);
        var extensions = new Dictionary<string, object?>(extra ?? new Dictionary<string, object?>());
        if (context.Items[ChallengeIdItem] is string challengeId)
            extensions["challengeId"] = challengeId;
        return TypedResults.Problem(detail: detail, statusCode: StatusCodes.Status402PaymentRequired, title: TitleOf(type), type: ProblemBase + type,
            extensions: extensions).ExecuteAsync(context);
    }

    /// <summary>A 400 of the Payment scheme (method unsupported, several credentials), with a challenge that would work.</summary>
    public static Task WriteBadRequestAsync(HttpContext context, GateRoute route, string type, string detail)
    {
        context.Response.Clear();
        AddChallenge(context, route);
        context.Response.Headers.CacheControl = "no-store";
        return TypedResults.Problem(detail: detail, statusCode: StatusCodes.Status400BadRequest, title: TitleOf(type), type: ProblemBase + type)
            .ExecuteAsync(context);
    }

    /// <summary><c>Payment-Receipt</c> for a settled MPP payment; the reference is the settlement's transaction (ledger transfer id).</summary>
    public static void AddReceipt(HttpResponse response, SettleResponse settlement)
    {
        if (!IsAnswering(response.HttpContext))
            return;
        var time = response.HttpContext.RequestServices.GetService<TimeProvider>() ?? TimeProvider.System;
        response.Headers[ReceiptHeader] = new PaymentReceipt
        {
            Method = MppChallenger.Method, Timestamp = MppChallenger.FormatTime(time.GetUtcNow()), Reference = settlement.Transaction,
        }.ToHeaderValue();
        // A paid answer is the payer's alone: shared caches must not hand it to someone else.
        var cacheControl = response.Headers.CacheControl.ToString();
        if (!cacheControl.Split(',').Any(d => d.Trim().Equals("private", StringComparison.OrdinalIgnoreCase)))
            response.Headers.CacheControl = cacheControl.Length == 0 ? "private" : $"{cacheControl}, private";
        ExposeHeader(response, ReceiptHeader);
    }

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
