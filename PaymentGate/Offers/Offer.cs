using System.Text.Json;
using Sessions.PaymentGate.Receipts;
using Sessions.Payments.Receipts;

namespace Sessions.PaymentGate.Offers;

/// <summary>
/// The terms a session is bound to (issue 20, docs/offers-and-sla.md): signed by the gate's key as a compact JWS
/// (<c>typ</c> <see cref="JwsType"/>), so an agent verifies them with <c>/.well-known/jwks.json</c> before paying and the gate
/// needs no store of offers: opening a session with the JWS is proof of the terms. Amounts are atomic units as strings.
/// </summary>
public sealed record Offer
{
    public const string JwsType = "sessions-offer+jws";

    public required string Id { get; init; }
    public required string Organization { get; init; }
    /// <summary>Only this payer may open a session on it (null: whoever pays the deposit).</summary>
    public string? Payer { get; init; }
    public required List<OfferRoute> Routes { get; init; }
    public required string Deposit { get; init; }
    public required long DurationSeconds { get; init; }
    /// <summary>The volume tier applied (its minimum expected requests), null: list price.</summary>
    public long? TierMinRequests { get; init; }
    public long ExpectedRequests { get; init; }
    public required OfferSla Sla { get; init; }
    public required DateTimeOffset IssuedAt { get; init; }
    public required DateTimeOffset ExpiresAt { get; init; }

    public byte[] ToJsonBytes() => JsonSerializer.SerializeToUtf8Bytes(this, JsonSerializerOptions.Web);
}

/// <param name="Route">As the gate names it: <c>GET /api/content/{**key}</c>.</param>
/// <param name="ListPrice">The price list's price; <paramref name="Price"/> is what the session pays (the tier applied).</param>
public sealed record OfferRoute(string Route, string ListPrice, string Price);

/// <summary>
/// The service level: an answer whose upstream part took more than <see cref="LatencyMs"/> is credited
/// <see cref="LatencyCreditPercent"/>% of its price; a failed answer (5xx, timeout, unreachable) is never charged
/// (<see cref="FailureCreditPercent"/> = 100); while the session's availability over its last <see cref="AvailabilityWindow"/>
/// requests is under <see cref="AvailabilityBasisPoints"/> (0: no such term), each answer is credited
/// <see cref="AvailabilityCreditPercent"/>% (the larger of the two credits applies).
/// </summary>
public sealed record OfferSla(long LatencyMs, int LatencyCreditPercent, int FailureCreditPercent = 100, long AvailabilityBasisPoints = 0,
    int AvailabilityWindow = 0, int AvailabilityCreditPercent = 0);

/// <summary>Why an offer presented at open is refused: a stable problem code.</summary>
public enum OfferRefusal { None, Invalid, Expired, Foreign }

/// <summary>Signs offers with the gate's current key and checks presented ones against every published key.</summary>
public sealed class OfferSigner(GateSigningKeys keys, TimeProvider time)
{
    public string Sign(Offer offer) => keys.SignJws(Offer.JwsType, offer.ToJsonBytes());

    /// <summary>
    /// The offer inside <paramref name="jws"/> when it is the gate's, unchanged, unexpired and for this organisation
    /// (<paramref name="organization"/> null: any); any changed byte fails the signature.
    /// </summary>
    public (Offer? Offer, OfferRefusal Refusal, string Detail) Check(string? jws, string? organization)
    {
        if (Jws.Verify(jws, keys.Published, out var header, out var payload) is var check && check != JwsCheck.Valid)
            return (null, OfferRefusal.Invalid, $"The offer is not one the gate signed ({check}).");
        if (header!.Typ != Offer.JwsType)
            return (null, OfferRefusal.Invalid, $"The JWS is a '{header.Typ}', not an offer.");
        Offer? offer;
        try
        {
            offer = JsonSerializer.Deserialize<Offer>(payload, JsonSerializerOptions.Web);
        }
        catch (JsonException)
        {
            offer = null;
        }
        if (offer is null)
            return (null, OfferRefusal.Invalid, "The offer's payload is not an offer.");
        if (time.GetUtcNow() >= offer.ExpiresAt)
            return (offer, OfferRefusal.Expired, $"Offer {offer.Id} expired at {offer.ExpiresAt:O}; ask for a new one (POST /api/offers).");
        if (organization is not null && organization != offer.Organization)
            return (offer, OfferRefusal.Foreign, $"Offer {offer.Id} is for organisation '{offer.Organization}', not '{organization}'.");
        return (offer, OfferRefusal.None, "");
    }

    /// <summary>The problem answer for a refusal (400 invalid, 410 expired, 403 foreign).</summary>
    public static (int Status, string Code, string Title) Problem(OfferRefusal refusal) => refusal switch
    {
        OfferRefusal.Expired => (StatusCodes.Status410Gone, "offer-expired", "Offer expired"),
        OfferRefusal.Foreign => (StatusCodes.Status403Forbidden, "offer-foreign", "Offer for someone else"),
        _ => (StatusCodes.Status400BadRequest, "offer-invalid", "Offer not valid"),
    };
}
