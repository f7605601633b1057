using StackExchange.Redis;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// For Aspire's <c>AddRedisClient(name, configureOptions: RedisFailFast.Configure)</c>: while Redis is down a request
/// fails within about a second (the callers answer 503) instead of stalling. The first resolution of the multiplexer
/// connects synchronously for at most <see cref="ConnectTimeoutMs"/> and then keeps reconnecting in the background;
/// commands issued while disconnected fail at once instead of waiting in the backlog.
/// </summary>
public static class RedisFailFast
{
    public const int ConnectTimeoutMs = 1000;
    public const int CommandTimeoutMs = 2000;

    public static void Configure(ConfigurationOptions options)
    {
        options.AbortOnConnectFail = false;
        options.ConnectTimeout = ConnectTimeoutMs;
        options.ConnectRetry = 1;
        options.AsyncTimeout = CommandTimeoutMs;
        options.SyncTimeout = CommandTimeoutMs;
        options.BacklogPolicy = BacklogPolicy.FailFast;
    }
}
