using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Aspire's Redis client as the services use it: while Redis is down a request fails at once (the callers answer 503)
/// instead of stalling. The multiplexer connects while the host starts (a cold process on a busy machine may need
/// seconds for that, which no request should wait for or fail on), then keeps reconnecting in the background; commands
/// issued while it is disconnected fail at once instead of waiting in the backlog. Replies are read and completed on
/// the .NET thread pool (<see cref="SocketManager.ThreadPool"/>) rather than the library's own ten dedicated threads:
/// every caller here is async, so there is no starvation for those threads to guard against, and on a small machine
/// their idle spinning cost the gate about 60 µs of CPU per session request (docs/benchmarks.md, "ninth look").
/// </summary>
public static class RedisFailFast
{
    public const int ConnectTimeoutMs = 5000;
    public const int CommandTimeoutMs = 2000;

    /// <summary><c>AddRedisClient(connectionName)</c> with <see cref="Configure"/>, connected at start-up.</summary>
    public static IHostApplicationBuilder AddFailFastRedisClient(this IHostApplicationBuilder builder, string connectionName)
    {
        builder.AddRedisClient(connectionName, configureOptions: Configure);
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
        options.SocketManager = SocketManager.ThreadPool;   // see the class
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
