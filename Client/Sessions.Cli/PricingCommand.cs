using System.CommandLine;
using System.Text.Json;

namespace Sessions.Cli;

/// <summary><c>pricing</c>: the gate's <c>GET /api/pricing</c>, routes and MCP tools with their prices.</summary>
public static class PricingCommand
{
    public static Command Create()
    {
        var pricing = new Command("pricing", "What each route and MCP tool costs (GET /api/pricing)");
        pricing.SetAction((parse, cancellationToken) => CommandRunner.RunAsync(parse, async context =>
        {
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
        }));
        return pricing;
    }

    public static IEnumerable<JsonElement> Items(JsonElement json, string name) =>
        json.ValueKind == JsonValueKind.Object && json.TryGetProperty(name, out var items) && items.ValueKind == JsonValueKind.Array
            ? items.EnumerateArray()
            : [];
}
