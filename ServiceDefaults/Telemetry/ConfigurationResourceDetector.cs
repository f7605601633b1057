using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Resources;

namespace Sessions.ServiceDefaults.Telemetry;

/// <summary>
/// The resource from configuration rather than only environment variables, so tests can set
/// <c>OTEL_SERVICE_NAME</c> / <c>OTEL_RESOURCE_ATTRIBUTES</c> as settings. Without a service name
/// (a service started outside the AppHost) the application name is used, never <c>unknown_service</c>.
/// </summary>
internal sealed class ConfigurationResourceDetector(IConfiguration configuration, IHostEnvironment environment) : IResourceDetector
{
    public Resource Detect()
    {
        var attributes = ParseResourceAttributes(configuration["OTEL_RESOURCE_ATTRIBUTES"]);
        var serviceName = configuration["OTEL_SERVICE_NAME"];
        if (!string.IsNullOrWhiteSpace(serviceName))
            attributes["service.name"] = serviceName;
        else
            attributes.TryAdd("service.name", environment.ApplicationName);
        attributes.TryAdd("deployment.environment.name", environment.EnvironmentName);
        return new Resource(attributes);
    }

    /// <summary>The service name the telemetry will carry (same rule as <see cref="Detect"/>).</summary>
    public static string ServiceName(IConfiguration configuration, IHostEnvironment environment)
    {
        var serviceName = configuration["OTEL_SERVICE_NAME"];
        if (!string.IsNullOrWhiteSpace(serviceName))
            return serviceName;
        return ParseResourceAttributes(configuration["OTEL_RESOURCE_ATTRIBUTES"]).TryGetValue("service.name", out var fromAttributes)
            ? (string)fromAttributes
            : environment.ApplicationName;
    }

    // OTEL_RESOURCE_ATTRIBUTES: "key1=value1,key2=value2", values percent-encoded (W3C baggage format).
    internal static Dictionary<string, object> ParseResourceAttributes(string? value)
    {
        var attributes = new Dictionary<string, object>(StringComparer.Ordinal);
        if (string.IsNullOrWhiteSpace(value))
            return attributes;
        foreach (var pair in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var separator = pair.IndexOf('=');
            if (separator <= 0)
                continue;
            var key = pair[..separator].Trim();
            attributes[key] = Uri.UnescapeDataString(pair[(separator + 1)..].Trim());
        }
        return attributes;
    }
}
