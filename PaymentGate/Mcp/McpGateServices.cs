using Microsoft.Extensions.DependencyInjection.Extensions;
using Sessions.PaymentGate.Pricing;
using Sessions.Payments;

namespace Sessions.PaymentGate.Mcp;

/// <summary>One priced or free MCP tool in <c>GET /api/pricing</c> (amount in atomic units as a string, price in dollars).</summary>
public sealed record McpToolPricing(string Name, string Path, string Service, string Description, string Organization, bool Paid,
    AtomicAmount? Amount, string? Price, string Network, string Asset, string PayTo);

public static class McpGateServices
{
    /// <summary>The MCP step of the paywall and the tool prices it learns from the services.</summary>
    public static IServiceCollection AddMcpGate(this IServiceCollection services)
    {
        services.AddHttpClient(McpPricing.HttpClientName);
        services.TryAddSingleton<McpPricing>();
        services.TryAddSingleton<McpGate>();
        return services;
    }

    /// <summary>The tools of every MCP route with their prices as learnt now; a route whose prices are unknown lists none.</summary>
    public static async Task<IReadOnlyList<McpToolPricing>> DescribeAsync(this McpPricing pricing, PricingCatalog catalog, CancellationToken cancellationToken)
    {
        var rows = new List<McpToolPricing>();
        foreach (var route in catalog.Routes.Where(r => r.Mcp))
        {
            var organization = route.Organization!;
            var prices = await pricing.GetAsync(route, refresh: false, cancellationToken);
            foreach (var tool in prices?.Tools.Values.OrderBy(t => t.Name, StringComparer.Ordinal) ?? Enumerable.Empty<McpTool>())
            {
                AtomicAmount? amount = tool.Route?.Amount is { } atomic ? new AtomicAmount(atomic) : null;
                rows.Add(new McpToolPricing(tool.Name, route.Path, route.Service, tool.Description, organization.Id, !tool.IsFree,
                    amount, amount?.ToDollars(organization.Asset.Decimals),
                    organization.Asset.Network, organization.Asset.Address.ToString(), organization.PayTo.ToString()));
            }
        }
        return rows;
    }
}
