using Microsoft.Extensions.Options;
using Sessions.PaymentGate.Facilitator;
using Sessions.PaymentGate.Pricing;
using Sessions.Payments.X402;
using Sessions.ServiceDefaults.Hosting;

namespace Sessions.PaymentGate.Paywall;

/// <summary>
/// Retries settlements whose outcome was unknown (facilitator timeout or 5xx while settling), with the exact same
/// facilitator request. Settled → the row becomes <c>settled</c> and the payer's next identical request is served without
/// a new charge; refused → <c>failed</c> (not charged); still unknown → tried again later. A facilitator that answers
/// "nonce already used" had settled the first time (EIP-3009 nonces are single-use), so that counts as settled.
/// </summary>
public sealed partial class SettlementReconciler(
    PaymentStore store, IFacilitatorClient facilitator, IOptions<GateOptions> options, ILogger<SettlementReconciler> logger) : PeriodicWorker(logger)
{
    const int BatchSize = 20;

    protected override TimeSpan Interval => options.Value.ReconcileInterval;

    protected override string PassName => "Reconciliation round";

    protected override Task RunPassAsync(CancellationToken cancellationToken) => ReconcileOnceAsync(cancellationToken);

    /// <summary>One round over the due pending payments; returns how many reached a final state.</summary>
    public async Task<int> ReconcileOnceAsync(CancellationToken cancellationToken)
    {
        var abandoned = await store.RecoverAbandonedAsync(options.Value.AbandonedClaimAfter, cancellationToken);
        if (abandoned > 0)
            LogAbandoned(abandoned);
        // Leased for 30 s: a gate that dies mid-round leaves the rows to the next round (any gate's).
        var due = await store.LeasePendingAsync(BatchSize, TimeSpan.FromSeconds(30), cancellationToken);
        var resolved = 0;
        foreach (var pending in due)
        {
            using var activity = PaywallTelemetry.ActivitySource.StartActivity("x402.reconcile");
            activity?.SetTag("x402.payment_id", pending.Id);
            activity?.SetTag("x402.attempt", pending.Attempts);
            SettleRequest? request;
            try
            {
                request = System.Text.Json.JsonSerializer.Deserialize(pending.SettleRequestJson, X402JsonContext.Strict.SettleRequest);
            }
            catch (System.Text.Json.JsonException exception)
            {
                request = null;
                LogFailed(pending.Id, exception.Message);
            }
            if (request is null)
            {
                await store.MarkFailedAsync(pending.Id, "stored settle request unreadable");
                continue;
            }
            SettleResponse settlement;
            try
            {
                settlement = await facilitator.SettleAsync(request, cancellationToken);
            }
            catch (FacilitatorUnavailableException exception)
            {
                LogStillUnknown(pending.Id, pending.Attempts, exception.Message);
                continue;
            }
            if (settlement.Success)
            {
                await store.MarkSettledAsync(pending.Id, settlement.Transaction, null);
                PaywallTelemetry.CountSettlement("reconciled");
                PaywallTelemetry.CountRevenue(pending.Amount, pending.Route);
                LogSettled(pending.Id, settlement.Transaction);
            }
            else if (settlement.ErrorReason is { } reason && reason.Contains("nonce", StringComparison.OrdinalIgnoreCase))
            {
                await store.MarkSettledAsync(pending.Id, null, $"facilitator answered {reason} on retry: the first settlement went through");
                PaywallTelemetry.CountSettlement("reconciled");
                PaywallTelemetry.CountRevenue(pending.Amount, pending.Route);
                LogSettled(pending.Id, "(unknown, nonce already used)");
            }
            else
            {
                await store.MarkFailedAsync(pending.Id, settlement.ErrorReason ?? "settlement_failed");
                PaywallTelemetry.CountSettlement("failed");
                LogFailed(pending.Id, settlement.ErrorReason);
            }
            resolved++;
        }
        return resolved;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} payment(s) claimed by a gate that stopped mid-request are now pending settlement")]
    partial void LogAbandoned(int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Payment {PaymentId}: settlement outcome still unknown after attempt {Attempt}: {Error}")]
    partial void LogStillUnknown(string paymentId, int attempt, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Payment {PaymentId} reconciled as settled (transaction {Transaction}); served on its next presentation")]
    partial void LogSettled(string paymentId, string transaction);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Payment {PaymentId} reconciled as failed: {Reason}; not charged")]
    partial void LogFailed(string paymentId, string? reason);
}
