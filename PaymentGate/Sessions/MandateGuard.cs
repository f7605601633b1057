using Microsoft.Extensions.Options;
using Sessions.PaymentGate.Paywall;
using Sessions.PaymentGate.Pricing;
using Sessions.ServiceDefaults.Payers;

namespace Sessions.PaymentGate.Sessions;

public enum MandateOutcome
{
    /// <summary>The payer is no mandated agent (or mandates are off): nothing to undo.</summary>
    NoMandate,
    /// <summary>Charged against the agent's mandate: release it if the payment is not settled after all.</summary>
    Charged,
    /// <summary>Refused (limit, merchant, approval, revoked) or SessionApi unavailable: answer the refusal, nothing may go on.</summary>
    Answered,
}

/// <summary>
/// Agent mandates on x402 payments at the gate: after verify and claim, before forwarding, the payment is charged against
/// the payer's mandate in SessionApi (<c>POST /internal/mandates/charge</c>, idempotency key = the gate's payment id, the
/// approval id from the <c>Mandate-Approval</c> header). A refusal is SessionApi's problem+json passed to the client as is,
/// deliberately without a payment challenge: paying again would not help. A session debit of a mandated agent is charged the
/// same way, keyed by the gate's request id, while its hold is taken (<see cref="SessionSpending"/>); a session's deposit is
/// not charged (its debits are: charging both would count twice).
/// </summary>
public sealed partial class MandateGuard(SessionApiClient api, MandatedAgents agents, CompensationStore compensations, IOptions<GateOptions> options,
    IConfiguration configuration, ILogger<MandateGuard> logger)
{
    public const string ApprovalHeader = "Mandate-Approval";

    bool Enabled => options.Value.Sessions.CheckMandates ?? configuration.GetSection("services:sessionapi").Exists();

    /// <summary>Reads and removes <c>Mandate-Approval</c> (x402 payments and session debits): upstreams have no use for it.</summary>
    public static string? TakeApprovalId(HttpRequest request)
    {
        var approvalId = request.Headers[ApprovalHeader].FirstOrDefault()?.Trim();
        request.Headers.Remove(ApprovalHeader);
        return approvalId is { Length: > 0 } ? approvalId : null;
    }

    /// <summary>
    /// Charges the payment of <paramref name="attempt"/>; on a refusal the caller releases its claim and answers it. A payer known
    /// to have no mandate (<see cref="MandatedAgents"/>, nearly every payer) is not asked about: no SessionApi call.
    /// </summary>
    public async Task<(MandateOutcome Outcome, PaymentAnswer? Refusal)> ChargeAsync(PaymentAttempt attempt, string paymentId, string? approvalId)
    {
        if (!Enabled || !await agents.MayBeMandatedAsync(attempt.Payer))
            return (MandateOutcome.NoMandate, null);
        return await ChargeAsync(attempt.Route.Organization!.Id, attempt.Payer, attempt.Route.Amount!.Value.ToString(), paymentId, approvalId);
    }

    /// <summary>
    /// Charges <paramref name="amount"/> spent by <paramref name="payer"/> under <paramref name="key"/> (a payment id, or a session
    /// request's id); on <see cref="MandateOutcome.Answered"/> with the refusal or 503 to answer.
    /// </summary>
    public async Task<(MandateOutcome Outcome, PaymentAnswer? Refusal)> ChargeAsync(string organization, string payer, string amount, string paymentId,
        string? approvalId)
    {
        if (!Enabled)
            return (MandateOutcome.NoMandate, null);
        ServiceAnswer answer;
        try
        {
            // Not the client's token, and asked again once with the same key when the outcome is unknown (a charge is idempotent).
            try
            {
                answer = await api.ChargeMandateAsync(organization, payer, amount, paymentId, approvalId, CancellationToken.None);
            }
            catch (SessionApiUnavailableException first)
            {
                LogChargeRetry(first, paymentId);
                answer = await api.ChargeMandateAsync(organization, payer, amount, paymentId, approvalId, CancellationToken.None);
            }
        }
        catch (SessionApiUnavailableException exception)
        {
            LogUnavailable(exception, paymentId);
            // The charge may have happened: undo it (a no-op when it did not); if SessionApi is still away, the release is owed.
            await ReleaseAsync(organization, payer, paymentId, chargeOutcomeUnknown: true);
            return (MandateOutcome.Answered, new PaymentAnswer.Unavailable("Mandates unavailable",
                "The payment could not be checked against the agent's mandate right now; nothing was charged. Retry the same payment later."));
        }
        if (answer.IsSuccess)
        {
            var mandated = answer.Body.TryGetProperty("mandateId", out var id) && id.ValueKind == System.Text.Json.JsonValueKind.String;
            if (mandated)
                LogCharged(paymentId, id.GetString()!, amount);
            return (mandated ? MandateOutcome.Charged : MandateOutcome.NoMandate, null);
        }
        LogRefused(paymentId, payer, (int)answer.Status, answer.Code);
        return (MandateOutcome.Answered, new PaymentAnswer.Refused((int)answer.Status, answer.Body));
    }

    /// <summary>The HTTP status of a mandate's refusal (for the payment's record).</summary>
    public static int StatusOf(PaymentAnswer refusal) => refusal is PaymentAnswer.Refused refused ? refused.Status : StatusCodes.Status503ServiceUnavailable;

    /// <summary>
    /// Undoes the charge of a payment that was not settled (upstream failed, settlement refused). Never throws: tried twice
    /// here, then recorded as owed for <see cref="CompensationRetrier"/>. <paramref name="chargeOutcomeUnknown"/>: the charge
    /// was never answered, so "no such charge" may be one still on its way, and the release is owed anyway.
    /// </summary>
    public Task ReleaseAsync(PaymentAttempt attempt, string paymentId) => ReleaseAsync(attempt.Route.Organization!.Id, attempt.Payer, paymentId);

    /// <inheritdoc cref="ReleaseAsync(PaymentAttempt, string)"/>
    public async Task ReleaseAsync(string organization, string payer, string paymentId, bool chargeOutcomeUnknown = false)
    {
        for (var attemptNo = 1; ; attemptNo++)
        {
            try
            {
                var answer = await api.ReleaseMandateChargeAsync(organization, payer, paymentId, CancellationToken.None);
                if (answer.IsSuccess)
                    LogReleased(paymentId);
                else if (answer.Status == System.Net.HttpStatusCode.NotFound && chargeOutcomeUnknown)
                    await OweReleaseAsync(organization, payer, paymentId, "no such charge yet: the unanswered charge may still land");
                return;
            }
            catch (SessionApiUnavailableException exception)
            {
                LogReleaseFailed(exception, paymentId, attemptNo);
                if (attemptNo < 2)
                    continue;
                await OweReleaseAsync(organization, payer, paymentId, exception.Message);
                return;
            }
        }
    }

    Task OweReleaseAsync(string organization, string payer, string paymentId, string reason) =>
        compensations.RecordAsync(new Compensation(CompensationKinds.MandateRelease, organization, payer, paymentId), reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Payment {PaymentId} charged against mandate {MandateId} ({Amount} atomic units)")]
    partial void LogCharged(string paymentId, string mandateId, string amount);

    [LoggerMessage(Level = LogLevel.Information, Message = "Payment {PaymentId} of {Payer} refused by the mandate: {Status} {Code}; claim released, nothing settled")]
    partial void LogRefused(string paymentId, string payer, int status, string? code);

    [LoggerMessage(Level = LogLevel.Information, Message = "Mandate charge of payment {PaymentId} released: the payment was not settled")]
    partial void LogReleased(string paymentId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Mandate charge of payment {PaymentId} has an unknown outcome; asking again with the same key")]
    partial void LogChargeRetry(Exception exception, string paymentId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "SessionApi unavailable for the mandate charge of payment {PaymentId}: 503, nothing forwarded")]
    partial void LogUnavailable(Exception exception, string paymentId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Release of the mandate charge of payment {PaymentId} failed (attempt {Attempt})")]
    partial void LogReleaseFailed(Exception exception, string paymentId, int attempt);
}
