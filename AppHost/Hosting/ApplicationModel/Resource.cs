using System.Collections.ObjectModel;
using System.Text.RegularExpressions;

namespace Sessions.Hosting.ApplicationModel;

/// <summary>Metadata attached to a resource (endpoints, environment callbacks, waits, health checks...).</summary>
public interface IResourceAnnotation;

public sealed class ResourceAnnotationCollection : Collection<IResourceAnnotation>;

/// <summary>Something the AppHost models: a server, a database, a project, a parameter.</summary>
public interface IResource
{
    string Name { get; }
    ResourceAnnotationCollection Annotations { get; }
}

public interface IResourceWithEnvironment : IResource;

public interface IResourceWithArgs : IResource;

public interface IResourceWithEndpoints : IResource;

/// <summary>A resource others can reference by URL (<c>services__name__http__0</c>).</summary>
public interface IResourceWithServiceDiscovery : IResourceWithEndpoints;

/// <summary>A resource others can <c>WaitFor</c>.</summary>
public interface IResourceWithWaitSupport : IResource;

public interface IResourceWithParent : IResource
{
    IResource Parent { get; }
}

public interface IResourceWithParent<out T> : IResourceWithParent where T : IResource
{
    new T Parent { get; }
    IResource IResourceWithParent.Parent => Parent;
}

/// <summary>A resource others reference through <c>ConnectionStrings__name</c> and <c>NAME_*</c> properties.</summary>
public interface IResourceWithConnectionString : IResource, IManifestExpressionProvider, IValueProvider, IValueWithReferences
{
    ReferenceExpression ConnectionStringExpression { get; }

    /// <summary>Aspire 13's connection properties: each becomes <c>{NAME}_{KEY}</c> in a referencing resource.</summary>
    IEnumerable<KeyValuePair<string, ReferenceExpression>> GetConnectionProperties() => [];

    ValueTask<string?> GetConnectionStringAsync(CancellationToken cancellationToken = default)
        => ConnectionStringExpression.GetValueAsync(cancellationToken);

    string IManifestExpressionProvider.ValueExpression => $"{{{Name}.connectionString}}";

    ValueTask<string?> IValueProvider.GetValueAsync(CancellationToken cancellationToken) => GetConnectionStringAsync(cancellationToken);

    IEnumerable<object> IValueWithReferences.References => [ConnectionStringExpression];
}

public abstract partial class Resource : IResource
{
    protected Resource(string name)
    {
        // Aspire's rule: it ends up in env var names, DNS names and manifest keys.
        if (!ValidName().IsMatch(name) || name.Contains("--"))
            throw new ArgumentException($"Resource name '{name}' is invalid: use 1-64 ASCII letters, digits and single hyphens, starting with a letter.", nameof(name));
        Name = name;
    }

    public string Name { get; }
    public ResourceAnnotationCollection Annotations { get; } = [];

    public override string ToString() => Name;

    [GeneratedRegex("^[a-zA-Z][a-zA-Z0-9-]{0,63}$")]
    private static partial Regex ValidName();
}

/// <summary>
/// A resource that is deployed as a container image (see the manifest). In run mode there is no container
/// engine here, so the same server runs as a local executable with its data under the state folder.
/// </summary>
public abstract class ContainerResource(string name) : Resource(name),
    IResourceWithEnvironment, IResourceWithArgs, IResourceWithEndpoints, IResourceWithWaitSupport
{
    public EndpointReference GetEndpoint(string endpointName) => new(this, endpointName);
}

public static class ResourceExtensions
{
    public static IEnumerable<T> OfAnnotation<T>(this IResource resource) where T : IResourceAnnotation
        => resource.Annotations.OfType<T>();

    public static bool TryGetLastAnnotation<T>(this IResource resource, out T annotation) where T : IResourceAnnotation
    {
        annotation = resource.Annotations.OfType<T>().LastOrDefault()!;
        return annotation is not null;
    }

    public static IEnumerable<EndpointAnnotation> GetEndpointAnnotations(this IResource resource)
        => resource.Annotations.OfType<EndpointAnnotation>();

    public static EndpointReference GetEndpoint(this IResourceWithEndpoints resource, string endpointName) => new(resource, endpointName);

    /// <summary>Names as Aspire derives environment variable prefixes: upper case, '-' becomes '_'.</summary>
    public static string ToEnvironmentPrefix(string resourceName) => resourceName.ToUpperInvariant().Replace('-', '_');
}
