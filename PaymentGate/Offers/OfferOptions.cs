namespace Sessions.PaymentGate.Offers;

/// <summary>Configuration section <c>Gate:Organizations:&lt;id&gt;:Offers</c>: volume tiers and the service level offered.</summary>
public sealed class OfferOptions
{
    /// <summary>
    /// Volume tiers: an intent expecting at least <see cref="OfferTier.MinRequests"/> requests pays the list price less
    /// <see cref="OfferTier.DiscountPercent"/> (rounded down to whole atomic units, never below 1). The highest tier reached applies.
    /// </summary>
    public List<OfferTier> Tiers { get; set; } = [];
    /// <summary>The latency bound the organisation guarantees for the upstream part of a request (an intent may ask for a looser one).</summary>
    public long LatencyMs { get; set; } = 2000;
    /// <summary>Share of a request's price credited when its upstream part is over the bound (Gist Plus: 50).</summary>
    public int LatencyCreditPercent { get; set; } = 50;
    /// <summary>Availability bound in basis points (9900 = 99%) over the last <see cref="AvailabilityWindow"/> requests; 0: none.</summary>
    public long AvailabilityBasisPoints { get; set; }
    public int AvailabilityWindow { get; set; } = 20;
    /// <summary>Share of each answer's price credited while availability is under the bound.</summary>
    public int AvailabilityCreditPercent { get; set; } = 25;
    /// <summary>How long an offer can be accepted.</summary>
    public long OfferTtlSeconds { get; set; } = 600;
    /// <summary>Session duration when the intent names none (60 s .. 7 days).</summary>
    public long DurationSeconds { get; set; } = 3600;
}

public sealed class OfferTier
{
    public long MinRequests { get; set; }
    public int DiscountPercent { get; set; }
}
