using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Sessions.Hosting.ApplicationModel;
using Sessions.Hosting.Orchestration;

namespace Sessions.Hosting;

/// <summary>The <c>With*</c> and <c>WaitFor*</c> methods of Aspire's app model.</summary>
public static class ResourceBuilderExtensions
{
    /// <summary>
    /// Injects <c>ConnectionStrings__{name}</c> and the connection properties (<c>{NAME}_HOST</c>, <c>_PORT</c>,
    /// <c>_PASSWORD</c>, <c>_URI</c>...). Only injects: add <c>WaitFor</c> to wait until it is healthy.
    /// </summary>
    public static IResourceBuilder<T> WithReference<T>(this IResourceBuilder<T> builder, IResourceBuilder<IResourceWithConnectionString> source, string? connectionName = null)
        where T : IResourceWithEnvironment
    {
        var resource = source.Resource;
        connectionName ??= resource.Name;
        var prefix = ResourceExtensions.ToEnvironmentPrefix(connectionName);
        builder.WithAnnotation(new ResourceRelationshipAnnotation(resource, "Reference"));
        return builder.WithEnvironment(context =>
        {
            context.EnvironmentVariables[$"ConnectionStrings__{connectionName}"] = resource;
            foreach (var (key, value) in resource.GetConnectionProperties())
                context.EnvironmentVariables[$"{prefix}_{key.ToUpperInvariant()}"] = value;
        });
    }

    /// <summary>Injects <c>services__{name}__{endpoint}__0</c> and <c>{NAME}_{ENDPOINT}</c> for every endpoint.</summary>
    public static IResourceBuilder<T> WithReference<T>(this IResourceBuilder<T> builder, IResourceBuilder<IResourceWithServiceDiscovery> source)
        where T : IResourceWithEnvironment
    {
        var resource = source.Resource;
        builder.WithAnnotation(new ResourceRelationshipAnnotation(resource, "Reference"));
        return builder.WithEnvironment(context =>
        {
            foreach (var endpoint in resource.GetEndpointAnnotations())
            {
                var reference = new EndpointReference(resource, endpoint.Name);
                context.EnvironmentVariables[$"services__{resource.Name}__{endpoint.Name}__0"] = reference;
                context.EnvironmentVariables[$"{ResourceExtensions.ToEnvironmentPrefix(resource.Name)}_{endpoint.Name.ToUpperInvariant()}"] = reference;
            }
        });
    }

    /// <summary>Start only once <paramref name="dependency"/> is Running and Healthy (and its parent, for a database).</summary>
    public static IResourceBuilder<T> WaitFor<T>(this IResourceBuilder<T> builder, IResourceBuilder<IResource> dependency)
        where T : IResourceWithWaitSupport
        => builder.AddWait(dependency.Resource, WaitType.WaitUntilHealthy);

    /// <summary>Start only once <paramref name="dependency"/> is Running, healthy or not.</summary>
    public static IResourceBuilder<T> WaitForStart<T>(this IResourceBuilder<T> builder, IResourceBuilder<IResource> dependency)
        where T : IResourceWithWaitSupport
        => builder.AddWait(dependency.Resource, WaitType.WaitUntilStarted);

    static IResourceBuilder<T> AddWait<T>(this IResourceBuilder<T> builder, IResource dependency, WaitType waitType) where T : IResource
    {
        if (ReferenceEquals(builder.Resource, dependency))
            throw new DistributedApplicationException($"The '{dependency.Name}' resource cannot wait for itself.");
        if (dependency is ParameterResource)
            throw new DistributedApplicationException($"Parameter '{dependency.Name}' cannot be waited for.");
        if (dependency is IResourceWithParent child)
            builder.AddWait(child.Parent, waitType);
        if (!builder.Resource.OfAnnotation<WaitAnnotation>().Any(w => ReferenceEquals(w.Resource, dependency) && w.WaitType == waitType))
            builder.WithAnnotation(new WaitAnnotation(dependency, waitType));
        return builder;
    }

    public static IResourceBuilder<T> WithEnvironment<T>(this IResourceBuilder<T> builder, string name, string? value) where T : IResourceWithEnvironment
        => builder.WithEnvironment(context => context.EnvironmentVariables[name] = value ?? "");

    public static IResourceBuilder<T> WithEnvironment<T>(this IResourceBuilder<T> builder, string name, IResourceBuilder<ParameterResource> parameter) where T : IResourceWithEnvironment
        => builder.WithEnvironment(context => context.EnvironmentVariables[name] = parameter.Resource);

    public static IResourceBuilder<T> WithEnvironment<T>(this IResourceBuilder<T> builder, string name, ReferenceExpression value) where T : IResourceWithEnvironment
        => builder.WithEnvironment(context => context.EnvironmentVariables[name] = value);

    public static IResourceBuilder<T> WithEnvironment<T>(this IResourceBuilder<T> builder, string name, EndpointReference endpoint) where T : IResourceWithEnvironment
        => builder.WithEnvironment(context => context.EnvironmentVariables[name] = endpoint);

    public static IResourceBuilder<T> WithEnvironment<T>(this IResourceBuilder<T> builder, Action<EnvironmentCallbackContext> callback) where T : IResourceWithEnvironment
        => builder.WithAnnotation(new EnvironmentCallbackAnnotation(callback));

