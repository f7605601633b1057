using System.Net;
using System.Text.Json;

namespace Sessions.Client;

/// <summary>A priced MCP tool from the MCP route's <c>x-payment.tools</c>; <see cref="Amount"/> is atomic units as text.</summary>
public sealed record ToolPrice(string Name, bool Paid, string? Price, string? Amount);

/// <summary>
/// One operation of the gate's OpenAPI document with its <c>x-payment</c>. <see cref="Free"/> when it has none;
/// <see cref="Amount"/> is atomic units as the gate wrote them (text, never floating point); <see cref="AmountFrom"/> names the
/// request field that sets the amount (opening or topping up a session); <see cref="Tools"/> only on the MCP route.
/// </summary>
public sealed record RoutePrice(
    string Method, string Path, string? Summary, bool Free, string? Organization, string? Price, string? Amount, string? AmountFrom,
    string? Asset, string? Symbol, IReadOnlyList<string> Networks, string? PayTo, IReadOnlyList<string> Schemes, bool Sessions,
    IReadOnlyList<ToolPrice>? Tools);

/// <summary>Reads the prices of a gate from its OpenAPI document (<c>GET /openapi/v1.json</c>, vendor extension <c>x-payment</c>).</summary>
public static class GatePricing
{
    public const string DocumentPath = "openapi/v1.json";
    static readonly string[] Methods = ["get", "put", "post", "delete", "patch", "head", "options", "trace"];

    /// <summary>Every operation of the document, in its order; null when the gate serves no document (404).</summary>
    public static async Task<IReadOnlyList<RoutePrice>?> ReadAsync(HttpClient http, CancellationToken cancellationToken = default)
    {
        using var response = await http.GetAsync(DocumentPath, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
            return null;
        response.EnsureSuccessStatusCode();
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var document = await JsonDocument.ParseAsync(stream, cancellationToken: cancellationToken);
        return Parse(document.RootElement);
    }

    public static IReadOnlyList<RoutePrice> Parse(JsonElement document)
    {
        var routes = new List<RoutePrice>();
        if (!document.TryGetProperty("paths", out var paths) || paths.ValueKind != JsonValueKind.Object)
            return routes;
        foreach (var path in paths.EnumerateObject())
            foreach (var operation in path.Value.EnumerateObject().Where(o => Methods.Contains(o.Name) && o.Value.ValueKind == JsonValueKind.Object))
                routes.Add(Route(operation.Name.ToUpperInvariant(), path.Name, operation.Value));
        return routes;
    }

    static RoutePrice Route(string method, string path, JsonElement operation)
    {
        var summary = Text(operation, "summary");
        if (!operation.TryGetProperty("x-payment", out var payment) || payment.ValueKind != JsonValueKind.Object)
            return new(method, path, summary, true, null, null, null, null, null, null, [], null, [], false, null);
        IReadOnlyList<ToolPrice>? tools = payment.TryGetProperty("tools", out var list) && list.ValueKind == JsonValueKind.Array
            ? list.EnumerateArray().Select(t => new ToolPrice(Text(t, "name") ?? "", t.TryGetProperty("paid", out var paid) && paid.ValueKind == JsonValueKind.True,
                Text(t, "price"), Text(t, "amount"))).ToList()
            : null;
        return new(method, path, summary, false, Text(payment, "organization"), Text(payment, "price"),
            Text(payment, "amount"), Text(payment, "amountFrom"),
            Text(payment, "asset"), Text(payment, "symbol"), Strings(payment, "networks"), Text(payment, "payTo"),
            Strings(payment, "schemes"), payment.TryGetProperty("sessions", out var sessions) && sessions.ValueKind == JsonValueKind.True, tools);
    }

    static string? Text(JsonElement json, string name) =>
        json.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    static IReadOnlyList<string> Strings(JsonElement json, string name) =>
        json.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Array
            ? value.EnumerateArray().Where(v => v.ValueKind == JsonValueKind.String).Select(v => v.GetString()!).ToList()
            : [];
}
