using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Internal;
using Sessions.ServiceDefaults.Telemetry;

namespace ServiceDefaults.Tests.Telemetry;

public sealed class TelemetryConventionTests
{
    [Theory]
    [InlineData("SessionApi", "Sessions.SessionApi")]
    [InlineData("Sessions.Redis", "Sessions.Redis")]
    public void Own_sources_are_named_Sessions_dot_component(string component, string expected)
    {
        Assert.Equal(expected, SessionsTelemetry.NameFor(component));
        using var source = SessionsTelemetry.CreateActivitySource(component);
        Assert.Equal(expected, source.Name);
    }

    [Fact]
    public void The_sessions_wildcard_and_the_built_in_sources_are_subscribed()
    {
        Assert.Contains("Sessions.*", OpenTelemetryExtensions.TracingSources);
        Assert.Contains("Sessions.*", OpenTelemetryExtensions.Meters);
        Assert.Superset(new HashSet<string> { "Microsoft.AspNetCore", "System.Net.Http", "Npgsql", "Yarp.ReverseProxy" },
            OpenTelemetryExtensions.TracingSources.ToHashSet());
        Assert.Superset(new HashSet<string> { "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "Microsoft.AspNetCore.Routing",
            "Microsoft.AspNetCore.Diagnostics", "System.Net.Http", "System.Runtime", "Npgsql" }, OpenTelemetryExtensions.Meters.ToHashSet());
    }

    [Theory]
    [InlineData("/health", true)]
    [InlineData("/alive", true)]
    [InlineData("/HEALTH", true)]
    [InlineData("/health/ready", true)]
    [InlineData("/healthy", false)]
    [InlineData("/api/health", false)]
    [InlineData(null, false)]
    public void Probe_paths_are_recognised(string? path, bool isProbe) =>
        Assert.Equal(isProbe, HealthProbeTraceFilter.IsProbePath(path));

    [Fact]
    public void Resource_comes_from_configuration_with_the_application_name_as_fallback()
    {
        var environment = new HostingEnvironment { ApplicationName = "SessionApi", EnvironmentName = "Production" };

        var fromSettings = Detect(environment, new()
        {
            ["OTEL_SERVICE_NAME"] = "sessionapi",
            ["OTEL_RESOURCE_ATTRIBUTES"] = "service.instance.id=k3j2h1g0,note=a%2Cb",
        });
        Assert.Equal("sessionapi", fromSettings["service.name"]);
        Assert.Equal("k3j2h1g0", fromSettings["service.instance.id"]);
        Assert.Equal("a,b", fromSettings["note"]);
        Assert.Equal("Production", fromSettings["deployment.environment.name"]);

        Assert.Equal("SessionApi", Detect(environment, [])["service.name"]);
    }

    static Dictionary<string, object> Detect(IHostEnvironment environment, Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        return new ConfigurationResourceDetector(configuration, environment).Detect().Attributes.ToDictionary(a => a.Key, a => a.Value);
    }
}
