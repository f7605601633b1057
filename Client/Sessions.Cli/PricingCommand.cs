using System.CommandLine;
using System.Text.Json;
using Sessions.Client;

namespace Sessions.Cli;

/// <summary>
/// <c>pricing</c>: the gate's OpenAPI document (<c>GET /openapi/v1.json</c>, <c>x-payment</c>) read by <see cref="GatePricing"/>,
/// routes and MCP tools with their prices; <c>GET /api/pricing</c> only when the gate serves no document.
/// </summary>
public static class PricingCommand
{
    public static Command Create()
    {
        var pricing = new Command("pricing", "What each route and MCP tool costs (GET /openapi/v1.json, x-payment)");
        pricing.SetAction((parse, cancellationToken) => CommandRunner.RunAsync(parse, async context =>
        {
            var routes = await GatePricing.ReadAsync(context.PlainClient(), cancellationToken);
            if (routes is null)
            {
                await PrintCatalogAsync(context, cancellationToken);
                return;
            }
            var tools = routes.SelectMany(r => r.Tools ?? []).ToList();
            context.Print(new { source = GatePricing.DocumentPath, routes, tools }, () =>
            {
                Output.Table(["METHOD", "PATH", "ORG", "ATOMIC", "PRICE", "SESSIONS", "SUMMARY"], routes.Select(r => (IReadOnlyList<string?>)
                    [r.Method, r.Path, r.Organization, r.Free ? "free" : r.Tools is not null ? "per tool" : r.Amount ?? (r.AmountFrom is { } from ? $"({from})" : null), r.Price,
                     r.Free ? null : r.Sessions ? "yes" : "no", r.Summary]));
                if (tools.Count == 0)
                    return;
                Console.Out.WriteLine();
                Output.Table(["TOOL", "ATOMIC", "PRICE"], tools.Select(t => (IReadOnlyList<string?>)[t.Name, t.Paid ? t.Amount : "free", t.Price]));
            });
        }));
        return pricing;
    }

    /// <summary>A gate without the OpenAPI document: its <c>GET /api/pricing</c> catalog as it is.</summary>
    static async Task PrintCatalogAsync(CliContext context, CancellationToken cancellationToken)
    {
        await Console.Error.WriteLineAsync($"note: the gate serves no {GatePricing.DocumentPath}; showing GET /api/pricing");
        using var response = await context.PlainClient().GetAsync("api/pricing", cancellationToken);
        var catalog = await CliContext.JsonOrFailAsync(response, "pricing", cancellationToken);
        context.Print(catalog, () =>
        {
            Output.Table(["METHOD", "PATH", "ORG", "ATOMIC", "PRICE", "DESCRIPTION"], Items(catalog, "routes").Select(r => (IReadOnlyList<string?>)
                [CliContext.Text(r, "method"), CliContext.Text(r, "path"), CliContext.Text(r, "organization"),
                 CliContext.Text(r, "amount") ?? "free", CliContext.Text(r, "price"), CliContext.Text(r, "description")]));
            var tools = Items(catalog, "tools").ToList();
            if (tools.Count == 0)
                return;
            Console.Out.WriteLine();
            Output.Table(["TOOL", "ATOMIC", "PRICE"], tools.Select(t => (IReadOnlyList<string?>)
                [CliContext.Text(t, "name") ?? CliContext.Text(t, "tool"), CliContext.Text(t, "amount") ?? "free", CliContext.Text(t, "price")]));
        });
    }

    public static IEnumerable<JsonElement> Items(JsonElement json, string name) =>
        json.ValueKind == JsonValueKind.Object && json.TryGetProperty(name, out var items) && items.ValueKind == JsonValueKind.Array
            ? items.EnumerateArray()
            : [];
}
