using Sessions.Payments;

namespace Sessions.PaymentGate.Pricing;

/// <summary><c>GET /api/pricing</c>: what costs what, in atomic units and dollars, and who gets paid.</summary>
public static class PricingApi
{
    public static IEndpointRouteBuilder MapPricingApi(this IEndpointRouteBuilder app)
    {
        // MCP tools are priced by their service (GET /mcp/pricing), learnt by the gate: listed as learnt right now.
        app.MapGet("/api/pricing", async (PricingCatalog catalog, Mcp.McpPricing mcp, CancellationToken cancellationToken) =>
                TypedResults.Ok(Describe(catalog) with { Tools = await Mcp.McpGateServices.DescribeAsync(mcp, catalog, cancellationToken) }))
            .WithName("GetPricing");
        return app;
    }

    public static PricingResponse Describe(PricingCatalog catalog) => new(
        catalog.Organizations.Select(o => new OrganizationPricing(o.Id, o.Name, o.PayTo.ToString(), o.Asset.Network, o.V1Network,
            o.Asset.Address.ToString(), o.Asset.Symbol, o.Asset.Decimals)
        {
            Solana = o.Svm is { } svm ? new SolanaPricing(svm.Asset.Network, svm.Asset.Mint.ToString(), svm.Asset.Symbol, svm.PayTo.ToString(), svm.FeePayer.ToString()) : null,
        }).ToList(),
        catalog.Routes.Select(r => new RoutePricing(
            r.Method.Length == 0 ? "*" : r.Method, r.Path, r.Service, r.Description, r.Organization?.Id, !r.IsFree,
            r.Amount is { } amount ? new AtomicAmount(amount) : null,
            r.Amount is { } atomic ? new AtomicAmount(atomic).ToDollars(r.Organization!.Asset.Decimals) : null,
            r.Organization?.Asset.Network, r.Organization?.Asset.Address.ToString(), r.Organization?.PayTo.ToString())).ToList());
}

public sealed record PricingResponse(IReadOnlyList<OrganizationPricing> Organizations, IReadOnlyList<RoutePricing> Routes)
{
    /// <summary>Tools of the MCP routes (each <c>tools/call</c> costs its tool's price).</summary>
    public IReadOnlyList<Mcp.McpToolPricing> Tools { get; init; } = [];
}

public sealed record OrganizationPricing(string Id, string Name, string PayTo, string Network, string? V1Network, string Asset, string Symbol, int Decimals)
{
    /// <summary>The same prices payable on Solana (x402 exact SVM), when the organisation has a Solana offer.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public SolanaPricing? Solana { get; init; }
}

/// <summary>An organisation's Solana offer: network, mint, the owner paid, the facilitator's fee payer (extra.feePayer).</summary>
public sealed record SolanaPricing(string Network, string Asset, string Symbol, string PayTo, string FeePayer);

/// <summary>One route; <c>Amount</c> is atomic units (a string: uint256 does not fit a JSON number), <c>Price</c> the dollar form.</summary>
public sealed record RoutePricing(string Method, string Path, string Service, string Description, string? Organization, bool Paid,
    AtomicAmount? Amount, string? Price, string? Network, string? Asset, string? PayTo);
