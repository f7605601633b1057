using System.Numerics;
using Microsoft.Extensions.Options;
using Sessions.Payments;
using Sessions.Payments.Crypto;
using Sessions.Payments.Svm;
using Sessions.Payments.X402;
using Sessions.PaymentGate.Facilitator.Local.Svm;

namespace Sessions.PaymentGate.Pricing;

/// <summary>A merchant after validation: addresses parsed, asset known (decimals and EIP-712 domain).</summary>
public sealed record Organization(string Id, string Name, EvmAddress PayTo, AssetInfo Asset)
{
    /// <summary>Price of a pass session (atomic units) when the organisation sells passes.</summary>
    public BigInteger? PassPrice { get; init; }

    public TimeSpan PassTtl { get; init; } = TimeSpan.FromHours(24);

    /// <summary>Whether it sells prepaid sessions (<c>Gate:Organizations:&lt;id&gt;:PrepaidSessions</c>, default true).</summary>
    public bool SellsPrepaid { get; init; } = true;

    /// <summary>Its cheapest paid route (atomic units): the default smallest session deposit.</summary>
    public BigInteger? CheapestRoute { get; init; }

    /// <summary>Where its routes are payable on Solana as well, when configured.</summary>
    public SvmOffer? Svm { get; init; }

    /// <summary>The EVM requirement of a price (atomic units).</summary>
    public PaymentRequirements EvmRequirements(BigInteger amount) =>
        ExactEvmRequirements.For(Asset, amount.ToString(System.Globalization.CultureInfo.InvariantCulture), PayTo.ToString());

    /// <summary>The SVM requirement of the same price, when the organisation has a Solana offer.</summary>
    public PaymentRequirements? SvmRequirements(BigInteger amount) => Svm is { } svm
        ? ExactSvmRequirements.For(svm.Asset, amount.ToString(System.Globalization.CultureInfo.InvariantCulture), svm.PayTo, svm.FeePayer)
        : null;

    /// <summary>The v1 name of the network ("base-sepolia"), or null when x402 v1 has none.</summary>
    public string? V1Network => Networks.TryGetV1Name(Asset.ChainId, out var name) ? name : null;
}

/// <summary>An organisation's Solana offer: mint, receiving owner and the facilitator's fee payer.</summary>
public sealed record SvmOffer(SvmAssetInfo Asset, SolanaAddress PayTo, SolanaAddress FeePayer);

/// <summary>
/// A validated route. Paid routes carry their price in atomic units and the v2 requirement the gate offers
/// (computed once; v2 matching is deep equality against exactly this object).
/// </summary>
public sealed record GateRoute(string Id, string Method, string Path, string Service, string Description, string MimeType,
    Organization? Organization, BigInteger? Amount, PaymentRequirements? Requirements)
{
    public bool IsFree => Amount is null;

    /// <summary>The same price on Solana (exact SVM) when the organisation has a Solana offer.</summary>
    public PaymentRequirements? SvmRequirements { get; init; }

    /// <summary>Every v2 requirement offered for this route, EVM first: what a 402 lists and a payment must deep-equal one of.</summary>
    public IReadOnlyList<PaymentRequirements> Offers => Requirements is null ? [] : SvmRequirements is null ? [Requirements] : [Requirements, SvmRequirements];

    /// <summary>An MCP endpoint whose tools carry the prices (<see cref="Sessions.PaymentGate.Mcp.McpGate"/>).</summary>
    public bool Mcp { get; init; }

    /// <summary>The MCP tool this route stands for (built per priced tool of an MCP route), else null.</summary>
    public string? Tool { get; init; }

    /// <summary>"GET /api/content/{**key}" or "POST /mcp tools/call put-content": how payments rows and logs name the route.</summary>
    public string Name => $"{(Method.Length == 0 ? "*" : Method)} {Path}" + (Tool is null ? "" : $" tools/call {Tool}");

    /// <summary>The v1 requirement for one request (v1 puts the resource URL inside the requirement).</summary>
    public PaymentRequirementsV1? RequirementsV1(string resourceUrl) =>
        Organization is { V1Network: { } network } && Requirements is { } requirements
            ? new PaymentRequirementsV1
            {
                Scheme = requirements.Scheme,
                Network = network,
                MaxAmountRequired = requirements.Amount,
                Asset = requirements.Asset,
                PayTo = requirements.PayTo,
                Resource = resourceUrl,
                Description = Description,
                MimeType = MimeType,
                MaxTimeoutSeconds = requirements.MaxTimeoutSeconds,
                Extra = requirements.Extra,
            }
            : null;
}

/// <summary>The gate configuration could not be used; the message lists every problem.</summary>
public sealed class GateConfigurationException(string message) : Exception(message);

/// <summary>
/// Organisations and routes from configuration section <c>Gate</c>, validated once at start-up: an unknown
/// organisation, a bad price, payTo or network stops the gate with a message naming the configuration key.
/// </summary>
public sealed class PricingCatalog
{
    public const string DefaultService = "mcpserver";

