using System.Net;
using Microsoft.Extensions.Configuration;

namespace Sessions.ServiceDefaults.ServiceDiscovery;

/// <summary>
/// Resolves a service name to the endpoint an Aspire AppHost injects: configuration key
/// <c>services:&lt;name&gt;:&lt;scheme&gt;:0</c> (environment variable <c>services__&lt;name&gt;__&lt;scheme&gt;__0</c>).
/// Schemes follow Aspire: <c>http</c> and <c>https</c> take only that scheme's endpoint, <c>https+http</c>
/// prefers https and falls back to http (<c>http+https</c> the reverse).
/// </summary>
public sealed class ServiceEndpointResolver(IConfiguration configuration)
{
    public const string PreferHttps = "https+http";

    /// <summary>The base address of <paramref name="serviceName"/>, or a clear error naming the expected key.</summary>
    public Uri Resolve(string serviceName, string scheme = PreferHttps) =>
        TryResolve(serviceName, scheme, out var endpoint) ? endpoint : throw NotConfigured(serviceName, scheme);

    public bool TryResolve(string serviceName, string scheme, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Uri? endpoint)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(serviceName);
        foreach (var candidate in CandidateSchemes(scheme))
        {
            var value = configuration[Key(serviceName, candidate)];
            if (string.IsNullOrWhiteSpace(value))
                continue;
            // Aspire writes absolute URLs; accept "host:port" too.
            endpoint = Uri.TryCreate(value, UriKind.Absolute, out var absolute) && absolute.Scheme is "http" or "https"
                ? absolute
                : new Uri($"{candidate}://{value}");
            return true;
        }
        endpoint = null;
        return false;
    }

    /// <summary>
    /// Rewrites <c>http://sessionapi/api/x</c> to the resolved endpoint, keeping path and query. Addresses that
    /// are not service names (IP addresses, <c>localhost</c>, names with a dot) are returned unchanged.
    /// </summary>
    public Uri ResolveRequestUri(Uri requestUri)
    {
        ArgumentNullException.ThrowIfNull(requestUri);
        if (!requestUri.IsAbsoluteUri || !IsServiceName(requestUri))
            return requestUri;
        var endpoint = Resolve(requestUri.Host, requestUri.Scheme);
        return new UriBuilder(requestUri)
        {
            Scheme = endpoint.Scheme,
            Host = endpoint.Host,
            Port = endpoint.Port,
        }.Uri;
    }

    /// <summary>True when the URI names a service rather than a network address.</summary>
    public static bool IsServiceName(Uri uri) =>
        uri.Scheme.Contains('+')
        || (uri.HostNameType == UriHostNameType.Dns
            && !uri.Host.Contains('.')
            && !string.Equals(uri.Host, "localhost", StringComparison.OrdinalIgnoreCase)
            && !IPAddress.TryParse(uri.Host, out _));

    public static string Key(string serviceName, string scheme) => $"services:{serviceName}:{scheme}:0";

    static string[] CandidateSchemes(string scheme) => scheme.ToLowerInvariant() switch
    {
        "http" => ["http"],
        "https" => ["https"],
        "https+http" => ["https", "http"],
        "http+https" => ["http", "https"],
        _ => throw new ArgumentException($"Unsupported service discovery scheme '{scheme}': use http, https, https+http or http+https.", nameof(scheme)),
    };

    static InvalidOperationException NotConfigured(string serviceName, string scheme)
    {
        var keys = CandidateSchemes(scheme).Select(s => $"'{Key(serviceName, s)}' (environment variable services__{serviceName}__{s}__0)");
        return new InvalidOperationException(
            $"No endpoint is configured for service '{serviceName}' (scheme {scheme}). Expected configuration key " +
            $"{string.Join(" or ", keys)}, which an AppHost sets with WithReference.");
    }
}
