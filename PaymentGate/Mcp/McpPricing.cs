using System.Collections.Concurrent;
using System.Globalization;
using System.Numerics;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Sessions.PaymentGate.Pricing;
using Sessions.Payments;
using Sessions.Payments.X402;

namespace Sessions.PaymentGate.Mcp;

/// <summary>One tool of an MCP route: free (<see cref="Route"/> null) or priced, with the gate route a payment is taken for.</summary>
public sealed record McpTool(string Name, string? Price, string Description, GateRoute? Route)
{
    public bool IsFree => Route is null;
}

/// <summary>The tools of an MCP route as its service declared them, and when the gate learnt them.</summary>
public sealed record McpToolPrices(IReadOnlyDictionary<string, McpTool> Tools, DateTimeOffset LearntAt);

/// <summary>
/// The tool prices of an MCP route, learnt from the service itself (<c>GET http://&lt;service&gt;/mcp/pricing</c>, where each
/// tool's <c>[ToolPrice]</c> is listed): no second price table at the gate. Fetched at first use, refreshed after
/// <see cref="McpGateOptions.PricingRefresh"/>; a failed refresh keeps the last prices up to <see cref="McpGateOptions.PricingMaxAge"/>,
/// after which priced calls fail closed (null here, 503 at the gate) until the service answers again.
/// </summary>
public sealed partial class McpPricing(IHttpClientFactory factory, TimeProvider time, IOptions<GateOptions> options, ILogger<McpPricing> logger)
{
    public const string HttpClientName = "mcp-pricing";

    /// <summary>After a failed fetch (or a forced one), callers reuse what is known for this long instead of asking again.</summary>
    static readonly TimeSpan RetryGap = TimeSpan.FromSeconds(2);

    sealed record Entry(McpToolPrices? Prices, DateTimeOffset CheckedAt);

    readonly ConcurrentDictionary<string, Entry> _cache = new(StringComparer.Ordinal);
    readonly SemaphoreSlim _fetch = new(1, 1);

    McpGateOptions Options => options.Value.Mcp;

    /// <summary>
    /// The tools of <paramref name="route"/>, or null when their prices cannot be learnt. <paramref name="refresh"/> asks the
    /// service again (an unknown tool name may be a tool added since), at most once per <see cref="RetryGap"/>.
    /// </summary>
    public async Task<McpToolPrices?> GetAsync(GateRoute route, bool refresh, CancellationToken cancellationToken)
    {
        if (IsFresh(route, refresh, out var known))
            return known;
        await _fetch.WaitAsync(cancellationToken);
        try
        {
            if (IsFresh(route, refresh, out known))
                return known;
            var now = time.GetUtcNow();
            McpToolPrices? prices;
            try
            {
                prices = await FetchAsync(route, cancellationToken);
                LogLearnt(route.Service, prices.Tools.Count, prices.Tools.Values.Count(t => !t.IsFree));
            }
            catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                prices = known is not null && now - known.LearntAt < Options.PricingMaxAge ? known : null;
                LogFetchFailed(exception, route.Service, prices is null ? "priced tools answer 503" : "keeping the last prices");
            }
            _cache[route.Id] = new Entry(prices, now);
            return prices;
        }
        finally
        {
            _fetch.Release();
        }
    }

    bool IsFresh(GateRoute route, bool refresh, out McpToolPrices? known)
    {
        var now = time.GetUtcNow();
        if (!_cache.TryGetValue(route.Id, out var entry))
        {
            known = null;
            return false;
        }
        known = entry.Prices;
        if (now - entry.CheckedAt < RetryGap)
            return true;
        return !refresh && known is not null && now - known.LearntAt < Options.PricingRefresh;
    }

    async Task<McpToolPrices> FetchAsync(GateRoute route, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        using var client = factory.CreateClient(HttpClientName);
        using var response = await client.GetAsync($"http://{route.Service}{route.Path.TrimEnd('/')}/pricing", timeout.Token);
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException($"{route.Service} answered {(int)response.StatusCode} to GET /mcp/pricing");
        using var document = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(timeout.Token), default, timeout.Token);
        return Parse(route, document.RootElement, time.GetUtcNow());
    }

    /// <summary>Reads <c>{"tools":[{"name","price" ("$0.01" or null),"description"}]}</c>; anything malformed rejects the whole list.</summary>
    public static McpToolPrices Parse(GateRoute route, JsonElement root, DateTimeOffset learntAt)
    {
        var organization = route.Organization ?? throw new InvalidOperationException($"{route.Name} has no organisation");
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("tools", out var tools) || tools.ValueKind != JsonValueKind.Array)
            throw new FormatException("the pricing document has no \"tools\" array");
        var result = new Dictionary<string, McpTool>(StringComparer.Ordinal);
        foreach (var tool in tools.EnumerateArray())
        {
            var name = tool.ValueKind == JsonValueKind.Object && tool.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String
                ? n.GetString()! : throw new FormatException("a tool without a name");
            var description = tool.TryGetProperty("description", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString()! : "";
            var price = tool.TryGetProperty("price", out var p) ? p : default;
            GateRoute? priced = null;
            string? priceText = null;
            if (price.ValueKind == JsonValueKind.String)
            {
                priceText = price.GetString()!;
                if (!AtomicAmount.TryParsePrice(priceText, organization.Asset.Decimals, out var atomic, out var error))
                    throw new FormatException($"tool {name}: price '{priceText}': {error}");
                if (!atomic.IsZero)
                    priced = ToolRoute(route, name, description, atomic);
            }
            else if (price.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined))
                throw new FormatException($"tool {name}: price must be a string or null");
            if (!result.TryAdd(name, new McpTool(name, priced is null ? null : priceText, description, priced)))
                throw new FormatException($"tool {name} is listed twice");
        }
        return new McpToolPrices(result, learntAt);
    }

    /// <summary>
    /// The gate route a tool's payment is taken for: the MCP route's organisation and upstream, the tool's price and requirement
    /// (built once per price list, so v2 matching compares against exactly what was offered).
    /// </summary>
    static GateRoute ToolRoute(GateRoute route, string name, string description, BigInteger amount) => route with
    {
        Id = $"{route.Id}:{name}",
        Method = "POST",
        Description = description,
        Amount = amount,
        Requirements = route.Organization!.EvmRequirements(amount),
        SvmRequirements = route.Organization.SvmRequirements(amount),
        Mcp = false,
        Tool = name,
    };

    [LoggerMessage(Level = LogLevel.Information, Message = "MCP prices of {Service}: {Tools} tool(s), {Priced} priced")]
    partial void LogLearnt(string service, int tools, int priced);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not learn the MCP tool prices of {Service}: {Consequence}")]
    partial void LogFetchFailed(Exception exception, string service, string consequence);
}