    /// <summary>Routes every gate forwards for free (later issues price them).</summary>
    static readonly RouteOptions[] BuiltInRoutes =
    [
        new() { Path = "/mcp", Service = "mcpserver", Description = "MCP (Streamable HTTP)" },
        new() { Path = "/api/sessions/{**rest}", Service = "sessionapi", Description = "Sessions API" },
        new() { Path = "/api/vaults/{**rest}", Service = "vaultapi", Description = "Vaults API" },
    ];

    readonly Dictionary<string, GateRoute> _byId;

    public PricingCatalog(IOptions<GateOptions> options)
    {
        var errors = new List<string>();
        var organizations = new Dictionary<string, Organization>(StringComparer.Ordinal);
        foreach (var (id, org) in options.Value.Organizations)
        {
            if (TryBuildOrganization(id, org, errors) is { } built)
                organizations[id] = built;
        }

        var routes = new List<GateRoute>();
        var configured = options.Value.Routes;
        for (var i = 0; i < configured.Count; i++)
        {
            if (TryBuildRoute($"Gate:Routes:{i}", $"route-{i}", configured[i], organizations, errors) is { } route)
                routes.Add(route);
        }
        for (var i = 0; i < BuiltInRoutes.Length; i++)
        {
            var builtIn = BuiltInRoutes[i];
            // A configured route with the same path (e.g. pricing /mcp later) replaces the built-in one.
            if (!routes.Any(r => string.Equals(r.Path, builtIn.Path, StringComparison.OrdinalIgnoreCase)))
                routes.Add(TryBuildRoute($"built-in route {builtIn.Path}", $"builtin-{i}", builtIn, organizations, errors)!);
        }

        foreach (var duplicate in routes.GroupBy(r => (r.Method, r.Path.ToLowerInvariant())).Where(g => g.Count() > 1))
            errors.Add($"Gate:Routes: {duplicate.First().Name} is declared {duplicate.Count()} times.");

        if (errors.Count > 0)
            throw new GateConfigurationException("Invalid gate configuration:" + Environment.NewLine + "- " + string.Join(Environment.NewLine + "- ", errors));

        Organizations = organizations.Values
            .Select(o => o with { CheapestRoute = routes.Where(r => r.Organization?.Id == o.Id && r.Amount is not null).Select(r => r.Amount).Min() })
            .OrderBy(o => o.Id, StringComparer.Ordinal).ToList();
        // Routes keep the organisation instance they were built with; only sessions read CheapestRoute, from Organizations.
        Routes = routes;
        _byId = routes.ToDictionary(r => r.Id, StringComparer.Ordinal);
    }

    public IReadOnlyList<Organization> Organizations { get; }

    public IReadOnlyList<GateRoute> Routes { get; }

    public GateRoute? FindRoute(string routeId) => _byId.GetValueOrDefault(routeId);

    public Organization? FindOrganization(string? id) => Organizations.FirstOrDefault(o => o.Id == id);

