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

    /// <summary>
    /// A claim still open after this long belongs to a gate that stopped mid-request: the reconciler settles it as pending
    /// (longer than any forwarded request plus its settlement can take).
    /// </summary>
    public TimeSpan AbandonedClaimAfter { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Prepaid sessions opened at the gate (<c>POST /api/sessions</c>).</summary>
    public SessionGateOptions Sessions { get; set; } = new();

    /// <summary>MCP routes (<c>"Mcp": true</c>): request size and how tool prices are learnt.</summary>
    public Mcp.McpGateOptions Mcp { get; set; } = new();

    /// <summary>Value of <c>X-Admin-Key</c> for the operators' reads (<c>GET /api/receipts</c> of any payer); unset = none.</summary>
    public string? AdminKey { get; set; }

    /// <summary>Credit-backs and mandate releases owed after a SessionApi outage (<c>Gate:Compensations</c>).</summary>
    public Sessions.CompensationOptions Compensations { get; set; } = new();
}

/// <summary>Configuration section <c>Gate:Sessions</c>.</summary>
public sealed class SessionGateOptions
{
    /// <summary>Smallest deposit (atomic units); default the organisation's cheapest route price.</summary>
    public string? MinimumDeposit { get; set; }
    /// <summary>Largest deposit or top-up (atomic units); default 1,000 USDC.</summary>
    public string MaximumDeposit { get; set; } = "1000000000";
    /// <summary>
    /// Charge agents' x402 payments against their mandates in SessionApi (fail closed: 503 when it cannot answer).
    /// Default: on whenever SessionApi is configured (<c>services:sessionapi</c>); a gate without SessionApi has no mandates.
    /// </summary>
    public bool? CheckMandates { get; set; }
    /// <summary>How often each gate writes the session debits decided in Redis to SessionApi's ledger (docs/design/session-debits.md).</summary>
    public TimeSpan FoldInterval { get; set; } = TimeSpan.FromMilliseconds(100);
    /// <summary>
    /// A hold nobody confirmed or released for this long belongs to a gate that died: it is released (the request was not
    /// answered, so it is not charged). Longer than the longest upstream call.
    /// </summary>
    public TimeSpan HoldTimeout { get; set; } = TimeSpan.FromMinutes(2);
    /// <summary>
    /// Prefix of the session keys in Redis (balances, holds, the debit stream): one per stack, so that stacks sharing a Redis
    /// (the test suite does) never fold each other's debits. Every gate of one stack uses the same.
    /// </summary>
    public string RedisKeyPrefix { get; set; } = "gate:";
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
    /// <summary>When set, <c>POST /api/sessions {"kind":"pass"}</c> sells a pass: one payment, free requests until it expires.</summary>
    public PassOptions? Pass { get; set; }
    /// <summary>False: <c>POST /api/sessions</c> sells this organisation no prepaid sessions (and its 402s advertise none).</summary>
    public bool PrepaidSessions { get; set; } = true;

    /// <summary>When set, the organisation's priced routes are payable on Solana too (x402 exact SVM, offered beside EVM).</summary>
    public SolanaOfferOptions? Solana { get; set; }

    /// <summary>What <c>POST /api/offers</c> offers (volume tiers, SLA); docs/offers-and-sla.md.</summary>
    public Offers.OfferOptions Offers { get; set; } = new();
}

/// <summary>Configuration section <c>Gate:Organizations:{id}:Solana</c>: where SVM payments go.</summary>
public sealed class SolanaOfferOptions
{
    /// <summary>The owner (base58) whose associated token account of the asset receives; required.</summary>
    public string? PayTo { get; set; }
    /// <summary>CAIP-2 <c>solana:…</c>; default devnet (<c>solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1</c>).</summary>
    public string? Network { get; set; }
    /// <summary>The SPL mint; default the network's USDC. Its decimals must be the EVM asset's (one amount, two chains).</summary>
    public string? Asset { get; set; }
    /// <summary>
    /// <c>extra.feePayer</c>: the facilitator's fee payer. Default: the gate's local facilitator's. With a remote facilitator
    /// set the address its <c>/supported</c> lists under <c>signers["solana:*"]</c>.
    /// </summary>
    public string? FeePayer { get; set; }
}

/// <summary>A pass session of an organisation (Prudra): its price and how long it lasts.</summary>
public sealed class PassOptions
{
    /// <summary><c>"$0.10"</c> or atomic units; required.</summary>
    public string? Price { get; set; }
    /// <summary>60 s .. 7 days; default 24 h.</summary>
    public long TtlSeconds { get; set; } = 24 * 3600;
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
    /// <summary>
    /// An MCP endpoint (Streamable HTTP): no Price of its own; each <c>tools/call</c> costs what the service's
    /// <c>GET /mcp/pricing</c> says (see PaymentGate/Mcp). Needs an Organization (who gets paid).
    /// </summary>
    public bool Mcp { get; set; }
}
