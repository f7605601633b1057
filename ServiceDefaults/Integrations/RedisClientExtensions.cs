using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Sessions.Redis;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Aspire-shaped Redis integration over the in-house client (<see cref="RedisClient"/>): the same call site as
/// Aspire.StackExchange.Redis' <c>AddRedisClient</c>, registering <see cref="IRedisClient"/> instead of IConnectionMultiplexer.
/// Tracing and metrics need nothing here: ServiceDefaults exports every "Sessions.*" source and meter (<see cref="RedisTelemetry.Name"/>).
/// </summary>
public static class RedisClientExtensions
{
    /// <summary>
    /// Registers a singleton <see cref="IRedisClient"/> for <c>ConnectionStrings:{connectionName}</c> and a health check
    /// named <paramref name="connectionName"/> (PING, tag "ready"). The client connects in the background, so the
    /// application starts even when Redis is down (abortConnect=false semantics, whatever the connection string says).
    /// The connection string is read when the client is first resolved, so test hosts may supply it late; a malformed
    /// one already present at registration fails at once.
    /// </summary>
    /// <exception cref="InvalidOperationException">The connection string is missing (on first resolution) or malformed.</exception>
    public static void AddRedisClient(this IHostApplicationBuilder builder, string connectionName)
    {
        Validate(builder, connectionName);
        builder.Services.AddSingleton<IRedisClient>(services => CreateClient(services, connectionName));
        AddHealthCheck(builder, connectionName, services => services.GetRequiredService<IRedisClient>());
    }

    /// <summary>Like <see cref="AddRedisClient"/>, but registers the client as a keyed service named <paramref name="connectionName"/>.</summary>
    public static void AddKeyedRedisClient(this IHostApplicationBuilder builder, string connectionName)
    {
        Validate(builder, connectionName);
        builder.Services.AddKeyedSingleton<IRedisClient>(connectionName, (services, _) => CreateClient(services, connectionName));
        AddHealthCheck(builder, connectionName, services => services.GetRequiredKeyedService<IRedisClient>(connectionName));
    }

    static void Validate(IHostApplicationBuilder builder, string connectionName)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionName);
        if (!string.IsNullOrWhiteSpace(builder.Configuration.GetConnectionString(connectionName))) ReadOptions(builder.Configuration, connectionName);
    }

    static RedisOptions ReadOptions(IConfiguration configuration, string connectionName)
    {
        var connectionString = configuration.GetConnectionString(connectionName);
        if (string.IsNullOrWhiteSpace(connectionString))
            throw new InvalidOperationException(
                $"Redis connection string 'ConnectionStrings:{connectionName}' is missing. Set it in configuration " +
                $"(environment variable ConnectionStrings__{connectionName}), e.g. \"localhost:6379,password=...\".");
        try
        {
            return RedisOptions.Parse(connectionString);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException)
        {
            throw new InvalidOperationException($"Redis connection string 'ConnectionStrings:{connectionName}' is invalid: {e.Message}", e);
        }
    }

    static RedisClient CreateClient(IServiceProvider services, string connectionName)
    {
        var options = ReadOptions(services.GetRequiredService<IConfiguration>(), connectionName);
        var logger = services.GetService<ILoggerFactory>()?.CreateLogger(RedisTelemetry.Name);
        var client = new RedisClient(options);
        if (logger is not null)
        {
            client.Connected += (_, e) => logger.LogInformation("Redis '{ConnectionName}' connected to {Endpoint}.", connectionName, e.Endpoint);
            client.ConnectionFailed += (_, e) =>
            {
                // One warning per outage; the retries that follow are debug noise.
                var level = e.Kind == RedisConnectionEventKind.ConnectAttemptFailed && e.Attempt > 1 ? LogLevel.Debug : LogLevel.Warning;
                logger.Log(level, e.Exception, "Redis '{ConnectionName}' at {Endpoint}: {Kind} (attempt {Attempt}).", connectionName, e.Endpoint, e.Kind, e.Attempt);
            };
        }
        return client;
    }

    // PING is bounded by the client's command timeout; the registration timeout is only a backstop.
    static void AddHealthCheck(IHostApplicationBuilder builder, string connectionName, Func<IServiceProvider, IRedisClient> resolve) =>
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
            connectionName,
            services => new RedisHealthCheck(resolve(services)),
            failureStatus: null,
            tags: ["ready"],
            timeout: TimeSpan.FromSeconds(10)));
}

/// <summary>Healthy when the server answers PING within the client's command timeout.</summary>
public sealed class RedisHealthCheck(IRedisClient client) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var latency = await client.PingAsync(cancellationToken).ConfigureAwait(false);
            return HealthCheckResult.Healthy($"Redis at {client.Endpoint} answered PING in {latency.TotalMilliseconds:0.#} ms.");
        }
        catch (Exception e) when (e is RedisException or TimeoutException or ObjectDisposedException)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, $"Redis at {client.Endpoint} did not answer PING: {e.Message}", e);
        }
    }
}
