namespace Sessions.McpServer.Mcp;

/// <summary>
/// What one call of an MCP tool costs, declared on the tool method itself (aixyz's <c>accepts</c>): <c>[ToolPrice("$0.01")]</c>
/// or <c>[ToolPrice(Free = true)]</c>. Every tool must carry one (<see cref="McpToolCatalog"/> refuses to start otherwise);
/// the gate learns the prices from <c>GET /mcp/pricing</c>, so there is no second price table to keep in sync.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class ToolPriceAttribute : Attribute
{
    /// <summary>Use with <c>Free = true</c>.</summary>
    public ToolPriceAttribute()
    {
    }

    /// <param name="price">USD as the gate's routes write it (<c>"$0.001"</c>) or atomic units of the asset (<c>"1000"</c>).</param>
    public ToolPriceAttribute(string price) => Price = price;

    public string? Price { get; }

    /// <summary>The tool costs nothing; it may still need a payer (its data belongs to one).</summary>
    public bool Free { get; set; }
}