    public static IResourceBuilder<T> WithEnvironment<T>(this IResourceBuilder<T> builder, Func<EnvironmentCallbackContext, Task> callback) where T : IResourceWithEnvironment
        => builder.WithAnnotation(new EnvironmentCallbackAnnotation(callback));

    public static IResourceBuilder<T> WithArgs<T>(this IResourceBuilder<T> builder, params string[] args) where T : IResourceWithArgs
        => builder.WithAnnotation(new CommandLineArgsCallbackAnnotation(context => { context.Args.AddRange(args); return Task.CompletedTask; }));

    public static IResourceBuilder<T> WithHttpEndpoint<T>(this IResourceBuilder<T> builder, int? port = null, int? targetPort = null, string? name = null, string? env = null, bool isProxied = true)
        where T : IResourceWithEndpoints
        => builder.WithEndpoint(port, targetPort, "http", name, env, isProxied);

    public static IResourceBuilder<T> WithEndpoint<T>(this IResourceBuilder<T> builder, int? port = null, int? targetPort = null, string? scheme = null, string? name = null, string? env = null, bool isProxied = true)
        where T : IResourceWithEndpoints
    {
        scheme ??= "tcp";
        name ??= scheme;
        if (builder.Resource.GetEndpointAnnotations().Any(e => e.Name == name))
            throw new DistributedApplicationException(
                $"Endpoint with name '{name}' already exists. Endpoint name may not have been explicitly specified and was derived automatically from scheme argument (e.g. `WithHttpEndpoint()`). Each endpoint must have a unique name.");
        return builder.WithAnnotation(new EndpointAnnotation(name, scheme, scheme is "http" or "https" ? "http" : "tcp", port, targetPort)
        {
            IsProxied = isProxied,
            TargetPortEnvironmentVariable = env,
        });
    }

    /// <summary>Changes an endpoint (e.g. the one a launch profile created), creating it if asked.</summary>
    public static IResourceBuilder<T> WithEndpoint<T>(this IResourceBuilder<T> builder, string endpointName, Action<EndpointAnnotation> callback, bool createIfNotExists = true)
        where T : IResourceWithEndpoints
    {
        var endpoint = builder.Resource.GetEndpointAnnotations().SingleOrDefault(e => e.Name == endpointName);
        if (endpoint is null)
        {
            if (!createIfNotExists) return builder;
            endpoint = new EndpointAnnotation(endpointName, "tcp", "tcp");
            builder.WithAnnotation(endpoint);
        }
        callback(endpoint);
        return builder;
    }

    /// <summary>Marks the HTTP endpoints as the way in from outside (printed prominently when the stack is up).</summary>
    public static IResourceBuilder<T> WithExternalHttpEndpoints<T>(this IResourceBuilder<T> builder) where T : IResourceWithEndpoints
    {
        foreach (var endpoint in builder.Resource.GetEndpointAnnotations().Where(e => e.UriScheme is "http" or "https"))
            endpoint.IsExternal = true;
        return builder;
    }

    /// <summary>Healthy when GET <paramref name="path"/> on the endpoint answers <paramref name="statusCode"/> (200).</summary>
    public static IResourceBuilder<T> WithHttpHealthCheck<T>(this IResourceBuilder<T> builder, string? path = null, int? statusCode = null, string? endpointName = null)
        where T : IResourceWithEndpoints
    {
        endpointName ??= builder.Resource.GetEndpointAnnotations().FirstOrDefault(e => e.UriScheme is "http" or "https")?.Name ?? "http";
        var endpoint = new EndpointReference(builder.Resource, endpointName);
        var expected = statusCode ?? 200;
        var key = $"{builder.Resource.Name}_{endpointName}_{path}_{expected}_check";
        builder.ApplicationBuilder.Services.AddHealthChecks().Add(new HealthCheckRegistration(key,
            _ => new HttpHealthCheck(() => new Uri(new Uri(endpoint.Url), path ?? "/"), expected), failureStatus: null, tags: null));
        return builder.WithHealthCheck(key);
    }

    /// <summary>Uses a health check registered with <c>builder.Services.AddHealthChecks().Add...(key, ...)</c>.</summary>
    public static IResourceBuilder<T> WithHealthCheck<T>(this IResourceBuilder<T> builder, string key) where T : IResource
        => builder.WithAnnotation(new HealthCheckAnnotation(key));

    /// <summary>Keeps the server's data in the state folder across runs, like a container data volume.</summary>
    public static IResourceBuilder<T> WithDataVolume<T>(this IResourceBuilder<T> builder, string? name = null) where T : ContainerResource
    {
        var target = builder.Resource is IContainerDataTarget data ? data.DataTargetPath : "/data";
        return builder.WithAnnotation(new DataVolumeAnnotation(name ?? $"{builder.Resource.Name}-data", target));
    }

    internal static void AddHealthCheck(this IDistributedApplicationBuilder builder, string key, Func<IServiceProvider, IHealthCheck> factory)
        => builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(key, factory, failureStatus: null, tags: null));
}

/// <summary>Where a container-shaped resource keeps its data inside the image (for the manifest).</summary>
public interface IContainerDataTarget
{
    string DataTargetPath { get; }
}
