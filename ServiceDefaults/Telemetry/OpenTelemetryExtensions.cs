using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Sessions.ServiceDefaults.Telemetry;

namespace Microsoft.Extensions.Hosting;

public static class OpenTelemetryExtensions
{
    /// <summary>Sources and meters traced besides the instrumentation packages' own: ours, YARP's and Npgsql's.</summary>
    public static readonly IReadOnlyList<string> OwnSources = [SessionsTelemetry.AllSources, "Yarp.ReverseProxy", "Npgsql"];

    /// <summary>
    /// The Aspire ServiceDefaults telemetry: logs, traces and metrics with the ASP.NET Core, HttpClient and runtime
    /// instrumentation. OTLP export is on only when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is configured; the SDK reads the
    /// <c>OTEL_*</c> settings (endpoint, protocol, service name, resource attributes, batch delays) from configuration.
    /// </summary>
    public static TBuilder ConfigureOpenTelemetry<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });

        var openTelemetry = builder.Services.AddOpenTelemetry()
            // A service started outside the AppHost is named after its application, never unknown_service;
            // OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES (detected last) override both attributes.
            .ConfigureResource(resource => resource.Clear()
                .AddService(builder.Environment.ApplicationName, autoGenerateServiceInstanceId: false)
                .AddAttributes([new("deployment.environment.name", builder.Environment.EnvironmentName)])
                .AddTelemetrySdk()
                .AddEnvironmentVariableDetector())
            .WithTracing(tracing => tracing
                // A filtered-out request is not recorded, so neither are its children (the database check's query).
                .AddAspNetCoreInstrumentation(aspNetCore => aspNetCore.Filter = context => !IsHealthProbe(context.Request.Path))
                .AddHttpClientInstrumentation()
                .AddSource([.. OwnSources, builder.Environment.ApplicationName]))
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddMeter([.. OwnSources, builder.Environment.ApplicationName]));

        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
            openTelemetry.UseOtlpExporter();
        return builder;
    }

    /// <summary><c>/health</c> and <c>/alive</c> (and below): the AppHost polls them every few seconds.</summary>
    internal static bool IsHealthProbe(PathString path) =>
        path.StartsWithSegments(Extensions.HealthEndpointPath, StringComparison.OrdinalIgnoreCase)
        || path.StartsWithSegments(Extensions.AlivenessEndpointPath, StringComparison.OrdinalIgnoreCase);
}
