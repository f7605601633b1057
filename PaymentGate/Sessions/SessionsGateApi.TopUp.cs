using StackExchange.Redis;
using System.Globalization;
using System.Numerics;
using Microsoft.Extensions.Options;
using Sessions.PaymentGate.Paywall;
using Sessions.PaymentGate.Pricing;
using Sessions.Payments;
using Sessions.ServiceDefaults.Payers;
using Sessions.ServiceDefaults.Errors;

namespace Sessions.PaymentGate.Sessions;

/// <summary><c>POST /api/sessions/{id}/topup</c>: checked, settled first, applied by SessionApi, or paid back when it no longer can be.</summary>
public static partial class SessionsGateApi
{
    static async Task TopUpAsync(HttpContext context, string id, TopUpBody body, PaymentDispatcher payments, PaymentFlow flow,
        PaymentAnswerWriter writer, SessionApiClient api, PricingCatalog catalog, PaymentStore store, SessionRefunds refunds, SessionSpending spending, IOptions<GateOptions> options, TimeProvider time)
    {
        var errors = new Dictionary<string, string[]>();
        // No token needed: whoever pays can only top up their own session (checked against the payment's payer below).
        SessionSpending.TakeToken(context.Request);
        var organization = ChooseOrganization(catalog, body.Organization, errors);
        var max = ParseOr(options.Value.Sessions.MaximumDeposit, 1_000_000_000);
        if (!AtomicAmount.TryParse(body.Amount, out var amount) || amount.IsZero || amount > max)
            errors["amount"] = [$"Required: a whole number of atomic units between 1 and {max}, as a decimal string."];
        if (errors.Count > 0)
        {
            await Problems.Invalid(errors, "Invalid top-up").ExecuteAsync(context);
            return;
        }

        var route = SessionRoute(organization!, "POST", $"/api/sessions/{id}/topup", amount, $"Top-up of session {id}");
        var (attempt, refusal) = payments.ReadEndpointPayment(context, route);
        if (attempt is null)
        {
            await writer.WriteAsync(context, refusal!);
            return;
        }
        var session = new SessionRef(id, attempt.Payer, organization!.Id);
        try
        {
            // Checked before any money moves: the payer's own prepaid session, still open for a while.
            var current = await api.GetAsync(organization.Id, attempt.Payer, id, context.RequestAborted);
            if (!current.IsSuccess)
            {
                await Problems.WriteAsync(context, 404, "session-not-found", "Session not found", $"No session {id} of payer {attempt.Payer} at '{organization.Id}'; nothing was charged.");
                return;
            }
            var expiresAt = current.Body.GetProperty("expiresAt").GetDateTimeOffset();
            SettledPayment? payment;
            if (current.Text("kind") != "prepaid" || current.Text("state") is not ("ACTIVE" or "DEPLETED") || expiresAt <= time.GetUtcNow().AddSeconds(30))
            {
                // No new money for this session; but this header may have paid on an earlier try whose top-up was never
                // confirmed: that payment still goes to SessionApi (applied then: answered; refused: paid back below).
                var (redeemed, pendingOrBusy) = await flow.TryRedeemSettledAsync(context, attempt);
                if (pendingOrBusy is not null)
                {
                    await writer.WriteAsync(context, pendingOrBusy);
                    return;
                }
                if (redeemed is null)
                {
                    await Problems.WriteAsync(context, 409, "session-not-topped-up", "Session cannot be topped up",
                        $"Session {id} is a {current.Text("kind")} session in state {current.Text("state")}, expiring {expiresAt:O}; nothing was charged.");
                    return;
                }
                payment = redeemed;
            }
            else
            {
                (payment, var unpaid) = await flow.SettleFirstAsync(context, attempt);
                if (payment is null)
                {
                    await writer.WriteAsync(context, unpaid!);
                    return;
                }
            }
            ServiceAnswer answer;
            try
            {
                // The answer (the session as this top-up left it) counts every debit before it.
                await spending.WaitForLedgerAsync(id, close: false, ReadWait, CancellationToken.None);
                answer = await api.TopUpAsync(session, amount.ToString(), payment.PaymentId, CancellationToken.None);
            }
            catch (SessionApiUnavailableException exception)
            {
                await flow.CompleteSettledAsync(payment, done: false);
                await NotCompletedAsync(context, writer, payment, "Top-up not applied yet", exception.Message);
                return;
            }
            if (answer.IsSuccess)
            {
                try
                {
                    // Spendable at once on every gate (the session's balance lives in Redis while it is in use).
                    await spending.CreditAsync(id, answer);
                }
                catch (Exception exception) when (SessionBalances.IsUnavailable(exception))
                {
                    await flow.CompleteSettledAsync(payment, done: false);
                    await NotCompletedAsync(context, writer, payment, "Top-up not applied yet", exception.Message);
                    return;
                }
            }
            await flow.CompleteSettledAsync(payment, done: answer.IsSuccess);
            if (answer.Code is "session-expired" or "session-not-active")
            {
                // Expired or closed since the check above: the money cannot go into this session any more, so it goes back.
                await RefundRefusedTopUpAsync(context, payment, organization, attempt.Payer, amount, answer.Code!, answer.Text("detail"), store, refunds, writer);
                return;
            }
            if (!answer.IsSuccess)
            {
                await NotCompletedAsync(context, writer, payment, "Top-up not applied", $"SessionApi answered {(int)answer.Status} {answer.Code}");
                return;
            }
            writer.AddSettlementHeaders(context.Response, payment.Settlement, payment.Attempt.Mpp);
            SessionSpending.AddSessionHeaders(context, id, () => answer.Text("balance"));
            await Results.Json(answer.Body).ExecuteAsync(context);
        }
        catch (SessionApiUnavailableException exception)
        {
            await PaywallResponses.WriteUnavailableAsync(context, "Sessions unavailable", $"{exception.Message}; nothing was charged.");
        }
    }

