using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry;
using OpenTelemetry.Trace;
using ServiceDefaults.Tests.Support;
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
    public void The_sessions_wildcard_yarp_and_npgsql_are_subscribed() =>
        Assert.Equal(["Sessions.*", "Yarp.ReverseProxy", "Npgsql"], OpenTelemetryExtensions.OwnSources);

    [Theory]
    [InlineData("/health", true)]
    [InlineData("/alive", true)]
    [InlineData("/HEALTH", true)]
    [InlineData("/health/ready", true)]
    [InlineData("/healthy", false)]
    [InlineData("/api/health", false)]
    [InlineData("", false)]
    public void Probe_paths_are_recognised(string path, bool isProbe) =>
        Assert.Equal(isProbe, OpenTelemetryExtensions.IsHealthProbe(new PathString(path)));

    [Fact]
    public async Task Resource_comes_from_configuration_with_the_application_name_as_fallback()
    {
        var fromSettings = await ResourceAsync(new()
        {
            ["OTEL_SERVICE_NAME"] = "sessionapi",
            ["OTEL_RESOURCE_ATTRIBUTES"] = "service.instance.id=k3j2h1g0,note=a%2Cb",
        });
        Assert.Equal("sessionapi", fromSettings["service.name"]);
        Assert.Equal("k3j2h1g0", fromSettings["service.instance.id"]);
        Assert.Equal("a,b", fromSettings["note"]);
        Assert.Equal("Production", fromSettings["deployment.environment.name"]);

        var fallback = await ResourceAsync([]);
        Assert.Equal("ServiceDefaults.Tests", fallback["service.name"]);
        Assert.Equal("Production", fallback["deployment.environment.name"]);
    }

    // The resource the host's tracer provider really carries (the one every exported span is sent with).
    static async Task<Dictionary<string, object>> ResourceAsync(Dictionary<string, string?> settings)
    {
        await using var app = TestApp.CreateBuilder(settings, environment: "Production").Build();
        return app.Services.GetRequiredService<TracerProvider>().GetResource().Attributes.ToDictionary(a => a.Key, a => a.Value);
    }
}
