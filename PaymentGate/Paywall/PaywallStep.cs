using System.Diagnostics;
using Microsoft.AspNetCore.Http.Extensions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using Sessions.PaymentGate.Facilitator;
using Sessions.PaymentGate.Pricing;
using Sessions.PaymentGate.Proxy;
using Sessions.PaymentGate.Sessions;
using Sessions.Payments.X402;
using Sessions.ServiceDefaults.Payers;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace Sessions.PaymentGate.Paywall;

/// <summary>
/// The x402 paywall, a step of the YARP pipeline (it runs after route matching, before forwarding). Per paid request,
/// in the order of @x402/express: decode → match → verify → claim (replay guard) → forward with the upstream answer
/// buffered → settle only when the upstream answered below 400 → deliver the answer with PAYMENT-RESPONSE, or drop it.
/// Fails closed: whenever the facilitator, Redis or Postgres cannot answer, paid routes get 503 and no upstream call.
/// </summary>
public sealed partial class PaywallStep(
    PricingCatalog catalog, IFacilitatorClient facilitator, PaymentStore store, PayerContextSigner signer,
    IOptions<GateOptions> options, ILogger<PaywallStep> logger)
{
    public const int MaxPaymentHeaderLength = X402HeaderCodec.DefaultMaxHeaderLength;

    /// <summary>How soon a client may retry after a 503 whose settlement is pending (the reconciler's pace).</summary>
    static readonly TimeSpan PendingRetry = TimeSpan.FromSeconds(5);

    public async Task InvokeAsync(HttpContext context, Func<Task> next)
    {
        var proxy = context.GetReverseProxyFeature();
        var route = catalog.FindRoute(proxy.Route.Config.RouteId);
        // Upstreams never see payment headers, session tokens or approvals on any route: Proxy/GateCredentials strips them.
        var (header, headerName, headerCount) = TakePaymentHeader(context.Request);
        if (route is { Mcp: true })
        {
            // MCP carries payments inside JSON-RPC (_meta) and prices per tool: the MCP step decides, then calls back in here.
            await context.RequestServices.GetRequiredService<Mcp.McpGate>().InvokeAsync(context, next, route);
            return;
        }
        if (route is null || route.IsFree)
        {
            // On an organisation's free routes a session token still says who is asking (vault reads): identified, not charged.
            if (route is { Organization: not null } && SessionSpending.TakeToken(context.Request) is { } token)
                await context.RequestServices.GetRequiredService<SessionSpending>().IdentifyAsync(context, next, route, token);
            else
                await next();
            return;
        }

        var resourceUrl = context.Request.GetEncodedUrl();
        var sessionToken = SessionSpending.TakeToken(context.Request);
        if (proxy.AvailableDestinations.Count == 0)
        {
            // Checked before any payment work: a payment must never be taken for an answer nobody can give.
            await PaywallResponses.WriteUnavailableAsync(context, "Upstream unavailable", $"No endpoint of service '{route.Service}' is available.");
            return;
        }
        // A payment wins over a session token (a client that got "insufficient balance" retries with a payment).
        if (header is null && sessionToken is not null && !Mpp.MppPayments.HasCredential(context.Request)
            && await context.RequestServices.GetRequiredService<SessionSpending>().TryServeAsync(context, next, route, resourceUrl, sessionToken))
            return;
        var attempt = await ReadAttemptAsync(context, route, resourceUrl, header, headerName, headerCount);
        if (attempt is not null)
            await PayAndForwardAsync(context, next, attempt);
    }

    /// <summary>
    /// The payment header read against <paramref name="route"/>, or null after answering 402 (missing, repeated,
    /// undecodable, unmatched) or 431 (too long).
    /// </summary>
    public async Task<PaymentAttempt?> ReadAttemptAsync(HttpContext context, GateRoute route, string resourceUrl, string? header, string? headerName,
        int headerCount)
    {
        // MPP: an Authorization: Payment credential becomes the same exact-EVM attempt (PaymentGate/Mpp).
        if (Mpp.MppPayments.HasCredential(context.Request) && context.RequestServices.GetService<Mpp.MppPayments>() is { } mpp)
            return await mpp.ReadAttemptAsync(context, this, route, resourceUrl);
        if (header is null)
        {
            // After a session token that could not pay, say why: "header required" alone would hide the expired session.
            if (context.Items[SessionSpending.UnusableReasonItem] is string unusable)
                await PaymentRequiredAsync(context, route, resourceUrl, "session_unusable",
                    $"{unusable}: pay this request (X-PAYMENT or PAYMENT-SIGNATURE) or open a new session at /api/sessions");
            else
                await PaymentRequiredAsync(context, route, resourceUrl, "missing", "X-PAYMENT or PAYMENT-SIGNATURE header is required");
            return null;
        }
        if (headerCount > 1)
        {
            await PaymentRequiredAsync(context, route, resourceUrl, "malformed", $"{headerName} was sent more than once");
            return null;
        }
        if (header.Length > MaxPaymentHeaderLength)
        {
            LogRejected(route.Name, "oversize", $"{headerName} is {header.Length} characters");
            await PaywallResponses.WriteHeaderTooLargeAsync(context, headerName!, header.Length, MaxPaymentHeaderLength);
            return null;
        }

        var decoded = X402HeaderCodec.DecodePaymentPayload(header, MaxPaymentHeaderLength);
        if (!decoded.Succeeded)
        {
            // PROTOCOLS.md: an undecodable header is "no payment", a plain 402, with the reason spelt out.
            await PaymentRequiredAsync(context, route, resourceUrl, "malformed", $"invalid {headerName} header: {decoded.Message}");
            return null;
        }
        var attempt = PaymentAttempt.TryCreate(route, resourceUrl, header, decoded.Value!, out var matchError);
        if (attempt is null)
            await PaymentRequiredAsync(context, route, resourceUrl, "unmatched", matchError);
        return attempt;
    }

    /// <summary>Verify → claim → forward buffered → settle → deliver, for an attempt read from the request.</summary>
    public async Task PayAndForwardAsync(HttpContext context, Func<Task> next, PaymentAttempt attempt)
    {
        var route = attempt.Route;
        if (attempt.ExpiredDetail is not null)
        {
            if (!await TryRedeemAsync(context, next, attempt))
                await RefuseExpiredAsync(context, attempt);
            return;
        }
        if (await VerifyAsync(context, attempt) is not { } verification)
            return;
        if (!verification.IsValid)
        {
            PaywallTelemetry.CountVerification("invalid");
            // A payment that was settled while its outcome was unknown verifies no more (nonce used): deliver it instead.
            if (await TryRedeemAsync(context, next, attempt))
                return;
            await RefuseInvalidAsync(context, route, attempt, verification);
            return;
        }
        PaywallTelemetry.CountVerification("valid");

        var (paymentId, unavailable) = await ClaimAsync(context, attempt);
        if (unavailable)
            return;
        if (paymentId is null)
        {
            if (await TryRedeemAsync(context, next, attempt))
                return;
            await RefuseReplayAsync(context, route, attempt);
            return;
        }
        LogClaimed(paymentId, attempt.ToString());

        // An agent's payment counts against its mandate before anything is served or settled (refused: claim released).
        var mandates = context.RequestServices.GetRequiredService<MandateGuard>();
        var mandate = await mandates.ChargeAsync(context, attempt, paymentId);
        if (mandate == MandateOutcome.Answered)
        {
            await store.ReleaseAsync(paymentId, attempt.Payer, attempt.Nonce, $"mandate answered {context.Response.StatusCode}");
            return;
        }

        var upstream = await ForwardBufferedAsync(context, next, attempt, paymentId);
        if (upstream.Failed)
        {
            if (mandate == MandateOutcome.Charged)
                await mandates.ReleaseAsync(attempt, paymentId);
            await store.ReleaseAsync(paymentId, attempt.Payer, attempt.Nonce, $"upstream answered {context.Response.StatusCode}");
            LogReleased(paymentId, context.Response.StatusCode);
            await upstream.SendAsync();
            return;
        }

        var settlement = await SettleClaimedAsync(context, attempt, paymentId, "it is served",
            onRefused: mandate == MandateOutcome.Charged ? () => mandates.ReleaseAsync(attempt, paymentId) : null);
        if (settlement is null)
            return;

        PaywallTelemetry.CountSettlement("success");
        PaywallTelemetry.CountRevenue(route.Amount!.Value, route.Name);
        await store.MarkServedAsync(paymentId, settlement.Transaction);
        LogSettled(paymentId, settlement.Transaction, route.Amount.Value.ToString(), route.Name);
        PaywallResponses.AddSettlementHeaders(context.Response, settlement);
        await upstream.SendAsync(settlement);
    }

    /// <summary>
    /// Settles a claimed payment. On an unknown outcome the row becomes <c>pending</c> (its settle request was stored at
    /// claim time) and the client gets 503; on a refusal the row becomes <c>failed</c> and the client gets 402 with the
    /// settle response (@x402/express drops the answer). Null when the answer has been written.
    /// </summary>
    async Task<SettleResponse?> SettleClaimedAsync(HttpContext context, PaymentAttempt attempt, string paymentId, string onceSettled,
        Func<Task>? onRefused = null)
    {
        SettleResponse settlement;
        using (var activity = PaywallTelemetry.ActivitySource.StartActivity("x402.settle"))
        {
            Tag(activity, attempt);
            activity?.SetTag("x402.payment_id", paymentId);
            try
            {
                // Not the client's token: once asked, the facilitator's answer matters whether or not the client still waits.
                settlement = await facilitator.SettleAsync(attempt.SettleRequest(), CancellationToken.None);
            }
            catch (Exception exception)
            {
                activity?.SetStatus(ActivityStatusCode.Error, exception.Message);
                PaywallTelemetry.CountSettlement("pending");
                LogSettlementPending(exception, paymentId, attempt.ToString());
                await store.MarkPendingAsync(paymentId, exception.Message, PendingRetry);
                await PaywallResponses.WriteUnavailableAsync(context, "Settlement pending",
                    $"The facilitator did not confirm the settlement of payment {paymentId}; the gate keeps retrying. Send the same " +
                    $"payment header again later: once settled {onceSettled} without a new charge; if it fails you are not charged.",
                    paymentId, (int)PendingRetry.TotalSeconds);
                return null;
            }
            activity?.SetTag("x402.settle.success", settlement.Success);
        }
        if (settlement.Success)
            return settlement;

        PaywallTelemetry.CountSettlement("failed");
        var reason = settlement.ErrorReason ?? "settlement_failed";
        await store.MarkFailedAsync(paymentId, settlement.ErrorMessage is { Length: > 0 } m ? $"{reason}: {m}" : reason);
        if (onRefused is not null)
            await onRefused();
        LogSettlementFailed(paymentId, reason);
        await PaymentRequiredAsync(context, attempt.Route, attempt.ResourceUrl, "settlement_failed", reason, attempt.Payer, settlement);
        return null;
    }

    /// <summary>
    /// Delivers a payment that was settled after the client got its 503 "pending": the identical header for the same route,
    /// served once, without a new settlement. A still-pending one answers 503 again. False when there is nothing to redeem.
    /// </summary>
    async Task<bool> TryRedeemAsync(HttpContext context, Func<Task> next, PaymentAttempt attempt)
    {
        var (redeemable, pendingId) = await store.TryRedeemAsync(attempt.Payer, attempt.Nonce, attempt.HeaderSha256, attempt.Route.Name, context.RequestAborted);
        if (pendingId is not null)
        {
            await PaywallResponses.WriteUnavailableAsync(context, "Settlement pending",
                $"Payment {pendingId} is still being settled; send the same payment header again later.", pendingId, (int)PendingRetry.TotalSeconds);
            return true;
        }
        if (redeemable is null)
            return false;

        LogRedeeming(redeemable.Id, attempt.ToString());
        var upstream = await ForwardBufferedAsync(context, next, attempt, redeemable.Id);
        await store.FinishRedeemAsync(redeemable.Id, served: !upstream.Failed);
        SettleResponse? redeemed = null;
        if (!upstream.Failed)
        {
            PaywallTelemetry.CountSettlement("redeemed");
            PaywallResponses.AddSettlementHeaders(context.Response, redeemed = new SettleResponse
            {
                Success = true, Payer = attempt.Payer, Transaction = redeemable.Transaction ?? "", Network = redeemable.Network,
                Amount = redeemable.Amount.ToString(),
            });
        }
        await upstream.SendAsync(redeemed);
        return true;
    }

    /// <summary>Forwards with a fresh signed payer context; the upstream answer stays in memory until the caller decides.</summary>
    Task<UpstreamAnswer> ForwardBufferedAsync(HttpContext context, Func<Task> next, PaymentAttempt attempt, string paymentId) =>
        ForwardBufferedAsync(context, next, new PayerContext
        {
            Payer = attempt.Payer,
            Organization = attempt.Route.Organization!.Id,
            PaymentId = paymentId,
            RequestId = context.TraceIdentifier,
            ExpiresAt = signer.NewExpiry(),
        }, paymentId);

    /// <summary>Forwards with <paramref name="payer"/> signed as the payer context; the answer stays in memory until the caller decides.</summary>
    public async Task<UpstreamAnswer> ForwardBufferedAsync(HttpContext context, Func<Task> next, PayerContext payer, string logId)
    {
        context.Request.Headers[PayerContextSigner.HeaderName] = signer.Sign(payer);
        var buffer = new BufferedResponseBody(context, options.Value.MaxBufferedResponseBytes);
        try
        {
            await next();
        }
        finally
        {
            await buffer.DisposeAsync();
        }
        var error = context.Features.Get<IForwarderErrorFeature>();
        var failed = error is not null || buffer.Overflowed || context.Response.StatusCode >= 400
            || context.Features.Get<IPaidAnswerFormat>()?.IsFailure(context.Response, buffer.Body) == true;
        if (error is not null)
            LogUpstreamError(error.Exception, logId, error.Error.ToString());
        return new UpstreamAnswer(context, buffer, failed);
    }

    /// <summary>Counts, logs and writes a 402 (<paramref name="extra"/>: members added beside <c>accepts</c> in the v1 body).</summary>
    public Task PaymentRequiredAsync(HttpContext context, GateRoute route, string resourceUrl, string reason, string error,
        string? payer = null, SettleResponse? settlement = null, IReadOnlyDictionary<string, object?>? extra = null)
    {
        PaywallTelemetry.CountPaymentRequired(reason);
        context.Items[Mpp.MppResponses.ReasonItem] = reason;
        LogRejected(route.Name, reason, payer is null ? error : $"{error} (payer {payer})");
        if (context.Features.Get<IPaidAnswerFormat>() is { } format)
            return format.WritePaymentRequiredAsync(context, route, resourceUrl, error, settlement, extra);
        return PaywallResponses.WritePaymentRequiredAsync(context, route, resourceUrl, error, settlement, extra);
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

    static void Tag(Activity? activity, PaymentAttempt attempt)
    {
        activity?.SetTag("x402.version", attempt.X402Version);
        activity?.SetTag("x402.payer", attempt.Payer);
        activity?.SetTag("x402.network", attempt.Network);
        activity?.SetTag("x402.amount", attempt.Route.Amount?.ToString());
        activity?.SetTag("gate.route", attempt.Route.Name);
        activity?.SetTag("gate.organization", attempt.Route.Organization?.Id);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "402 for {Route}: {Reason}: {Error}")]
    partial void LogRejected(string route, string reason, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Facilitator unavailable during {Operation} of {Attempt}: 503, nothing forwarded")]
    partial void LogFacilitatorUnavailable(Exception exception, string operation, string attempt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Payment store unavailable for {Attempt}: 503, nothing forwarded")]
    partial void LogStoreUnavailable(Exception exception, string attempt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Payment {PaymentId} claimed: {Attempt}; forwarding")]
    partial void LogClaimed(string paymentId, string attempt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Payment {PaymentId} released: upstream answered {Status}, not settled")]
    partial void LogReleased(string paymentId, int status);

    [LoggerMessage(Level = LogLevel.Information, Message = "Payment {PaymentId} settled (transaction {Transaction}, {Amount} atomic units for {Route})")]
    partial void LogSettled(string paymentId, string transaction, string amount, string route);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Payment {PaymentId} refused at settlement: {Reason}; answer dropped, 402")]
    partial void LogSettlementFailed(string paymentId, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Settlement of payment {PaymentId} ({Attempt}) has an unknown outcome: pending, 503, reconciling")]
    partial void LogSettlementPending(Exception exception, string paymentId, string attempt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Payment {PaymentId} was settled earlier but not delivered; serving it now: {Attempt}")]
    partial void LogRedeeming(string paymentId, string attempt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Upstream error for {PaymentId}: {Error}")]
    partial void LogUpstreamError(Exception? exception, string paymentId, string error);
}
