using System.Diagnostics;
using Sessions.PaymentGate.Pricing;
using Sessions.Payments.X402;

namespace Sessions.PaymentGate.Paywall;

// The verify and claim steps every payment goes through, whether it pays for an upstream answer (PaywallStep.cs) or for an
// action the gate performs itself (PaywallStep.SettleFirst.cs).
public sealed partial class PaywallStep
{
    /// <summary>The facilitator's verdict on <paramref name="attempt"/>; null after answering 503 when it cannot give one (nothing charged).</summary>
    async Task<VerifyResponse?> VerifyAsync(HttpContext context, PaymentAttempt attempt)
    {
        using var activity = PaywallTelemetry.ActivitySource.StartActivity("x402.verify");
        Tag(activity, attempt);
        try
        {
            var verification = await facilitator.VerifyAsync(attempt.VerifyRequest(), context.RequestAborted);
            activity?.SetTag("x402.verify.valid", verification.IsValid);
            return verification;
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !context.RequestAborted.IsCancellationRequested)
        {
            activity?.SetStatus(ActivityStatusCode.Error, exception.Message);
            PaywallTelemetry.CountVerification("unavailable");
            LogFacilitatorUnavailable(exception, "verify", attempt.ToString());
            await PaywallResponses.WriteUnavailableAsync(context, "Payment facilitator unavailable",
                "The payment could not be verified right now; nothing was charged. Retry the same payment later.");
            return null;
        }
    }

    /// <summary>The 402 for a payment the facilitator found invalid, with its reason.</summary>
    Task RefuseInvalidAsync(HttpContext context, GateRoute route, PaymentAttempt attempt, VerifyResponse verification)
    {
        var reason = verification.InvalidReason ?? "invalid_payment";
        return PaymentRequiredAsync(context, route, attempt.ResourceUrl, reason,
            verification.InvalidMessage is { Length: > 0 } message ? $"{reason}: {message}" : reason, attempt.Payer);
    }

    /// <summary>
    /// The replay guard: the new payment's id, or null when this payer and nonce were claimed before. Unavailable: the store
    /// could not answer and a 503 has been written (nothing charged).
    /// </summary>
    async Task<(string? PaymentId, bool Unavailable)> ClaimAsync(HttpContext context, PaymentAttempt attempt)
    {
        try
        {
            return (await store.ClaimAsync(attempt.ToNewPayment(), context.RequestAborted), false);
        }
        catch (PaymentStoreUnavailableException exception)
        {
            LogStoreUnavailable(exception, attempt.ToString());
            await PaywallResponses.WriteUnavailableAsync(context, "Payment store unavailable",
                "The gate cannot record payments right now; nothing was charged. Retry the same payment later.");
            return (null, true);
        }
    }

    Task RefuseReplayAsync(HttpContext context, GateRoute route, PaymentAttempt attempt) =>
        PaymentRequiredAsync(context, route, attempt.ResourceUrl, "replay",
            $"{ReasonCodes.NonceAlreadyUsed}: this payment (payer {attempt.Payer}, nonce {attempt.Nonce}) was already presented to the gate",
            attempt.Payer);
}
