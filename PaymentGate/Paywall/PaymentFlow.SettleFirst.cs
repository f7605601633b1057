using Sessions.PaymentGate.Mpp;
using Sessions.Payments.X402;

namespace Sessions.PaymentGate.Paywall;

/// <summary>A payment taken by a gate endpoint that has no upstream to run first (opening or topping up a session).</summary>
/// <param name="Redeemed">Settled earlier, but its action never completed: this is the identical header coming back.</param>
/// <param name="Repeated">Delivered earlier: the identical header came back, and the (idempotent) action answers the same again.</param>
public sealed record SettledPayment(string PaymentId, PaymentAttempt Attempt, SettleResponse Settlement, bool Redeemed, bool Repeated = false);

public sealed partial class PaymentFlow
{
    const string ActionPendingNote = "settled; session action pending";

    /// <summary>
    /// Verify → claim → settle, for an action the gate performs itself once the money moved (there is no upstream answer to
    /// hold back, so it settles first). Without a payment, the answer (402 or 503 exactly as a paid route answers). A payment
    /// settled earlier whose action failed (row <c>settled</c>) is returned again, <c>Redeemed</c>, to the identical header for
    /// the same route: the action must be idempotent on the payment id. Call <see cref="CompleteSettledAsync"/> after the action.
    /// </summary>
    public async Task<(SettledPayment? Payment, PaymentAnswer? Answer)> SettleFirstAsync(HttpContext context, PaymentAttempt attempt)
    {
        var route = attempt.Route;
        if (attempt.ExpiredDetail is not null)
        {
            var (redeemed, answer) = await TryRedeemSettledAsync(context, attempt);
            return redeemed is null && answer is null ? (null, RefuseExpired(attempt)) : (redeemed, answer);
        }
        var (verification, unverified) = await VerifyAsync(context, attempt);
        if (verification is null)
            return (null, unverified);
        if (!verification.IsValid)
        {
            PaywallTelemetry.CountVerification("invalid");
            var (redeemed, answer) = await TryRedeemSettledAsync(context, attempt);
            if (redeemed is not null || answer is not null)
                return (redeemed, answer);
            return (null, RefuseInvalid(attempt, verification));
        }
        PaywallTelemetry.CountVerification("valid");

        var (paymentId, unclaimed) = await ClaimAsync(context, attempt);
        if (unclaimed is not null)
            return (null, unclaimed);
        if (paymentId is null)
        {
            var (redeemed, answer) = await TryRedeemSettledAsync(context, attempt, claimLost: true);
            if (redeemed is not null || answer is not null)
                return (redeemed, answer);
            return (null, RefuseReplay(attempt));
        }
        LogClaimed(paymentId, attempt.ToString());

        var (settlement, unsettled) = await SettleClaimedAsync(attempt, paymentId, "the action completes");
        if (settlement is null)
            return (null, unsettled);

        PaywallTelemetry.CountSettlement("success");
        PaywallTelemetry.CountRevenue(route.Amount!.Value, route.Name);
        LogSettled(paymentId, settlement.Transaction, route.Amount.Value.ToString(), route.Name);
        // Recorded as charged-but-undelivered first: if the gate or the action fails now, the money is on record.
        await store.MarkSettledServingAsync(paymentId, settlement.Transaction, ActionPendingNote);
        return (new SettledPayment(paymentId, attempt, settlement, Redeemed: false), null);
    }

    /// <summary>An expired MPP credential with nothing to redeem: payment-expired, with a fresh challenge.</summary>
    static PaymentAnswer RefuseExpired(PaymentAttempt attempt) =>
        PaymentAnswer.PaymentRequired.Of(attempt, "mpp_" + MppResponses.PaymentExpired, attempt.ExpiredDetail!, problemType: MppResponses.PaymentExpired);

    /// <summary>The action after <see cref="SettleFirstAsync"/> succeeded (row <c>served</c>) or failed (<c>settled</c>, redeemable).</summary>
    public async Task CompleteSettledAsync(SettledPayment payment, bool done)
    {
        // Settled now or redeemed, the row is `serving` until here; a repeat of a delivered payment changes nothing.
        if (payment.Repeated)
            return;
        if (done && !payment.Redeemed)
            await store.MarkServedAsync(payment.PaymentId, payment.Settlement.Transaction);
        else
            await store.FinishRedeemAsync(payment.PaymentId, served: done);
    }

    /// <summary>
    /// The settled-but-undelivered payment of this header (<c>Redeemed</c>), or its delivered payment (<c>Repeated</c>: every
    /// copy of one header gets the same answer, while its authorization is valid), or the answer: 503 for a pending one, 409
    /// <c>payment-in-progress</c> while another request is still settling or acting on it; (null, null) when there is none.
    /// With <paramref name="claimLost"/> (this header just lost the replay claim) a payment not recorded yet is in progress too.
    /// Public for an action that can no longer take new money but must still finish (or pay back) what an earlier try took.
    /// </summary>
    public async Task<(SettledPayment? Payment, PaymentAnswer? Answer)> TryRedeemSettledAsync(HttpContext context, PaymentAttempt attempt, bool claimLost = false)
    {
        var (redeemable, pendingId) = await store.TryRedeemAsync(attempt.Payer, attempt.Nonce, attempt.HeaderSha256, attempt.Route.Name, context.RequestAborted);
        if (pendingId is not null)
            return (null, StillPending(pendingId));
        if (redeemable is null)
        {
            var (repeat, delivered) = await store.FindRepeatAsync(attempt.Payer, attempt.Nonce, attempt.HeaderSha256, attempt.Route.Name, context.RequestAborted);
            if (repeat == PaymentRepeat.InProgress || (claimLost && repeat == PaymentRepeat.NotRecorded))
                return (null, new PaymentAnswer.Problem(StatusCodes.Status409Conflict, "payment-in-progress", "Payment in progress",
                    "Another request with this payment header is still being completed; send the same header again in a moment for its answer.",
                    RetryAfter: "1"));
            if (delivered is null)
                return (null, null);
            LogRepeating(delivered.Id, attempt.ToString());
            return (new SettledPayment(delivered.Id, attempt, SettledAs(delivered, attempt), Redeemed: false, Repeated: true), null);
        }
        LogRedeeming(redeemable.Id, attempt.ToString());
        PaywallTelemetry.CountSettlement("redeemed");
        return (new SettledPayment(redeemable.Id, attempt, SettledAs(redeemable, attempt), Redeemed: true), null);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Payment {PaymentId} was delivered before; answering the same again: {Attempt}")]
    partial void LogRepeating(string paymentId, string attempt);

    static SettleResponse SettledAs(RedeemablePayment payment, PaymentAttempt attempt) => new()
    {
        Success = true, Payer = attempt.Payer, Transaction = payment.Transaction ?? "", Network = payment.Network, Amount = payment.Amount.ToString(),
    };
}
