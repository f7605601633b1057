using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Http.Resilience;
using Sessions.ServiceDefaults.Health;

namespace Microsoft.Extensions.Hosting;

// Aspire's ServiceDefaults shape: the namespace makes AddServiceDefaults visible without a using.
public static class Extensions
{
    public const string HealthEndpointPath = "/health";
    public const string AlivenessEndpointPath = "/alive";
    public const string LiveTag = "live";

    /// <summary>Configuration section bound onto every client's standard resilience handler (keys as HttpStandardResilienceOptions).</summary>
    public const string ResilienceSection = "HttpClientResilience";

    /// <summary>
    /// Telemetry, health checks, service discovery, standard resilience for every HttpClient and
    /// RFC 9457 problem details for every error response.
    /// </summary>
    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.ConfigureOpenTelemetry();
        builder.AddDefaultHealthChecks();
        builder.AddDefaultProblemDetails();
        builder.AddPayerContext();

        // Aspire's keys services:<name>:<scheme>:0; other hosts (IP addresses, real DNS names) pass through unchanged.
        builder.Services.AddServiceDiscovery();
        builder.Services.ConfigureHttpClientDefaults(http =>
        {
            // Resilience outside discovery: every retry resolves the endpoint again. Money-moving POSTs (settle, debit)
            // are never retried blindly: only the safe methods GET, HEAD, OPTIONS and TRACE are.
            http.AddStandardResilienceHandler(options =>
            {
                builder.Configuration.GetSection(ResilienceSection).Bind(options);
                options.Retry.DisableForUnsafeHttpMethods();
            });
            http.AddServiceDiscovery();
        });

        return builder;
    }

    public static TBuilder AddDefaultHealthChecks<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        // "self" only says the process answers; dependencies add their own checks (tagged "ready").
        builder.Services.AddHealthChecks().AddCheck("self", () => HealthCheckResult.Healthy(), [LiveTag]);
        return builder;
    }

    /// <summary>
    /// <c>/health</c>: every check (the AppHost's readiness probe); <c>/alive</c>: the <c>live</c> checks only.
    /// Both answer 200/503 with a JSON report: each check's status and description, or with <paramref name="withChecks"/>
    /// false (a service reachable from outside) <c>{"status"}</c> alone, so outsiders learn nothing about the inside.
    /// </summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app, bool withChecks = true)
    {
        // Mapped in every environment: the AppHost probes /health in run and publish mode (it reads the status code only).
        var writer = withChecks ? HealthReportJsonWriter.WriteAsync : (Func<HttpContext, HealthReport, Task>)HealthReportJsonWriter.WriteStatusAsync;
        app.MapHealthChecks(HealthEndpointPath, new HealthCheckOptions
        {
            ResponseWriter = writer,
        });
        app.MapHealthChecks(AlivenessEndpointPath, new HealthCheckOptions
        {
            Predicate = registration => registration.Tags.Contains(LiveTag),
            ResponseWriter = writer,
        });
        return app;
    }
}
