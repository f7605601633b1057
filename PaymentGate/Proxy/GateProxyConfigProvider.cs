using Microsoft.Extensions.Primitives;
using Sessions.PaymentGate.Pricing;
using System.Net;
using Microsoft.Extensions.ServiceDiscovery;
using Yarp.ReverseProxy.Configuration;

namespace Sessions.PaymentGate.Proxy;

/// <summary>
/// YARP routes and clusters built in code from <see cref="PricingCatalog"/> (one route per gate route, same id)
/// and service discovery (Microsoft.Extensions.ServiceDiscovery: one cluster per service, destination = <c>services:&lt;name&gt;:http:0</c>).
/// Built once: the AppHost injects endpoints before start-up. No session affinity: any destination can serve any request.
/// </summary>
public sealed class GateProxyConfigProvider(PricingCatalog catalog, ServiceEndpointResolver resolver, ILogger<GateProxyConfigProvider> logger)
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
            if (Resolve(service) is { } address)
                destinations[service] = new DestinationConfig { Address = address };
            else
                // The gate still starts (health, pricing, other services); this service's routes answer 503.
                logger.LogWarning("No endpoint for service {Service} (services:{Service}:http:0): its routes answer 503.", service, service);
            clusters.Add(new ClusterConfig { ClusterId = ClusterId(service), Destinations = destinations });
        }
        return new StaticProxyConfig(routes, clusters);
    }

    // Resolved once, at start-up (YARP loads the configuration before the first request). A service that is not
    // configured comes back from the pass-through provider as its bare name: that would be a DNS lookup and a 502.
    string? Resolve(string service)
    {
        var source = resolver.GetEndpointsAsync($"http+https://{service}", CancellationToken.None).AsTask().GetAwaiter().GetResult();
        return source.Endpoints.Select(e => e.EndPoint).FirstOrDefault() switch
        {
            UriEndPoint uri => uri.Uri.ToString(),
            DnsEndPoint dns when !string.Equals(dns.Host, service, StringComparison.OrdinalIgnoreCase) => $"http://{dns.Host}:{dns.Port}",
            IPEndPoint ip => $"http://{ip}",
            _ => null,
        };
    }

    sealed class StaticProxyConfig(IReadOnlyList<RouteConfig> routes, IReadOnlyList<ClusterConfig> clusters) : IProxyConfig
    {
        public IReadOnlyList<RouteConfig> Routes => routes;
        public IReadOnlyList<ClusterConfig> Clusters => clusters;
        public IChangeToken ChangeToken { get; } = new CancellationChangeToken(CancellationToken.None);
    }
}
