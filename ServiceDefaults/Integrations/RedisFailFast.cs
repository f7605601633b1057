using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;
using StackExchange.Redis;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Aspire's Redis client as the services use it: while Redis is down a request fails at once (the callers answer 503)
/// instead of stalling. The multiplexer connects while the host starts (a cold process on a busy machine may need
/// seconds for that, which no request should wait for or fail on), then keeps reconnecting in the background; commands
/// issued while it is disconnected fail at once instead of waiting in the backlog.
/// </summary>
public static class RedisFailFast
{
    public const int ConnectTimeoutMs = 5000;
    public const int CommandTimeoutMs = 2000;

    /// <summary><c>AddRedisClient(connectionName)</c> with <see cref="Configure"/>, connected at start-up. Every command
    /// stays a span, without the three timing events (enqueued, sent, answered) each one carries by default: on the money path
    /// a request makes several Redis calls and a dashboard stores every event of every span. Aspire's own instrumentation
    /// cannot be told so (its options are internal): it is replaced by the OpenTelemetry package's, unless
    /// <c>Aspire:StackExchange:Redis:DisableTracing</c> turns tracing off.</summary>
    public static IHostApplicationBuilder AddFailFastRedisClient(this IHostApplicationBuilder builder, string connectionName)
    {
        var traced = false;
        builder.AddRedisClient(connectionName, settings =>
        {
            traced = !settings.DisableTracing;
            settings.DisableTracing = true;
        }, Configure);
        if (traced)
            builder.Services.AddOpenTelemetry().WithTracing(tracing =>
                tracing.AddRedisInstrumentation(options => options.EnrichActivityWithTimingEvents = false));
        builder.Services.AddHostedService<ConnectAtStart>();
        return builder;
    }

    public static void Configure(ConfigurationOptions options)
    {
        options.AbortOnConnectFail = false;
        options.ConnectTimeout = ConnectTimeoutMs;
        options.ConnectRetry = 1;
        options.AsyncTimeout = CommandTimeoutMs;
        options.SyncTimeout = CommandTimeoutMs;
        options.BacklogPolicy = BacklogPolicy.FailFast;
    }

    /// <summary>Resolving the multiplexer connects it (synchronously, bounded by the connect timeout; refused at once when down).</summary>
    sealed class ConnectAtStart(IServiceProvider services) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            _ = services.GetRequiredService<IConnectionMultiplexer>();
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
