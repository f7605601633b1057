using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Sessions.ServiceDefaults.Telemetry;

namespace Microsoft.Extensions.Hosting;

public static class OpenTelemetryExtensions
{
    /// <summary>Built-in ActivitySources traced (no instrumentation packages restore here).</summary>
    public static readonly IReadOnlyList<string> TracingSources =
        ["Microsoft.AspNetCore", "System.Net.Http", "Npgsql", "Yarp.ReverseProxy", SessionsTelemetry.AllSources];

    /// <summary>Built-in Meters collected.</summary>
    public static readonly IReadOnlyList<string> Meters =
    [
        "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "Microsoft.AspNetCore.Routing",
        "Microsoft.AspNetCore.Diagnostics", "Microsoft.AspNetCore.RateLimiting", "System.Net.Http", "System.Runtime",
        "Npgsql", SessionsTelemetry.AllSources,
    ];

    /// <summary>
    /// Logs, traces and metrics on the plain OpenTelemetry SDK, with the providers in the host's container.
    /// OTLP export is on only when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is configured; the endpoint, protocol,
    /// service name, resource attributes and batch delays are read from configuration (environment variables
    /// or settings).
    /// </summary>
    public static TBuilder ConfigureOpenTelemetry<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        // .NET 10 leaves the HTTP semantic-convention tags off the server span unless asked.
        AppContext.SetSwitch("Microsoft.AspNetCore.Hosting.SuppressActivityOpenTelemetryData", false);

        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });

        var serviceName = ConfigurationResourceDetector.ServiceName(builder.Configuration, builder.Environment);
        var openTelemetry = new OpenTelemetryServicesBuilder(builder.Services)
            .ConfigureResource(resource => resource.AddDetector(services => new ConfigurationResourceDetector(
                services.GetRequiredService<IConfiguration>(), services.GetRequiredService<IHostEnvironment>())))
            .WithTracing(tracing => tracing
                // Added before any exporter so the exporters see the cleared Recorded flag.
                .AddProcessor(new HealthProbeTraceFilter())
                .AddSource([.. TracingSources, serviceName, builder.Environment.ApplicationName]))
            .WithMetrics(metrics => metrics
                .AddMeter([.. Meters, serviceName, builder.Environment.ApplicationName]));

        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
            openTelemetry.UseOtlpExporter();

        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, TelemetryHostedService>());
        builder.Services.TryAddEnumerable(ServiceDescriptor.Transient<IStartupFilter, HttpServerSpanEnricher>());
        return builder;
    }
}
