using Sessions.Hosting.ApplicationModel;
using Sessions.Hosting.Orchestration;

namespace Sessions.Hosting;

public static class RedisBuilderExtensions
{
    /// <summary>
    /// Adds a Redis server with a generated, persisted password (<c>{name}-password</c>), health-checked with PING.
    /// <paramref name="port"/> pins the port; otherwise a free one is chosen each run.
    /// </summary>
    public static IResourceBuilder<RedisResource> AddRedis(this IDistributedApplicationBuilder builder, string name, int? port = null, IResourceBuilder<ParameterResource>? password = null)
    {
        var passwordParameter = password ?? builder.AddDefaultPasswordParameter($"{name}-password");
        var redis = new RedisResource(name, passwordParameter.Resource);
        var healthCheckKey = $"{name}_check";
        builder.AddHealthCheck(healthCheckKey, _ => new RedisPingHealthCheck(redis));

        return builder.AddResource(redis)
            .WithEndpoint(port: port, targetPort: 6379, name: RedisResource.PrimaryEndpointName)
            .WithAnnotation(new ContainerImageAnnotation("library/redis", "8.2"))
            .WithAnnotation(new ContainerEntrypointAnnotation("/bin/sh", ["-c", "redis-server --requirepass $REDIS_PASSWORD"]))
            .WithEnvironment("REDIS_PASSWORD", passwordParameter)
            .WithHealthCheck(healthCheckKey);
    }
}
