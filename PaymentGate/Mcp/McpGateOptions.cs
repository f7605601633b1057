namespace Sessions.PaymentGate.Mcp;

/// <summary>Configuration section <c>Gate:Mcp</c>: how the gate reads MCP requests and learns tool prices.</summary>
public sealed class McpGateOptions
{
    /// <summary>Largest JSON-RPC request body the gate reads (bytes); larger ones get 413. Documents go up to 1 MiB, JSON-escaped.</summary>
    public int MaxRequestBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>How long learnt tool prices are used before <c>GET /mcp/pricing</c> is asked again.</summary>
    public TimeSpan PricingRefresh { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How long the last prices still serve while the service cannot be asked; after that priced calls answer 503.</summary>
    public TimeSpan PricingMaxAge { get; set; } = TimeSpan.FromMinutes(10);
}
