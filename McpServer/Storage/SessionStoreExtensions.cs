using Sessions.McpServer.Storage;

namespace Microsoft.Extensions.Hosting;

public static class SessionStoreExtensions
{
    /// <summary>
    /// The payer-scoped <see cref="ISessionStore"/> on the <c>redis</c> connection. A singleton: the payer is read
    /// from <see cref="IPayerContextAccessor"/> on every call, never captured.
    /// </summary>
    public static TBuilder AddSessionStore<TBuilder>(this TBuilder builder, string redisConnectionName = "redis") where TBuilder : IHostApplicationBuilder
    {
        builder.AddRedisClient(redisConnectionName);
        builder.Services.AddSingleton<ISessionStore, RedisSessionStore>();
        return builder;
    }
}