    /// <summary>
    /// 409 for a settled top-up whose session SessionApi no longer tops up: paid back on the local ledger (a transaction derived
    /// from the payment, so once), or recorded as owed by the merchant (payments.status <c>refund_owed</c>). If the refund
    /// cannot be made now the payment stays settled and the same header comes back here.
    /// </summary>
    static async Task RefundRefusedTopUpAsync(HttpContext context, SettledPayment payment, Organization organization, string payer,
        BigInteger amount, string refusalCode, string? refusalDetail, PaymentStore store, SessionRefunds refunds,
        PaymentAnswerWriter writer)
    {
        string? transaction;
        try
        {
            transaction = refunds.Method == SessionRefunds.Ledger
                ? await refunds.TransferTopUpAsync(organization, payer, amount, payment.PaymentId, CancellationToken.None)
                : null;
            await store.MarkRefundedAsync(payment.PaymentId, owed: transaction is null, transaction, $"SessionApi refused the top-up: {refusalCode}");
        }
        catch (Exception exception) when (PaymentStore.IsInfrastructure(exception) || exception is PaymentStoreUnavailableException)
        {
            // Nothing recorded as paid back: the payment stays settled, and the same header comes back here (the transfer is once).
            await NotCompletedAsync(context, writer, payment, "Top-up refund not made yet", $"{refusalCode}; the refund could not be recorded");
            return;
        }
        var method = transaction is null ? SessionRefunds.PayoutOwed : SessionRefunds.Ledger;
        writer.AddSettlementHeaders(context.Response, payment.Settlement, payment.Attempt.Mpp);
        var paidBack = transaction is null
            ? $"the {amount} paid is owed back to you by {organization.Name} (payment {payment.PaymentId})"
            : $"the {amount} paid was refunded (ledger transaction {transaction})";
        await Problems.WriteAsync(context, StatusCodes.Status409Conflict, "topup-refunded", "Top-up refused and refunded",
            $"{refusalDetail ?? refusalCode} The top-up was not applied; {paidBack}.",
            new Dictionary<string, object?>
            {
                ["paymentId"] = payment.PaymentId, ["sessionCode"] = refusalCode,
                ["refund"] = new { amount = amount.ToString(CultureInfo.InvariantCulture), method, transaction },
            });
    }
}
