namespace Sessions.Hosting.ApplicationModel;

/// <summary>
/// Adds environment variables when the resource starts (run mode) or when the manifest is written (publish
/// mode). Values are strings or value providers (<see cref="ReferenceExpression"/>, endpoints, parameters).
/// </summary>
public sealed class EnvironmentCallbackAnnotation(Func<EnvironmentCallbackContext, Task> callback) : IResourceAnnotation
{
    public EnvironmentCallbackAnnotation(Action<EnvironmentCallbackContext> callback)
        : this(context => { callback(context); return Task.CompletedTask; })
    {
    }

    public Func<EnvironmentCallbackContext, Task> Callback { get; } = callback;
}

public sealed class EnvironmentCallbackContext(
    DistributedApplicationExecutionContext executionContext,
    IResource resource,
    Dictionary<string, object> environmentVariables,
    CancellationToken cancellationToken = default)
{
    public DistributedApplicationExecutionContext ExecutionContext { get; } = executionContext;
    public IResource Resource { get; } = resource;
    public Dictionary<string, object> EnvironmentVariables { get; } = environmentVariables;
    public CancellationToken CancellationToken { get; } = cancellationToken;
}

/// <summary>Adds command line arguments (strings or value providers).</summary>
public sealed class CommandLineArgsCallbackAnnotation(Func<CommandLineArgsCallbackContext, Task> callback) : IResourceAnnotation
{
    public Func<CommandLineArgsCallbackContext, Task> Callback { get; } = callback;
}

public sealed class CommandLineArgsCallbackContext(List<object> args, DistributedApplicationExecutionContext executionContext)
{
    public List<object> Args { get; } = args;
    public DistributedApplicationExecutionContext ExecutionContext { get; } = executionContext;
}

public enum WaitType
{
    /// <summary>Wait until the dependency is Running and all its health checks are Healthy (<c>WaitFor</c>).</summary>
    WaitUntilHealthy,
    /// <summary>Wait until the dependency is Running (<c>WaitForStart</c>).</summary>
    WaitUntilStarted,
}

public sealed class WaitAnnotation(IResource resource, WaitType waitType) : IResourceAnnotation
{
    public IResource Resource { get; } = resource;
    public WaitType WaitType { get; } = waitType;
}

/// <summary>A health check registered under <see cref="Key"/> (see <c>WithHealthCheck</c>).</summary>
public sealed class HealthCheckAnnotation(string key) : IResourceAnnotation
{
    public string Key { get; } = key;
}

/// <summary>A "uses" edge (from <c>WithReference</c>): the resource is stopped before what it references.</summary>
public sealed class ResourceRelationshipAnnotation(IResource resource, string type) : IResourceAnnotation
{
    public IResource Resource { get; } = resource;
    public string Type { get; } = type;
}

/// <summary>The image a container-shaped resource is published as.</summary>
public sealed class ContainerImageAnnotation(string image, string tag, string registry = "docker.io") : IResourceAnnotation
{
    public string Registry { get; } = registry;
    public string Image { get; } = image;
    public string Tag { get; } = tag;
    public string FullName => $"{Registry}/{Image}:{Tag}";
}

/// <summary>
/// A named data volume: in run mode the server's data lives in <c>&lt;state folder&gt;/&lt;name&gt;</c> and is kept
/// across runs (until <c>--reset-state</c>); without it the data is thrown away when the server stops.
/// </summary>
public sealed class DataVolumeAnnotation(string name, string target) : IResourceAnnotation
{
    public string Name { get; } = name;
    /// <summary>Mount path inside the container (manifest).</summary>
    public string Target { get; } = target;
}

/// <summary>Arguments for the container entry point in the manifest (the local executable has its own).</summary>
public sealed class ContainerEntrypointAnnotation(string entrypoint, IReadOnlyList<string> args) : IResourceAnnotation
{
    public string Entrypoint { get; } = entrypoint;
    public IReadOnlyList<string> Args { get; } = args;
}
