using Microsoft.Extensions.Primitives;
using Sessions.PaymentGate.Pricing;
using Sessions.Payments.X402;

namespace Sessions.PaymentGate.Paywall;

/// <summary>
/// The x402 payment kind: a <c>PAYMENT-SIGNATURE</c> (v2) or <c>X-PAYMENT</c> (v1) header read against a priced route
/// (decode → match, <see cref="PaymentAttempt"/>), then paid through <see cref="PaymentFlow"/>. A request with no payment at
/// all lands here too and gets the plain 402 with the route's offer.
/// </summary>
public sealed class X402Payment(PaymentFlow flow, TimeProvider time)
{
    public const int MaxPaymentHeaderLength = X402HeaderCodec.DefaultMaxHeaderLength;

    /// <summary>Pays <paramref name="route"/> with the request's x402 header; the answer to give.</summary>
    public async Task<PaymentAnswer> PayAsync(HttpContext context, Func<Task> next, GateRoute route, string resourceUrl, RequestCredentials credentials)
    {
        var (attempt, refusal) = ReadAttempt(route, resourceUrl, credentials, time.GetUtcNow());
        return attempt is null ? refusal! : await flow.PayAndForwardAsync(context, next, attempt, credentials.ApprovalId);
    }

    /// <summary>
    /// The payment header read against <paramref name="route"/>, or the refusal: 402 (missing, repeated, undecodable,
    /// unmatched) or 431 (too long). <paramref name="now"/> is the gate's clock (an SVM claim's lifetime starts then).
    /// </summary>
    public static (PaymentAttempt? Attempt, PaymentAnswer? Refusal) ReadAttempt(GateRoute route, string resourceUrl, RequestCredentials credentials,
        DateTimeOffset now)
    {
        var (header, headerName, headerCount) = (credentials.Header, credentials.HeaderName, credentials.HeaderCount);
        if (header is null)
            return (null, new PaymentAnswer.PaymentRequired(route, resourceUrl, "missing", "X-PAYMENT or PAYMENT-SIGNATURE header is required"));
        if (headerCount > 1)
            return (null, new PaymentAnswer.PaymentRequired(route, resourceUrl, "malformed", $"{headerName} was sent more than once"));
        if (header.Length > MaxPaymentHeaderLength)
            return (null, new PaymentAnswer.HeaderTooLarge(route, headerName!, header.Length, MaxPaymentHeaderLength));

        return ReadPayload(route, resourceUrl, header, $"{headerName} header", v1Refusal: null, now);
    }

    /// <summary>
    /// A base64 PaymentPayload (a header's value, or MCP's <c>_meta</c> object encoded as one) decoded and matched against
    /// <paramref name="route"/>, or the 402: malformed (undecodable, or v1 where <paramref name="v1Refusal"/> says why not) or
    /// unmatched. <paramref name="source"/> names where it came from in the message.
    /// </summary>
    public static (PaymentAttempt? Attempt, PaymentAnswer? Refusal) ReadPayload(GateRoute route, string resourceUrl, string encoded,
        string source, string? v1Refusal, DateTimeOffset now)
    {
        var decoded = X402HeaderCodec.DecodePaymentPayload(encoded, MaxPaymentHeaderLength);
        // PROTOCOLS.md: an undecodable payment is "no payment", a plain 402, with the reason spelt out.
        var malformed = !decoded.Succeeded ? decoded.Message : decoded.Value!.V2 is null ? v1Refusal : null;
        if (malformed is not null)
            return (null, new PaymentAnswer.PaymentRequired(route, resourceUrl, "malformed", $"invalid {source}: {malformed}"));
        var attempt = PaymentAttempt.TryCreate(route, resourceUrl, encoded, decoded.Value!, now, out var matchError);
        return attempt is null ? (null, new PaymentAnswer.PaymentRequired(route, resourceUrl, "unmatched", matchError)) : (attempt, null);
    }

    /// <summary>Reads PAYMENT-SIGNATURE (v2), else X-PAYMENT (v1), and removes both: upstreams never see payment proofs.</summary>
    public static (string? Header, string? Name, int Count) TakePaymentHeader(HttpRequest request)
    {
        (string?, string?, int) found = (null, null, 0);
        foreach (var name in new[] { X402HeaderCodec.PaymentSignatureHeader, X402HeaderCodec.PaymentHeaderV1 })
        {
            if (found.Item1 is null && request.Headers.TryGetValue(name, out StringValues values) && !StringValues.IsNullOrEmpty(values))
                found = (values[0], name, values.Count);
            request.Headers.Remove(name);
        }
        return found;
    }
}
