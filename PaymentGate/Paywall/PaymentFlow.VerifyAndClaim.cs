using System.Diagnostics;
using Sessions.Payments.X402;

namespace Sessions.PaymentGate.Paywall;

// The verify and claim steps every payment goes through, whether it pays for an upstream answer (PaymentFlow.cs) or for an
// action the gate performs itself (PaymentFlow.SettleFirst.cs).
public sealed partial class PaymentFlow
{
    /// <summary>The facilitator's verdict on <paramref name="attempt"/>, or the 503 when it cannot give one (nothing charged).</summary>
    async Task<(VerifyResponse? Verification, PaymentAnswer? Answer)> VerifyAsync(HttpContext context, PaymentAttempt attempt)
    {
        using var activity = PaywallTelemetry.ActivitySource.StartActivity("x402.verify");
        Tag(activity, attempt);
        try
        {
            var verification = await facilitator.VerifyAsync(attempt.VerifyRequest(), context.RequestAborted);
            activity?.SetTag("x402.verify.valid", verification.IsValid);
            return (verification, null);
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !context.RequestAborted.IsCancellationRequested)
        {
            activity?.SetStatus(ActivityStatusCode.Error, exception.Message);
            PaywallTelemetry.CountVerification("unavailable");
            LogFacilitatorUnavailable(exception, "verify", attempt.ToString());
            return (null, new PaymentAnswer.Unavailable("Payment facilitator unavailable",
                "The payment could not be verified right now; nothing was charged. Retry the same payment later."));
        }
    }

    /// <summary>The 402 for a payment the facilitator found invalid, with its reason.</summary>
    static PaymentAnswer RefuseInvalid(PaymentAttempt attempt, VerifyResponse verification)
    {
        var reason = verification.InvalidReason ?? "invalid_payment";
        return PaymentAnswer.PaymentRequired.Of(attempt, reason,
            verification.InvalidMessage is { Length: > 0 } message ? $"{reason}: {message}" : reason);
    }

    /// <summary>
    /// The replay guard: the new payment's id, or null when this payer and nonce were claimed before; or the 503 when the
    /// store could not answer (nothing charged).
    /// </summary>
    async Task<(string? PaymentId, PaymentAnswer? Unavailable)> ClaimAsync(HttpContext context, PaymentAttempt attempt)
    {
        try
        {
            return (await store.ClaimAsync(attempt.ToNewPayment(), context.RequestAborted), null);
        }
        catch (PaymentStoreUnavailableException exception)
        {
            LogStoreUnavailable(exception, attempt.ToString());
            return (null, new PaymentAnswer.Unavailable("Payment store unavailable",
                "The gate cannot record payments right now; nothing was charged. Retry the same payment later."));
        }
    }

    static PaymentAnswer RefuseReplay(PaymentAttempt attempt) =>
        PaymentAnswer.PaymentRequired.Of(attempt, "replay",
            $"{ReasonCodes.NonceAlreadyUsed}: this payment (payer {attempt.Payer}, nonce {attempt.Nonce}) was already presented to the gate");
}