    static Organization? TryBuildOrganization(string id, OrganizationOptions org, List<string> errors)
    {
        var key = $"Gate:Organizations:{id}";
        var before = errors.Count;
        if (string.IsNullOrWhiteSpace(id) || id.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_')))
            errors.Add($"{key}: the organisation id must be letters, digits, '-' or '_'.");
        if (!EvmAddress.TryParse(org.PayTo, out var payTo, out var payToError))
            errors.Add($"{key}:PayTo '{org.PayTo}' is not an EVM address: {payToError}");
        else if (payTo == EvmAddress.Zero)
            errors.Add($"{key}:PayTo must not be the zero address (payments would be burnt).");

        var network = string.IsNullOrWhiteSpace(org.Network) ? Networks.BaseSepolia : org.Network;
        AssetInfo? asset = null;
        if (!Networks.TryNormalizeToCaip2(network, out var caip2))
            errors.Add($"{key}:Network '{network}' is not an EVM network (use CAIP-2 'eip155:<chainId>' or a v1 name like 'base-sepolia').");
        else if (string.IsNullOrWhiteSpace(org.Asset))
        {
            if (KnownAssets.TryGetUsdc(caip2, out var usdc)) asset = usdc;
            else errors.Add($"{key}:Network '{network}' has no known USDC: set Asset to a known EIP-3009 token.");
        }
        else if (!EvmAddress.TryParse(org.Asset, out var assetAddress, out var assetError))
            errors.Add($"{key}:Asset '{org.Asset}' is not an EVM address: {assetError}");
        else if (KnownAssets.TryFind(caip2, assetAddress, out var known)) asset = known;
        else errors.Add($"{key}:Asset '{org.Asset}' is not a token the gate knows on {caip2} (its EIP-712 name, version and decimals are needed).");

        BigInteger? passPrice = null;
        if (org.Pass is { } pass && asset is not null)
        {
            if (!AtomicAmount.TryParsePrice(pass.Price?.Trim() ?? "", asset.Decimals, out var atomic, out var passError) || atomic.IsZero)
                errors.Add($"{key}:Pass:Price: {(atomic.IsZero && passError is null ? "must be above zero" : passError)}");
            else
                passPrice = atomic;
            if (pass.TtlSeconds is < 60 or > 7 * 24 * 3600)
                errors.Add($"{key}:Pass:TtlSeconds {pass.TtlSeconds} must be between 60 and 604800 (7 days).");
        }

        var svm = org.Solana is { } solana ? TryBuildSvmOffer(key, solana, asset, errors) : null;

        return errors.Count == before
            ? new Organization(id, string.IsNullOrWhiteSpace(org.Name) ? id : org.Name, payTo, asset!)
            {
                PassPrice = passPrice,
                PassTtl = TimeSpan.FromSeconds(org.Pass?.TtlSeconds ?? 24 * 3600),
                SellsPrepaid = org.PrepaidSessions,
                Svm = svm,
            }
            : null;
    }

    static SvmOffer? TryBuildSvmOffer(string organizationKey, SolanaOfferOptions solana, AssetInfo? evmAsset, List<string> errors)
    {
        var key = $"{organizationKey}:Solana";
        var before = errors.Count;
        if (!SolanaAddress.TryParse(solana.PayTo, out var payTo))
            errors.Add($"{key}:PayTo '{solana.PayTo}' is not a base58 Solana address.");
        var feePayerText = string.IsNullOrWhiteSpace(solana.FeePayer) ? LocalSvmFacilitator.FeePayer : solana.FeePayer;
        if (!SolanaAddress.TryParse(feePayerText, out var feePayer))
            errors.Add($"{key}:FeePayer '{solana.FeePayer}' is not a base58 Solana address.");
        var network = string.IsNullOrWhiteSpace(solana.Network) ? SvmNetworks.Devnet : solana.Network;
        SvmAssetInfo? asset = null;
        if (!SvmNetworks.IsSvm(network))
            errors.Add($"{key}:Network '{network}' is not a Solana network (CAIP-2 'solana:<genesis hash prefix>', e.g. {SvmNetworks.Devnet}).");
        else if (string.IsNullOrWhiteSpace(solana.Asset))
        {
            if (!KnownSvmAssets.TryGetUsdc(network, out asset))
                errors.Add($"{key}:Network '{network}' has no known USDC: set Asset to a known SPL mint.");
        }
        else if (!SolanaAddress.TryParse(solana.Asset, out var mint) || !KnownSvmAssets.TryFind(network, mint, out asset))
            errors.Add($"{key}:Asset '{solana.Asset}' is not an SPL mint the gate knows on {network} (its decimals and token program are needed).");
        if (asset is not null && evmAsset is not null && asset.Decimals != evmAsset.Decimals)
            errors.Add($"{key}:Asset has {asset.Decimals} decimals, the organisation's EVM asset {evmAsset.Decimals}: one price must be one amount on both.");
        return errors.Count == before ? new SvmOffer(asset!, payTo, feePayer) : null;
    }

    static GateRoute? TryBuildRoute(string key, string id, RouteOptions route, Dictionary<string, Organization> organizations, List<string> errors)
    {
        var before = errors.Count;
        var method = (route.Method ?? "").Trim().ToUpperInvariant();
        if (method.Length > 0 && !method.All(char.IsAsciiLetterUpper))
            errors.Add($"{key}:Method '{route.Method}' is not an HTTP method.");
        var path = route.Path?.Trim() ?? "";
        if (!path.StartsWith('/'))
            errors.Add($"{key}:Path '{route.Path}' must be a route template starting with '/'.");
        var service = string.IsNullOrWhiteSpace(route.Service) ? DefaultService : route.Service.Trim();

        Organization? organization = null;
        if (!string.IsNullOrWhiteSpace(route.Organization) && !organizations.TryGetValue(route.Organization, out organization))
            errors.Add($"{key}:Organization '{route.Organization}' is not declared under Gate:Organizations.");

        BigInteger? amount = null;
        PaymentRequirements? requirements = null, svmRequirements = null;
        if (!string.IsNullOrWhiteSpace(route.Price))
        {
            if (string.IsNullOrWhiteSpace(route.Organization))
                errors.Add($"{key}: a priced route needs an Organization (who gets paid).");
            else if (organization is not null)
            {
                if (!AtomicAmount.TryParsePrice(route.Price.Trim(), organization.Asset.Decimals, out var atomic, out var priceError))
                    errors.Add($"{key}:Price: {priceError}");
                else if (atomic.IsZero)
                    errors.Add($"{key}:Price '{route.Price}' is zero: leave Price out for a free route.");
                else
                {
                    amount = atomic;
                    requirements = organization.EvmRequirements(atomic);
                    svmRequirements = organization.SvmRequirements(atomic);
                }
            }
        }
        if (route.Mcp && (string.IsNullOrWhiteSpace(route.Organization) || !string.IsNullOrWhiteSpace(route.Price)))
            errors.Add($"{key}: an Mcp route needs an Organization (who gets paid) and no Price (each tool's price comes from the service).");
        if (errors.Count > before)
            return null;
        return new GateRoute(id, method, path, service, route.Description ?? "", string.IsNullOrWhiteSpace(route.MimeType) ? "application/json" : route.MimeType,
            organization, amount, requirements) { Mcp = route.Mcp, SvmRequirements = svmRequirements };
    }
}
