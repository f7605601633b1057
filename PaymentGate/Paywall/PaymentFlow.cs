using System.Diagnostics;
using Sessions.PaymentGate.Facilitator;
using Sessions.PaymentGate.Receipts;
using Sessions.PaymentGate.Sessions;
using Sessions.Payments.X402;
using Sessions.ServiceDefaults.Payers;

namespace Sessions.PaymentGate.Paywall;

/// <summary>
/// What every payment goes through once a payment kind has read it into a <see cref="PaymentAttempt"/> (x402 header, MPP
/// credential, or either inside an MCP tool call), in the order of @x402/express: verify → claim (replay guard) → mandate →
/// forward with the upstream answer buffered → settle only when the upstream answered below 400 → deliver the answer with
/// PAYMENT-RESPONSE, or drop it. Fails closed: whenever the facilitator, Redis or Postgres cannot answer, the answer is 503
/// and nothing is forwarded. Payments for the gate's own actions settle first (<see cref="SettleFirstAsync"/>).
/// Every method returns the <see cref="PaymentAnswer"/>; <see cref="PaymentAnswerWriter"/> writes it.
/// </summary>
public sealed partial class PaymentFlow(
    IFacilitatorClient facilitator, PaymentStore store, MandateGuard mandates, UpstreamForwarder upstreams, ILogger<PaymentFlow> logger)
{
    /// <summary>How soon a client may retry after a 503 whose settlement is pending (the reconciler's pace).</summary>
    static readonly TimeSpan PendingRetry = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Verify → claim → mandate → forward buffered → settle → deliver, for an attempt read from the request.
    /// <paramref name="approvalId"/>: the request's <c>Mandate-Approval</c>; <paramref name="format"/>: the protocol the payment
    /// travelled in (MCP), which decides what a failed answer is.
    /// </summary>
    public async Task<PaymentAnswer> PayAndForwardAsync(HttpContext context, Func<Task> next, PaymentAttempt attempt, string? approvalId,
        IPaidAnswerFormat? format = null)
    {
        var route = attempt.Route;
        if (attempt.ExpiredDetail is not null)
            return await TryRedeemAsync(context, next, attempt, format) ?? RefuseExpired(attempt);
        var (verification, unverified) = await VerifyAsync(context, attempt);
        if (verification is null)
            return unverified!;
        if (!verification.IsValid)
        {
            PaywallTelemetry.CountVerification("invalid");
            // A payment that was settled while its outcome was unknown verifies no more (nonce used): deliver it instead.
            return await TryRedeemAsync(context, next, attempt, format) ?? RefuseInvalid(attempt, verification);
        }
        PaywallTelemetry.CountVerification("valid");

        var (paymentId, unclaimed) = await ClaimAsync(context, attempt);
        if (unclaimed is not null)
            return unclaimed;
        if (paymentId is null)
            return await TryRedeemAsync(context, next, attempt, format) ?? RefuseReplay(attempt);
        LogClaimed(paymentId, attempt.ToString());

        // An agent's payment counts against its mandate before anything is served or settled (refused: claim released).
        var (mandate, refusal) = await mandates.ChargeAsync(attempt, paymentId, approvalId);
        if (refusal is not null)
        {
            await store.ReleaseAsync(paymentId, attempt.Payer, attempt.Nonce, $"mandate answered {MandateGuard.StatusOf(refusal)}");
            return refusal;
        }

        var upstream = await ForwardBufferedAsync(context, next, attempt, paymentId, format);
        if (upstream.Failed)
        {
            if (mandate == MandateOutcome.Charged)
                await mandates.ReleaseAsync(attempt, paymentId);
            await store.ReleaseAsync(paymentId, attempt.Payer, attempt.Nonce, $"upstream answered {context.Response.StatusCode}");
            LogReleased(paymentId, context.Response.StatusCode);
            return new PaymentAnswer.Served(upstream);
        }

        var (settlement, unsettled) = await SettleClaimedAsync(attempt, paymentId, "it is served",
            onRefused: mandate == MandateOutcome.Charged ? () => mandates.ReleaseAsync(attempt, paymentId) : null);
        if (settlement is null)
            return unsettled!;

        PaywallTelemetry.CountSettlement("success");
        PaywallTelemetry.CountRevenue(route.Amount!.Value, route.Name);
        await store.MarkServedAsync(paymentId, settlement.Transaction);
        LogSettled(paymentId, settlement.Transaction, route.Amount.Value.ToString(), route.Name);
        return new PaymentAnswer.Served(upstream, settlement, attempt.Mpp) { Charged = ChargedBy(attempt, paymentId, settlement) };
    }

    /// <summary>The receipt facts of a settled payment: <c>x402-v2</c>, <c>x402-v1</c> or <c>mpp</c>, referencing its transaction.</summary>
    static ReceiptFacts ChargedBy(PaymentAttempt attempt, string paymentId, SettleResponse settlement) =>
        new(attempt.Mpp is not null ? "mpp" : $"x402-v{attempt.X402Version}", attempt.Payer, attempt.Route, settlement.Transaction,
            PaymentId: paymentId);

    /// <summary>
    /// Settles a claimed payment. On an unknown outcome the row becomes <c>pending</c> (its settle request was stored at
    /// claim time) and the answer is 503; on a refusal the row becomes <c>failed</c> and the answer is 402 with the
    /// settle response (@x402/express drops the answer). The settlement, or the answer when there is none.
    /// </summary>
    async Task<(SettleResponse? Settlement, PaymentAnswer? Answer)> SettleClaimedAsync(PaymentAttempt attempt, string paymentId, string onceSettled,
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
                return (null, new PaymentAnswer.Unavailable("Settlement pending",
                    $"The facilitator did not confirm the settlement of payment {paymentId}; the gate keeps retrying. Send the same " +
                    $"payment header again later: once settled {onceSettled} without a new charge; if it fails you are not charged.",
                    paymentId, (int)PendingRetry.TotalSeconds));
            }
            activity?.SetTag("x402.settle.success", settlement.Success);
        }
        if (settlement.Success)
            return (settlement, null);

        PaywallTelemetry.CountSettlement("failed");
        var reason = settlement.ErrorReason ?? "settlement_failed";
        await store.MarkFailedAsync(paymentId, settlement.ErrorMessage is { Length: > 0 } m ? $"{reason}: {m}" : reason);
        if (onRefused is not null)
            await onRefused();
        LogSettlementFailed(paymentId, reason);
        return (null, PaymentAnswer.PaymentRequired.Of(attempt, "settlement_failed", reason, settlement));
    }

    /// <summary>
    /// Delivers a payment that was settled after the client got its 503 "pending": the identical header for the same route,
    /// served once, without a new settlement. A still-pending one answers 503 again. Null when there is nothing to redeem.
    /// </summary>
    async Task<PaymentAnswer?> TryRedeemAsync(HttpContext context, Func<Task> next, PaymentAttempt attempt, IPaidAnswerFormat? format)
    {
        var (redeemable, pendingId) = await store.TryRedeemAsync(attempt.Payer, attempt.Nonce, attempt.HeaderSha256, attempt.Route.Name, context.RequestAborted);
        if (pendingId is not null)
            return StillPending(pendingId);
        if (redeemable is null)
            return null;

        LogRedeeming(redeemable.Id, attempt.ToString());
        var upstream = await ForwardBufferedAsync(context, next, attempt, redeemable.Id, format);
        await store.FinishRedeemAsync(redeemable.Id, served: !upstream.Failed);
        if (upstream.Failed)
            return new PaymentAnswer.Served(upstream);
        PaywallTelemetry.CountSettlement("redeemed");
        var settlement = new SettleResponse
        {
            Success = true, Payer = attempt.Payer, Transaction = redeemable.Transaction ?? "", Network = redeemable.Network,
            Amount = redeemable.Amount.ToString(),
        };
        return new PaymentAnswer.Served(upstream, settlement, attempt.Mpp) { Charged = ChargedBy(attempt, redeemable.Id, settlement) };
    }

    static PaymentAnswer.Unavailable StillPending(string pendingId) =>
        new("Settlement pending", $"Payment {pendingId} is still being settled; send the same payment header again later.", pendingId,
            (int)PendingRetry.TotalSeconds);

    /// <summary>Forwards with a fresh signed payer context; the upstream answer stays in memory until the caller decides.</summary>
    Task<UpstreamAnswer> ForwardBufferedAsync(HttpContext context, Func<Task> next, PaymentAttempt attempt, string paymentId,
        IPaidAnswerFormat? format) =>
        upstreams.ForwardBufferedAsync(context, next, new PayerContext
        {
            Payer = attempt.Payer,
            Organization = attempt.Route.Organization!.Id,
            PaymentId = paymentId,
            RequestId = context.TraceIdentifier,
            ExpiresAt = upstreams.NewExpiry(),
        }, paymentId, format);

    static void Tag(Activity? activity, PaymentAttempt attempt)
    {
        activity?.SetTag("x402.version", attempt.X402Version);
        activity?.SetTag("x402.payer", attempt.Payer);
        activity?.SetTag("x402.network", attempt.Network);
        activity?.SetTag("x402.amount", attempt.Route.Amount?.ToString());
        activity?.SetTag("gate.route", attempt.Route.Name);
        activity?.SetTag("gate.organization", attempt.Route.Organization?.Id);
    }

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
}
