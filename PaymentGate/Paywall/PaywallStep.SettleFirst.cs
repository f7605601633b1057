using System.Diagnostics;
using Sessions.PaymentGate.Mpp;
using Sessions.Payments.X402;
using Sessions.ServiceDefaults.Errors;

namespace Sessions.PaymentGate.Paywall;

/// <summary>A payment taken by a gate endpoint that has no upstream to run first (opening or topping up a session).</summary>
/// <param name="Redeemed">Settled earlier, but its action never completed: this is the identical header coming back.</param>
/// <param name="Repeated">Delivered earlier: the identical header came back, and the (idempotent) action answers the same again.</param>
public sealed record SettledPayment(string PaymentId, PaymentAttempt Attempt, SettleResponse Settlement, bool Redeemed, bool Repeated = false);

public sealed partial class PaywallStep
{
    const string ActionPendingNote = "settled; session action pending";

    /// <summary>
    /// Verify → claim → settle, for an action the gate performs itself once the money moved (there is no upstream answer to
    /// hold back, so it settles first). Null after answering 402 or 503 exactly as a paid route does. A payment settled earlier
    /// whose action failed (row <c>settled</c>) is returned again, <c>Redeemed</c>, to the identical header for the same route:
    /// the action must be idempotent on the payment id. Call <see cref="CompleteSettledAsync"/> after the action.
    /// </summary>
    public async Task<SettledPayment?> SettleFirstAsync(HttpContext context, PaymentAttempt attempt)
    {
        var route = attempt.Route;
        if (attempt.ExpiredDetail is not null)
        {
            var (redeemed, answered) = await TryRedeemSettledAsync(context, attempt);
            if (redeemed is null && !answered)
                await RefuseExpiredAsync(context, attempt);
            return redeemed;
        }
        if (await VerifyAsync(context, attempt) is not { } verification)
            return null;
        if (!verification.IsValid)
        {
            PaywallTelemetry.CountVerification("invalid");
            var (redeemed, answered) = await TryRedeemSettledAsync(context, attempt);
            if (redeemed is not null || answered)
                return redeemed;
            await RefuseInvalidAsync(context, route, attempt, verification);
            return null;
        }
        PaywallTelemetry.CountVerification("valid");

        var (paymentId, unavailable) = await ClaimAsync(context, attempt);
        if (unavailable)
            return null;
        if (paymentId is null)
        {
            var (redeemed, answered) = await TryRedeemSettledAsync(context, attempt, claimLost: true);
            if (redeemed is not null || answered)
                return redeemed;
            await RefuseReplayAsync(context, route, attempt);
            return null;
        }
        LogClaimed(paymentId, attempt.ToString());

        var settlement = await SettleClaimedAsync(context, attempt, paymentId, "the action completes");
        if (settlement is null)
            return null;

        PaywallTelemetry.CountSettlement("success");
        PaywallTelemetry.CountRevenue(route.Amount!.Value, route.Name);
        LogSettled(paymentId, settlement.Transaction, route.Amount.Value.ToString(), route.Name);
        // Recorded as charged-but-undelivered first: if the gate or the action fails now, the money is on record.
        await store.MarkSettledServingAsync(paymentId, settlement.Transaction, ActionPendingNote);
        return new SettledPayment(paymentId, attempt, settlement, Redeemed: false);
    }

    /// <summary>An expired MPP credential with nothing to redeem: payment-expired, with a fresh challenge.</summary>
    Task RefuseExpiredAsync(HttpContext context, PaymentAttempt attempt)
    {
        context.Items[MppResponses.ProblemTypeItem] = MppResponses.PaymentExpired;
        return PaymentRequiredAsync(context, attempt.Route, attempt.ResourceUrl, "mpp_" + MppResponses.PaymentExpired, attempt.ExpiredDetail!, attempt.Payer);
    }

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
    /// copy of one header gets the same answer, while its authorization is valid), or (null, answered: true) after a 503 for
    /// a pending one or a 409 <c>payment-in-progress</c> while another request is still settling or acting on it. With
    /// <paramref name="claimLost"/> (this header just lost the replay claim) a payment not recorded yet is in progress too.
    /// Public for an action that can no longer take new money but must still finish (or pay back) what an earlier try took.
    /// </summary>
    public async Task<(SettledPayment? Payment, bool Answered)> TryRedeemSettledAsync(HttpContext context, PaymentAttempt attempt, bool claimLost = false)
    {
        var (redeemable, pendingId) = await store.TryRedeemAsync(attempt.Payer, attempt.Nonce, attempt.HeaderSha256, attempt.Route.Name, context.RequestAborted);
        if (pendingId is not null)
        {
            await PaywallResponses.WriteUnavailableAsync(context, "Settlement pending",
                $"Payment {pendingId} is still being settled; send the same payment header again later.", pendingId, (int)PendingRetry.TotalSeconds);
            return (null, true);
        }
        if (redeemable is null)
        {
            var (repeat, delivered) = await store.FindRepeatAsync(attempt.Payer, attempt.Nonce, attempt.HeaderSha256, attempt.Route.Name, context.RequestAborted);
            if (repeat == PaymentRepeat.InProgress || (claimLost && repeat == PaymentRepeat.NotRecorded))
            {
                context.Response.Headers.RetryAfter = "1";
                await Problems.WriteAsync(context, StatusCodes.Status409Conflict, "payment-in-progress", "Payment in progress",
                    "Another request with this payment header is still being completed; send the same header again in a moment for its answer.");
                return (null, true);
            }
            if (delivered is null)
                return (null, false);
            LogRepeating(delivered.Id, attempt.ToString());
            return (new SettledPayment(delivered.Id, attempt, SettledAs(delivered, attempt), Redeemed: false, Repeated: true), false);
        }
        LogRedeeming(redeemable.Id, attempt.ToString());
        PaywallTelemetry.CountSettlement("redeemed");
        return (new SettledPayment(redeemable.Id, attempt, SettledAs(redeemable, attempt), Redeemed: true), false);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Payment {PaymentId} was delivered before; answering the same again: {Attempt}")]
    partial void LogRepeating(string paymentId, string attempt);

    static SettleResponse SettledAs(RedeemablePayment payment, PaymentAttempt attempt) => new()
    {
        Success = true, Payer = attempt.Payer, Transaction = payment.Transaction ?? "", Network = payment.Network, Amount = payment.Amount.ToString(),
    };
}
