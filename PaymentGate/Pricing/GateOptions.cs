namespace Sessions.PaymentGate.Pricing;

/// <summary>Configuration section <c>Gate</c>: who gets paid (organisations) and what costs what (routes).</summary>
public sealed class GateOptions
{
    public const string SectionName = "Gate";

    public Dictionary<string, OrganizationOptions> Organizations { get; set; } = new(StringComparer.Ordinal);

    public List<RouteOptions> Routes { get; set; } = [];

    /// <summary>Largest paid upstream answer the gate holds back until settlement (bytes).</summary>
    public int MaxBufferedResponseBytes { get; set; } = 8 * 1024 * 1024;

    /// <summary>How often the reconciler retries settlements whose outcome is unknown.</summary>
    public TimeSpan ReconcileInterval { get; set; } = TimeSpan.FromSeconds(10);
}

/// <summary>A merchant: the address that receives payments, on one network, in one asset.</summary>
public sealed class OrganizationOptions
{
    public string? Name { get; set; }
    public string? PayTo { get; set; }
    /// <summary>CAIP-2 (<c>eip155:84532</c>) or a v1 name (<c>base-sepolia</c>); default Base Sepolia.</summary>
    public string? Network { get; set; }
    /// <summary>Token contract address; default the network's USDC.</summary>
    public string? Asset { get; set; }
}

/// <summary>One route of the gate: free when <see cref="Price"/> is empty.</summary>
public sealed class RouteOptions
{
    public string? Organization { get; set; }
    /// <summary>HTTP method (GET, PUT...); empty = any method.</summary>
    public string? Method { get; set; }
    /// <summary>ASP.NET route template, e.g. <c>/api/content/{**key}</c>.</summary>
    public string? Path { get; set; }
    /// <summary><c>"$0.001"</c> (dollars) or <c>"1000"</c> (atomic units); absent = free.</summary>
    public string? Price { get; set; }
    /// <summary>Service-discovery name of the upstream (<c>services:&lt;name&gt;:http:0</c>).</summary>
    public string? Service { get; set; }
    public string? Description { get; set; }
    /// <summary>MIME type of the paid answer, announced in the 402 (default application/json).</summary>
    public string? MimeType { get; set; }
}
