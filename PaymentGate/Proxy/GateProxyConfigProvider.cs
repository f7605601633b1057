using Microsoft.Extensions.Primitives;
using Sessions.PaymentGate.Pricing;
using Yarp.ReverseProxy.Configuration;

namespace Sessions.PaymentGate.Proxy;

/// <summary>
/// YARP routes and clusters built in code from <see cref="PricingCatalog"/> (one route per gate route, same id)
/// one cluster per service whose destination <c>http://&lt;name&gt;</c> the service-discovery destination resolver
/// (Microsoft.Extensions.ServiceDiscovery.Yarp) expands into every configured endpoint, <c>services:&lt;name&gt;:http:0</c>, <c>:1</c>...
/// No session affinity: any destination can serve any request.
/// </summary>
public sealed class GateProxyConfigProvider(PricingCatalog catalog, IConfiguration configuration, ILogger<GateProxyConfigProvider> logger)
    : IProxyConfigProvider
{
    IProxyConfig? _config;

    public IProxyConfig GetConfig() => _config ??= Build();

    public static string ClusterId(string service) => $"cluster-{service}";

    IProxyConfig Build()
    {
        var routes = catalog.Routes.Select(route => new RouteConfig
        {
            RouteId = route.Id,
            ClusterId = ClusterId(route.Service),
            // Gate endpoints (/api/pricing, /health, /facilitator/...) are literal and win over these templates anyway;
            // a positive order keeps it so should a configured template ever overlap them.
            Order = 100,
            Match = new RouteMatch { Path = route.Path, Methods = route.Method.Length == 0 ? null : [route.Method] },
        }).ToList();

        var clusters = new List<ClusterConfig>();
        foreach (var service in catalog.Routes.Select(r => r.Service).Distinct(StringComparer.Ordinal))
        {
            var destinations = new Dictionary<string, DestinationConfig>(StringComparer.Ordinal);
            // Only configured services: the resolver's pass-through would turn an unconfigured name into a DNS lookup and a 502.
            if (configuration.GetSection($"services:{service}").Exists())
                destinations[service] = new DestinationConfig { Address = $"http://{service}" };
            else
                // The gate still starts (health, pricing, other services); this service's routes answer 503.
                logger.LogWarning("No endpoint for service {Service} (services:{Service}:http:0): its routes answer 503.", service, service);
            clusters.Add(new ClusterConfig { ClusterId = ClusterId(service), Destinations = destinations });
        }
        return new StaticProxyConfig(routes, clusters);
    }

    sealed class StaticProxyConfig(IReadOnlyList<RouteConfig> routes, IReadOnlyList<ClusterConfig> clusters) : IProxyConfig
    {
        public IReadOnlyList<RouteConfig> Routes => routes;
        public IReadOnlyList<ClusterConfig> Clusters => clusters;
        public IChangeToken ChangeToken { get; } = new CancellationChangeToken(CancellationToken.None);
    }
}
