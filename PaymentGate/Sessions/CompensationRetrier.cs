using System.Net;
using Microsoft.Extensions.Options;
using Sessions.PaymentGate.Paywall;
using Sessions.PaymentGate.Pricing;
using Sessions.ServiceDefaults.Hosting;

namespace Sessions.PaymentGate.Sessions;

/// <summary>
/// Repeats the compensations the gate could not apply at the time (<see cref="CompensationStore"/>) until SessionApi (or
/// Redis) answers: a mandate charge is released; a session debit whose confirm went unanswered is voided. The release is
/// idempotent at SessionApi and a void answers its first outcome again, so a repeat after an unknown outcome is harmless.
/// "Nothing to undo" (no such charge) is believed only once the original call can no longer land
/// (<see cref="CompensationOptions.InFlightWindow"/>). A mandate charge whose payment was presented again and settled since
/// stands: releasing it would let the agent spend past its limits, so the payment's row is locked while it is released.
/// Every answer is retried; only a row of a kind the gate no longer owes is abandoned.
/// </summary>
public sealed partial class CompensationRetrier(CompensationStore store, PaymentStore payments, SessionApiClient api, SessionBalances balances,
    IConfiguration configuration, IOptions<GateOptions> options, TimeProvider time, ILogger<CompensationRetrier> logger) : PeriodicWorker(logger)
{
    const int BatchSize = 50;

    CompensationOptions Options => options.Value.Compensations;

    protected override TimeSpan Interval => Options.Interval;
    protected override string PassName => "Compensation pass";
    // Owed money left by an earlier gate process is retried at once.
    protected override bool RunsAtStart => true;
    // Without SessionApi there are no sessions or mandates, so nothing is ever owed.
    protected override bool Enabled => configuration.GetSection("services:sessionapi").Exists();

    protected override Task RunPassAsync(CancellationToken cancellationToken) => RetryDueAsync(cancellationToken);

    /// <summary>One pass over the due compensations; returns how many reached a final state.</summary>
    public async Task<int> RetryDueAsync(CancellationToken cancellationToken)
    {
        // Leased for a minute: a gate that dies mid-pass leaves the rows to the next pass (any gate's).
        var due = await store.LeaseDueAsync(BatchSize, TimeSpan.FromMinutes(1), cancellationToken);
        var finished = 0;
        foreach (var item in due)
        {
            var owed = item.Compensation;
            using var activity = PaywallTelemetry.ActivitySource.StartActivity("gate.compensation");
            activity?.SetTag("gate.compensation.kind", owed.Kind);
            activity?.SetTag("gate.compensation.key", owed.Key);
            activity?.SetTag("gate.compensation.attempt", item.Attempts);
            Step step;
            try
            {
                // A "session-credit" row can only be left by a gate from before session debits moved to Redis (issue 16).
                step = owed.Kind switch
                {
                    CompensationKinds.MandateRelease => await ReleaseAsync(item, cancellationToken),
                    CompensationKinds.SessionDebitVoid => await VoidAsync(item),
                    _ => Step.Abandon($"the gate no longer applies '{owed.Kind}' compensations"),
                };
            }
            catch (SessionApiUnavailableException exception)
            {
                step = Step.Retry(exception.Message) with { Unreachable = true };
            }
            catch (Exception exception) when (SessionBalances.IsUnavailable(exception))
            {
                step = Step.Retry($"Redis: {exception.Message}") with { Unreachable = true };
            }
            activity?.SetTag("gate.compensation.outcome", step.Outcome);
            PaywallTelemetry.CountCompensation(owed.Kind, step.Final switch { true => "done", false => "abandoned", null => "retry" });
            if (step.Final is { } done)
            {
                await store.FinishAsync(item, done, step.Outcome, cancellationToken);
                finished++;
                if (done) LogDone(owed.Kind, owed.Key, step.Outcome, item.Attempts);
                else LogAbandoned(owed.Kind, owed.Key, owed.Payer, step.Outcome);
                continue;
            }
            var delay = Backoff(item.Attempts);
            await store.RetryLaterAsync(item, step.Outcome, delay, cancellationToken);
            if (step.Refused)
                LogRefusedRetry(owed.Kind, owed.Key, item.Attempts, step.Outcome, delay);
            else
                LogRetry(owed.Kind, owed.Key, item.Attempts, step.Outcome, delay);
            // SessionApi or Redis away: the rest of the batch would only wait out the same timeouts; their leases bring them back.
            if (step.Unreachable)
                break;
        }
        return finished;
    }

    Task<Step> ReleaseAsync(DueCompensation item, CancellationToken cancellationToken) =>
        payments.WithStatusLockedAsync(item.Compensation.Key, async status =>
        {
            switch (status)
            {
                case "settled" or "serving" or "served":
                    return Step.Done("the payment was presented again and settled: the charge stands");
                case "verified" or "pending":
                    return Step.Retry("the payment is not final yet");
            }
            var owed = item.Compensation;
            var answer = await api.ReleaseMandateChargeAsync(owed.Organization, owed.Payer, owed.Key, cancellationToken);
            if (answer.IsSuccess)
                return Step.Done("released");
            return answer.Status == HttpStatusCode.NotFound ? NothingToUndo(item, "no such charge")
                : Step.Refusal($"SessionApi answered {(int)answer.Status} {answer.Code}");
        }, cancellationToken);

    /// <summary>
    /// Applies the owed voids of <paramref name="sessionId"/> now, whatever their backoff: a close must have their credits
    /// in the ledger before its refund. Throws when Redis does not answer (the close cannot run either).
    /// </summary>
    public async Task ApplyVoidsOfAsync(string sessionId, CancellationToken cancellationToken)
    {
        var owed = await store.LeasePendingAsync(CompensationKinds.SessionDebitVoid, CompensationKinds.SessionDebitKey(sessionId, ""),
            TimeSpan.FromMinutes(1), cancellationToken);
        foreach (var item in owed)
        {
            var step = await VoidAsync(item);
            await store.FinishAsync(item, done: true, step.Outcome, cancellationToken);
            PaywallTelemetry.CountCompensation(item.Compensation.Kind, "done");
            LogDone(item.Compensation.Kind, item.Compensation.Key, step.Outcome, item.Attempts);
        }
    }

    async Task<Step> VoidAsync(DueCompensation item)
    {
        var owed = item.Compensation;
        var (sessionId, requestId) = CompensationKinds.OfSessionDebitKey(owed.Key);
        return await balances.VoidAsync(sessionId, requestId, owed.Payer, owed.Organization, time.GetUtcNow()) == VoidOutcome.Released
            ? Step.Done("the hold was still there: released, nothing was charged")
            : Step.Done("voided on the stream: SessionApi credits the debit back if it was made");
    }

    /// <summary>The charge is not there: final once the call that made it can no longer land.</summary>
    Step NothingToUndo(DueCompensation item, string what) =>
        item.Age >= Options.InFlightWindow ? Step.Done($"{what}: nothing was owed")
            : Step.Retry($"{what} yet: asked again after the in-flight window");

    TimeSpan Backoff(int attempts)
    {
        // Doubling from the interval, capped (never below the interval itself).
        var delay = Options.Interval * Math.Pow(2, Math.Min(attempts - 1, 16));
        var cap = Options.MaxBackoff > Options.Interval ? Options.MaxBackoff : Options.Interval;
        return delay < cap ? delay : cap;
    }

    /// <summary>
    /// The outcome of one attempt: <see cref="Final"/> null = try again, true = done, false = abandoned. <see cref="Unreachable"/>:
    /// SessionApi (or Redis) did not answer; <see cref="Refused"/>: it answered a refusal that should not happen (a signing key or
    /// configuration problem), retried but logged as an error for someone to look.
    /// </summary>
    readonly record struct Step(bool? Final, string Outcome, bool Unreachable = false, bool Refused = false)
    {
        public static Step Done(string outcome) => new(true, outcome);
        public static Step Abandon(string outcome) => new(false, outcome);
        public static Step Retry(string outcome) => new(null, outcome);
        public static Step Refusal(string outcome) => new(null, outcome, Refused: true);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Owed {Kind} {Key} settled after {Attempts} attempt(s): {Outcome}")]
    partial void LogDone(string kind, string key, string outcome, int attempts);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Owed {Kind} {Key} not applied (attempt {Attempt}): {Outcome}; next try in {Delay}")]
    partial void LogRetry(string kind, string key, int attempt, string outcome, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Error, Message = "Owed {Kind} {Key} refused (attempt {Attempt}): {Outcome}; still owed, next try in {Delay}")]
    partial void LogRefusedRetry(string kind, string key, int attempt, string outcome, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Error, Message = "Owed {Kind} {Key} (payer {Payer}) abandoned: {Outcome}; reconcile by hand")]
    partial void LogAbandoned(string kind, string key, string payer, string outcome);
}
