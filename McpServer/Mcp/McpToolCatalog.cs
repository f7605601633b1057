using System.Reflection;
using System.Text.Json.Nodes;
using ModelContextProtocol.Server;
using Sessions.Payments;

namespace Sessions.McpServer.Mcp;

/// <summary>
/// The MCP tools of this service, found once by reflection: every static <c>[McpServerTool]</c> method of a
/// <c>[McpServerToolType]</c> class in this assembly, each with its <see cref="ToolPriceAttribute"/>. The same list feeds
/// <c>tools/list</c> (the price also rides in each tool's <c>_meta["x402/price"]</c>) and <c>GET /mcp/pricing</c>.
/// </summary>
public sealed class McpToolCatalog
{
    /// <summary>Key of the declared price in a tool's <c>_meta</c> (absent on free tools).</summary>
    public const string PriceMetaKey = "x402/price";

    readonly Dictionary<string, ToolPricing> _pricing;

    public McpToolCatalog(IServiceProvider services) : this(services, typeof(McpToolCatalog).Assembly)
    {
    }

    /// <exception cref="InvalidOperationException">A tool without a valid price declaration, or two tools with one name.</exception>
    public McpToolCatalog(IServiceProvider services, Assembly assembly)
    {
        var tools = new List<McpServerTool>();
        _pricing = new(StringComparer.Ordinal);
        foreach (var type in assembly.GetTypes().Where(t => t.IsDefined(typeof(McpServerToolTypeAttribute), inherit: false)))
        {
            foreach (var method in type.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly)
                         .Where(m => m.IsDefined(typeof(McpServerToolAttribute), inherit: false)))
            {
                var where = $"{type.Name}.{method.Name}";
                if (!method.IsStatic) throw new InvalidOperationException($"MCP tool {where} must be static (services come in as parameters).");
                var price = ReadPrice(method, where);
                JsonObject? meta = price is null ? null : new JsonObject { [PriceMetaKey] = price };
                var tool = McpServerTool.Create(method, target: null, new McpServerToolCreateOptions { Services = services, Meta = meta });
                var name = tool.ProtocolTool.Name;
                if (!_pricing.TryAdd(name, new ToolPricing(name, price, tool.ProtocolTool.Description)))
                    throw new InvalidOperationException($"Two MCP tools are named '{name}' ({where}).");
                tools.Add(tool);
            }
        }
        Tools = [.. tools.OrderBy(t => t.ProtocolTool.Name, StringComparer.Ordinal)];
        Pricing = [.. _pricing.Values.OrderBy(p => p.Name, StringComparer.Ordinal)];
    }

    public IReadOnlyList<McpServerTool> Tools { get; }

    /// <summary>Every tool with its declared price, ordered by name.</summary>
    public IReadOnlyList<ToolPricing> Pricing { get; }

    /// <summary>True for a tool with a price; false for free and unknown tools (the SDK answers unknown ones itself).</summary>
    public bool IsPriced(string? toolName) => toolName is not null && _pricing.TryGetValue(toolName, out var pricing) && pricing.Price is not null;

    /// <returns>The declared price, or null for a free tool.</returns>
    static string? ReadPrice(MethodInfo method, string where)
    {
        var declared = method.GetCustomAttribute<ToolPriceAttribute>()
            ?? throw new InvalidOperationException($"MCP tool {where} declares no price: add [ToolPrice(\"$0.01\")] or [ToolPrice(Free = true)].");
        return declared switch
        {
            { Free: true, Price: not null } => throw new InvalidOperationException($"MCP tool {where} is declared both free and priced ({declared.Price})."),
            { Free: true } => null,
            { Price: { } price } when AtomicAmount.TryParsePrice(price, UsdcDecimals, out var atomic, out _) && !atomic.IsZero => price,
            _ => throw new InvalidOperationException(
                $"MCP tool {where} has the price '{declared.Price}': use USD like \"$0.01\" (at most 6 decimals, above zero) or atomic units like \"10000\"."),
        };
    }

    // USD with up to 6 decimals (USDC's precision), or a positive whole number of atomic units; zero is [ToolPrice(Free = true)].
    const int UsdcDecimals = 6;
}

/// <param name="Price">As declared (<c>"$0.01"</c>); null = free.</param>
public sealed record ToolPricing(string Name, string? Price, string? Description);
