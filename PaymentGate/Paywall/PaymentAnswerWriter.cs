using Sessions.PaymentGate.Mcp;
using Sessions.PaymentGate.Mpp;
using Sessions.PaymentGate.Pricing;
using Sessions.PaymentGate.Receipts;
using Sessions.PaymentGate.Sessions;
using Sessions.Payments.Mpp;
using Sessions.Payments.X402;
using Sessions.ServiceDefaults.Errors;

namespace Sessions.PaymentGate.Paywall;

/// <summary>
/// The one place a <see cref="PaymentAnswer"/> becomes the client's answer: 402 in x402 v1/v2 with MPP's
/// <c>WWW-Authenticate</c> challenge (or MPP's problem, or the MCP transport's payment required when the answer has an
/// <see cref="PaymentAnswer.Format"/>), the delivered upstream answer with <c>PAYMENT-RESPONSE</c> / <c>Payment-Receipt</c>,
/// problem+json with a stable <c>code</c>, and JSON-RPC errors. The bodies themselves are <see cref="PaywallResponses"/>,
/// <see cref="MppResponses"/> and <see cref="McpToolCall"/>.
/// </summary>
public sealed partial class PaymentAnswerWriter(MppChallenger challenger, ReceiptIssuer receipts, TimeProvider time, ILogger<PaymentAnswerWriter> logger)
{
    /// <param name="digest">The request's digest when it may be charged: a charged answer gets its signed receipt from it.</param>
    public async Task WriteAsync(HttpContext context, PaymentAnswer answer, RequestDigest? digest = null)
    {
        if (answer.Session is { } session)
            // Registered for when the response starts, so the headers survive the writers' Response.Clear().
            SessionSpending.AddSessionHeaders(context, session.Id, () => session.Balance);
        switch (answer)
        {
            case PaymentAnswer.Forwarded:
                return;
            case PaymentAnswer.Served served:
                var receipt = served.Charged is { } charged && digest is not null && !served.Upstream.Failed
                    ? await receipts.IssueAsync(charged, digest, served.Upstream.Body, answer.Session?.Balance)
                    : null;
                if (receipt is not null)
                    AddReceiptHeader(context.Response, receipt);
                if (served.Settlement is { } settlement)
                {
                    AddSettlementHeaders(context.Response, settlement, served.Mpp);
                    await served.Upstream.SendAsync(settlement, MppResponses.ReceiptFor(time, settlement), served.Mpp?.ChallengeId, receipt);
                }
                else
                    await served.Upstream.SendAsync(sessionsReceipt: receipt);
                return;
            case PaymentAnswer.PaymentRequired refusal:
                await WritePaymentRequiredAsync(context, refusal);
                return;
            case PaymentAnswer.Unavailable unavailable:
                await PaywallResponses.WriteUnavailableAsync(context, unavailable.Title, unavailable.Detail, unavailable.PaymentId,
                    unavailable.RetryAfterSeconds, answer.Format);
                return;
            case PaymentAnswer.Problem problem:
                if (problem.RetryAfter is not null)
                    context.Response.Headers.RetryAfter = problem.RetryAfter;
                await Problems.WriteAsync(context, problem.Status, problem.Code, problem.Title, problem.Detail);
                return;
            case PaymentAnswer.HeaderTooLarge tooLarge:
                LogRejected(tooLarge.Route.Name, "oversize", $"{tooLarge.HeaderName} is {tooLarge.Length} characters");
                await PaywallResponses.WriteHeaderTooLargeAsync(context, tooLarge.HeaderName, tooLarge.Length, tooLarge.Limit);
                return;
            case PaymentAnswer.Refused refused:
                await PaywallResponses.WriteRefusalAsync(context, refused.Status, refused.Body, answer.Format);
                return;
            case PaymentAnswer.MppBadRequest bad:
                await MppResponses.WriteBadRequestAsync(context, ChallengeFor(context, bad.Route), bad.Type, bad.Detail);
                return;
            case PaymentAnswer.JsonRpcError error:
                context.Response.Headers.CacheControl = "no-store";
                await Results.Json(McpToolCall.JsonRpcError(null, error.Code, error.Message), statusCode: error.Status).ExecuteAsync(context);
                return;
            case PaymentAnswer.ToolCallUnavailable unavailable:
                context.Response.Headers.RetryAfter = "5";
                context.Response.Headers.CacheControl = "no-store";
                await Problems.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, unavailable.Title.ToLowerInvariant().Replace(' ', '-'),
                    unavailable.Title, unavailable.Detail,
                    McpToolCall.JsonRpcError(unavailable.Id, McpToolCall.InternalErrorCode, $"{unavailable.Title}: {unavailable.Detail}"));
                return;
            default:
                throw new InvalidOperationException($"No writer for {answer.GetType().Name}.");
        }
    }

    /// <summary>Counts, logs and writes a 402 in the request's form (HTTP, or the protocol's own: MCP).</summary>
    Task WritePaymentRequiredAsync(HttpContext context, PaymentAnswer.PaymentRequired refusal)
    {
        PaywallTelemetry.CountPaymentRequired(refusal.Reason);
        LogRejected(refusal.Route.Name, refusal.Reason, refusal.Payer is null ? refusal.Error : $"{refusal.Error} (payer {refusal.Payer})");
        var challenge = ChallengeFor(context, refusal.Route);
        if (refusal.Format is { } format)
            return format.WritePaymentRequiredAsync(context, refusal, challenge);
        var mppAnswers = MppResponses.IsAnswering(context.Request, refusal.Mpp is not null);
        var receipt = refusal.Settlement is { } settlement && mppAnswers ? MppResponses.ReceiptFor(time, settlement) : null;
        return PaywallResponses.WritePaymentRequiredAsync(context, refusal, challenge, mppAnswers, receipt);
    }

    /// <summary>
    /// The x402 settlement headers of a paid answer, and MPP's <c>Payment-Receipt</c> for a client that speaks MPP
    /// (<paramref name="mpp"/>: it paid with a credential). Also for the gate's own endpoints that take payments (sessions).
    /// </summary>
    public void AddSettlementHeaders(HttpResponse response, SettleResponse settlement, MppCredentialSeen? mpp) =>
        PaywallResponses.AddSettlementHeaders(response, settlement,
            MppResponses.IsAnswering(response.HttpContext.Request, mpp is not null) ? MppResponses.ReceiptFor(time, settlement) : null);

    /// <summary><c>Sessions-Receipt</c>, exposed to browsers' scripts like the settlement headers.</summary>
    static void AddReceiptHeader(HttpResponse response, string receipt)
    {
        response.Headers[ReceiptIssuer.HeaderName] = receipt;
        response.OnStarting(() =>
        {
            var exposed = response.Headers.AccessControlExposeHeaders.ToString();
            response.Headers.AccessControlExposeHeaders = (exposed.Length == 0 ? "" : exposed + ", ") + ReceiptIssuer.HeaderName;
            return Task.CompletedTask;
        });
    }

    /// <summary>A fresh MPP challenge for <paramref name="route"/>'s price; null for a route without one.</summary>
    PaymentChallenge? ChallengeFor(HttpContext context, GateRoute route) =>
        route.Organization is null || route.Amount is null ? null : challenger.Create(context, route);

    [LoggerMessage(Level = LogLevel.Information, Message = "402 for {Route}: {Reason}: {Error}")]
    partial void LogRejected(string route, string reason, string error);
}
