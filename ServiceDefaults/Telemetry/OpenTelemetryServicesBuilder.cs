using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;

namespace Sessions.ServiceDefaults.Telemetry;

// What OpenTelemetry.Extensions.Hosting's AddOpenTelemetry() returns: the SDK's WithTracing/WithMetrics/
// WithLogging/UseOtlpExporter only need the service collection; the providers live in the host's container.
internal sealed class OpenTelemetryServicesBuilder(IServiceCollection services) : IOpenTelemetryBuilder
{
    public IServiceCollection Services { get; } = services;
}
