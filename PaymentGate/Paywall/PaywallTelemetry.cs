using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Numerics;

namespace Sessions.PaymentGate.Paywall;

/// <summary>
/// The paywall's spans (on the gate's shared <see cref="PaymentGateTelemetry.ActivitySource"/>, "Sessions.PaymentGate")
/// and metrics (meter "Sessions.PaymentGate"); ServiceDefaults exports every "Sessions.*" source and meter.
/// </summary>
public static class PaywallTelemetry
{
    public const string MeterName = "Sessions.PaymentGate";

    public static ActivitySource ActivitySource => PaymentGateTelemetry.ActivitySource;

    public static readonly Meter Meter = new(MeterName);

    /// <summary>402 answers (no payment, bad payment, replay, refused settlement), by reason.</summary>
    public static readonly Counter<long> PaymentRequired = Meter.CreateCounter<long>("gate.payment_required", description: "402 Payment Required answers");

    /// <summary>Verifications by result: valid, invalid, unavailable.</summary>
    public static readonly Counter<long> Verifications = Meter.CreateCounter<long>("gate.verifications", description: "Payment verifications by result");

    /// <summary>Settlements by result: success, failed, pending (outcome unknown), reconciled, redeemed.</summary>
    public static readonly Counter<long> Settlements = Meter.CreateCounter<long>("gate.settlements", description: "Settlements by result");

    /// <summary>Settled amounts in the asset's atomic units, by route.</summary>
    public static readonly Counter<long> Revenue = Meter.CreateCounter<long>("gate.revenue", unit: "{atomic_unit}", description: "Settled revenue in atomic units, by route");

    /// <summary>Owed compensations: mandate releases, session debit voids (PaymentGate/Sessions/CompensationStore.cs), by kind and result: recorded, done, abandoned, retry.</summary>
    public static readonly Counter<long> Compensations = Meter.CreateCounter<long>("gate.compensations", description: "Owed compensations by kind and result");

    public static void CountCompensation(string kind, string result) =>
        Compensations.Add(1, new KeyValuePair<string, object?>("kind", kind), new KeyValuePair<string, object?>("result", result));

    public static void CountPaymentRequired(string reason) => PaymentRequired.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public static void CountVerification(string result) => Verifications.Add(1, new KeyValuePair<string, object?>("result", result));

    public static void CountSettlement(string result) => Settlements.Add(1, new KeyValuePair<string, object?>("result", result));

    public static void CountRevenue(BigInteger amount, string route)
    {
        // Gate prices are far below long.MaxValue atomic units (9.2e12 USDC); a larger one is clamped rather than wrapped.
        var value = amount > long.MaxValue ? long.MaxValue : (long)amount;
        Revenue.Add(value, new KeyValuePair<string, object?>("route", route));
    }
}
