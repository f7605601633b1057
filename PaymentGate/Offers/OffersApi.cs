using System.Globalization;
using System.Numerics;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Sessions.PaymentGate.Pricing;
using Sessions.PaymentGate.Sessions;
using Sessions.Payments;
using Sessions.ServiceDefaults.Errors;

namespace Sessions.PaymentGate.Offers;

/// <summary>What an agent wants before it pays: routes (default every paid route), how much, for how long, what service level.</summary>
public sealed record OfferIntent(string? Organization, string? Payer, List<string>? Routes, long? ExpectedRequests, string? Budget,
    long? DurationSeconds, OfferSlaWish? Sla);

/// <summary><paramref name="LatencyMs"/>: the bound the agent wants; the gate offers no tighter one than it guarantees.</summary>
public sealed record OfferSlaWish(long? LatencyMs);

/// <summary>
/// <c>POST /api/offers</c>: an intent in, a signed offer out (201, <c>{offer, jws}</c>); free, nothing is reserved. The agent
/// opens a session with <c>{"offer": jws}</c> (<see cref="SessionsGateApi"/>) and pays the offered deposit.
/// </summary>
public static class OffersApi
{
    public static IEndpointRouteBuilder MapOffers(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/api/offers").AcceptAnyContentTypeAtRouting().MapPost("", Create).WithName("CreateOffer")
            .WithSummary("An intent (organisation, routes, expected requests or budget, duration, SLA wishes) in, an offer signed by the gate out");
        return app;
    }

    static IResult Create(OfferIntent intent, PricingCatalog catalog, IOptions<GateOptions> options, OfferSigner signer, TimeProvider time)
    {
        var errors = new Dictionary<string, string[]>();
        var organization = SessionsGateApi.ChooseOrganization(catalog, intent.Organization, errors);
        if (organization is null)
            return Problems.Invalid(errors, "Invalid intent");
        var settings = options.Value.Organizations[organization.Id].Offers;
        var paid = catalog.Routes.Where(r => r.Organization?.Id == organization.Id && r.Amount is not null).ToList();
        List<GateRoute?> routes = intent.Routes is { Count: > 0 } named ? [.. named.Select(n => paid.FirstOrDefault(r => r.Name == n))] : [.. paid];
        if (routes.Contains(null) || routes.Count == 0)
            errors["routes"] = [$"Paid routes of '{organization.Id}' as named by GET /api/pricing: {string.Join(", ", paid.Select(r => r.Name))}."];
        if (intent.Payer is { } payer && !global::Sessions.Payments.Crypto.EvmAddress.TryParse(payer, out _, out _))
            errors["payer"] = ["An EVM address, or leave it out."];
        BigInteger budget = 0;
        if (intent.Budget is not null && (!AtomicAmount.TryParse(intent.Budget, out var parsed) || (budget = parsed).IsZero))
            errors["budget"] = ["A positive whole number of atomic units as a decimal string."];
        if (intent.ExpectedRequests is < 1 or > 1_000_000_000)
            errors["expectedRequests"] = ["Between 1 and 1,000,000,000."];
        var duration = intent.DurationSeconds ?? settings.DurationSeconds;
        if (duration is < 60 or > 604800)
            errors["durationSeconds"] = ["Between 60 and 604800 seconds (7 days)."];
        if (intent.Sla?.LatencyMs is < 1)
            errors["sla.latencyMs"] = ["A positive number of milliseconds."];
        if (errors.Count > 0)
            return Problems.Invalid(errors, "Invalid intent");

        var highestList = routes.Max(r => r!.Amount!.Value);
        // Without a count the budget says how many requests at least it buys (at the dearest route's list price).
        var expected = intent.ExpectedRequests ?? (budget.IsZero ? 1 : (long)BigInteger.Min(budget / highestList, 1_000_000_000));
        var tier = settings.Tiers.Where(t => expected >= t.MinRequests).MaxBy(t => t.MinRequests);
        var priced = routes.Select(r => new OfferRoute(r!.Name, Text(r.Amount!.Value), Text(Tiered(r.Amount.Value, tier)))).ToList();
        var (min, max) = SessionsGateApi.DepositBounds(organization, options.Value.Sessions);
        var wanted = budget.IsZero ? expected * priced.Max(r => BigInteger.Parse(r.Price, CultureInfo.InvariantCulture)) : budget;
        var deposit = BigInteger.Clamp(wanted, min, max);
        var now = time.GetUtcNow();
        var offer = new Offer
        {
            Id = "off_" + RandomNumberGenerator.GetHexString(32, lowercase: true),
            Organization = organization.Id,
            Payer = intent.Payer?.ToLowerInvariant(),
            Routes = priced,
            Deposit = Text(deposit),
            DurationSeconds = duration,
            TierMinRequests = tier?.MinRequests,
            ExpectedRequests = expected,
            // Below 100: a credited request still debits something (SessionApi takes a zero debit only from a pass).
            Sla = new OfferSla(Math.Max(intent.Sla?.LatencyMs ?? 0, settings.LatencyMs), Math.Clamp(settings.LatencyCreditPercent, 0, 99),
                AvailabilityBasisPoints: Math.Clamp(settings.AvailabilityBasisPoints, 0, 10_000), AvailabilityWindow: Math.Clamp(settings.AvailabilityWindow, 1, 1000),
                AvailabilityCreditPercent: Math.Clamp(settings.AvailabilityCreditPercent, 0, 99)),
            IssuedAt = now,
            ExpiresAt = now.AddSeconds(settings.OfferTtlSeconds),
        };
        return TypedResults.Created($"/api/offers/{offer.Id}", new { offer, jws = signer.Sign(offer) });
    }

    /// <summary>List price less the tier's discount, rounded down, at least 1 atomic unit.</summary>
    public static BigInteger Tiered(BigInteger listPrice, OfferTier? tier) =>
        tier is null ? listPrice : BigInteger.Max(1, listPrice * (100 - Math.Clamp(tier.DiscountPercent, 0, 100)) / 100);

    static string Text(BigInteger amount) => amount.ToString(CultureInfo.InvariantCulture);
}
