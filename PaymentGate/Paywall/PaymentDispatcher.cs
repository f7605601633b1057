using Microsoft.AspNetCore.Http.Extensions;
using Sessions.PaymentGate.Mcp;
using Sessions.PaymentGate.Mpp;
using Sessions.PaymentGate.Pricing;
using Sessions.PaymentGate.Receipts;
using Sessions.PaymentGate.Sessions;
using Yarp.ReverseProxy.Model;

namespace Sessions.PaymentGate.Paywall;

/// <summary>
/// The payment credentials of a request, read once: the x402 header, the <c>Payment-Session</c> token and the
/// <c>Mandate-Approval</c> id (all three removed), and whether an <c>Authorization: Payment</c> credential is there (MPP reads
/// and removes it itself). Upstreams never see any of them (Proxy/GateCredentials strips them on every route as well).
/// </summary>
public sealed record RequestCredentials(string? Header, string? HeaderName, int HeaderCount, string? SessionToken, bool MppCredential,
    string? ApprovalId)
{
    public static RequestCredentials Take(HttpRequest request)
    {
        var (header, name, count) = X402Payment.TakePaymentHeader(request);
        return new RequestCredentials(header, name, count, SessionSpending.TakeToken(request), MppPayments.HasCredential(request),
            MandateGuard.TakeApprovalId(request));
    }
}

/// <summary>
/// The paywall, a step of the YARP pipeline (after route matching, before forwarding). It looks at the request once and
/// chooses the payment kind, the kind decides (returning a <see cref="PaymentAnswer"/>), and <see cref="PaymentAnswerWriter"/>
/// answers the client:
/// <list type="bullet">
/// <item>MCP route → <see cref="McpGate"/> (prices per tool; the payment travels inside the JSON-RPC call)</item>
/// <item>free route → forwarded (a session token on an organisation's route identifies the payer: <see cref="SessionSpending.IdentifyAsync"/>)</item>
/// <item>priced route, <c>Payment-Session</c> and no payment → <see cref="SessionSpending.PayAsync"/> (a payment wins over a token)</item>
/// <item><c>Authorization: Payment</c> → <see cref="MppPayments.PayAsync"/></item>
/// <item>else (<c>PAYMENT-SIGNATURE</c>, <c>X-PAYMENT</c>, or nothing) → <see cref="X402Payment.PayAsync"/></item>
/// </list>
/// MPP and x402 payments then go through <see cref="PaymentFlow"/>: verify, claim, mandate, forward, settle.
/// </summary>
public sealed class PaymentDispatcher(
    PricingCatalog catalog, McpGate mcp, SessionSpending sessions, MppPayments mpp, X402Payment x402, PaymentAnswerWriter writer,
    ReceiptIssuer receipts, TimeProvider time)
{
    public async Task InvokeAsync(HttpContext context, Func<Task> next)
    {
        var proxy = context.GetReverseProxyFeature();
        var route = catalog.FindRoute(proxy.Route.Config.RouteId);
        var credentials = RequestCredentials.Take(context.Request);
        // A request that may be charged: its receipt's clock starts now and its body is hashed as it streams.
        var digest = route is { IsFree: false } or { Mcp: true } ? receipts.Start(context) : null;
        var answer = await AnswerAsync(context, next, proxy, route, credentials);
        await writer.WriteAsync(context, answer, digest);
    }

    async Task<PaymentAnswer> AnswerAsync(HttpContext context, Func<Task> next, IReverseProxyFeature proxy, GateRoute? route,
        RequestCredentials credentials)
    {
        if (route is { Mcp: true })
            return await mcp.AnswerAsync(context, next, route, credentials.SessionToken, credentials.ApprovalId);
        if (route is null || route.IsFree)
        {
            // On an organisation's free routes a session token still says who is asking (vault reads): identified, not charged.
            if (route is { Organization: not null } && credentials.SessionToken is { } token)
                return await sessions.IdentifyAsync(context, next, route, token);
            await next();
            return new PaymentAnswer.Forwarded();
        }
        if (proxy.AvailableDestinations.Count == 0)
            // Checked before any payment work: a payment must never be taken for an answer nobody can give.
            return new PaymentAnswer.Unavailable("Upstream unavailable", $"No endpoint of service '{route.Service}' is available.");

        var resourceUrl = context.Request.GetEncodedUrl();
        // A payment wins over a session token (a client that got "insufficient balance" retries with a payment).
        if (credentials is { Header: null, SessionToken: { } sessionToken, MppCredential: false })
        {
            var (answer, unusable) = await sessions.PayAsync(context, next, route, resourceUrl, sessionToken, credentials.ApprovalId);
            // After a session token that could not pay, say why: "header required" alone would hide the expired session.
            return answer ?? new PaymentAnswer.PaymentRequired(route, resourceUrl, "session_unusable",
                $"{unusable}: pay this request (X-PAYMENT or PAYMENT-SIGNATURE) or open a new session at /api/sessions");
        }
        if (credentials.MppCredential)
            return await mpp.PayAsync(context, next, route, resourceUrl, credentials.ApprovalId);
        return await x402.PayAsync(context, next, route, resourceUrl, credentials);
    }

    /// <summary>
    /// The payment a gate endpoint takes for its own action (opening or topping up a session) at the price of
    /// <paramref name="route"/>: an MPP credential or an x402 header, read into an attempt; or the refusal to answer.
    /// </summary>
    public (PaymentAttempt? Attempt, PaymentAnswer? Refusal) ReadEndpointPayment(HttpContext context, GateRoute route)
    {
        var credentials = RequestCredentials.Take(context.Request);
        var resourceUrl = context.Request.GetEncodedUrl();
        return credentials.MppCredential
            ? mpp.ReadAttempt(context, route, resourceUrl)
            : X402Payment.ReadAttempt(route, resourceUrl, credentials, time.GetUtcNow());
    }
}
