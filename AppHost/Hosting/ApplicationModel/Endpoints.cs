using System.Globalization;

namespace Sessions.Hosting.ApplicationModel;

/// <summary>
/// A network endpoint of a resource. Aspire puts a proxy on <see cref="Port"/> and runs the service on
/// <see cref="TargetPort"/>; there is no proxy here, so the process listens on the allocated port directly:
/// <see cref="Port"/> when set (unless ports are randomized, as in tests), otherwise a free port.
/// </summary>
public sealed class EndpointAnnotation(string name, string uriScheme, string transport, int? port = null, int? targetPort = null) : IResourceAnnotation
{
    public string Name { get; } = name;
    public string UriScheme { get; set; } = uriScheme;
    /// <summary>"http" or "tcp", as in the manifest's bindings.</summary>
    public string Transport { get; set; } = transport;
    public int? Port { get; set; } = port;
    /// <summary>The port inside the container (manifest); locally the process listens on the allocated port.</summary>
    public int? TargetPort { get; set; } = targetPort;
    public bool IsProxied { get; set; } = true;
    /// <summary>Reachable from outside the application (the way in); printed prominently when the stack is up.</summary>
    public bool IsExternal { get; set; }
    /// <summary>Environment variable that receives the allocated port (e.g. <c>PORT</c>), if any.</summary>
    public string? TargetPortEnvironmentVariable { get; set; }

    public AllocatedEndpoint? AllocatedEndpoint { get; set; }
}

/// <summary>Where an endpoint actually listens in this run.</summary>
public sealed class AllocatedEndpoint(EndpointAnnotation endpoint, string address, int port)
{
    public EndpointAnnotation Endpoint { get; } = endpoint;
    public string Address { get; } = address;
    public int Port { get; } = port;
    public string UriString => $"{Endpoint.UriScheme}://{Address}:{Port.ToString(CultureInfo.InvariantCulture)}";
    public override string ToString() => UriString;
}

public enum EndpointProperty
{
    Url,
    Host,
    IPV4Host,
    Port,
    Scheme,
    TargetPort,
    HostAndPort,
}

/// <summary>A reference to a resource's endpoint; resolves once ports are allocated.</summary>
public sealed class EndpointReference(IResourceWithEndpoints owner, string endpointName) : IManifestExpressionProvider, IValueProvider, IValueWithReferences
{
    public IResourceWithEndpoints Resource { get; } = owner;
    public string EndpointName { get; } = endpointName;

    public EndpointAnnotation EndpointAnnotation => Resource.GetEndpointAnnotations().SingleOrDefault(e => e.Name == EndpointName)
        ?? throw new InvalidOperationException($"The endpoint '{EndpointName}' is not defined for the resource '{Resource.Name}'.");

    public bool Exists => Resource.GetEndpointAnnotations().Any(e => e.Name == EndpointName);
    public bool IsAllocated => Exists && EndpointAnnotation.AllocatedEndpoint is not null;

    AllocatedEndpoint Allocated => EndpointAnnotation.AllocatedEndpoint
        ?? throw new InvalidOperationException($"The endpoint '{EndpointName}' of '{Resource.Name}' is not allocated yet (the application has not started).");

    public string Url => Allocated.UriString;
    public string Host => Allocated.Address;
    public int Port => Allocated.Port;
    public string Scheme => EndpointAnnotation.UriScheme;

    public EndpointReferenceExpression Property(EndpointProperty property) => new(this, property);

    public string ValueExpression => $"{{{Resource.Name}.bindings.{EndpointName}.url}}";

    public ValueTask<string?> GetValueAsync(CancellationToken cancellationToken = default) => new(Url);

    public IEnumerable<object> References => [Resource];
}

/// <summary>One property of an endpoint (host, port, url...) as a value.</summary>
public sealed class EndpointReferenceExpression(EndpointReference endpoint, EndpointProperty property) : IManifestExpressionProvider, IValueProvider, IValueWithReferences
{
    public EndpointReference Endpoint { get; } = endpoint;
    public EndpointProperty Property { get; } = property;

    public string ValueExpression => $"{{{Endpoint.Resource.Name}.bindings.{Endpoint.EndpointName}.{Property switch
    {
        EndpointProperty.Url => "url",
        EndpointProperty.Host or EndpointProperty.IPV4Host => "host",
        EndpointProperty.Port => "port",
        EndpointProperty.Scheme => "scheme",
        EndpointProperty.TargetPort => "targetPort",
        EndpointProperty.HostAndPort => "hostAndPort",
        _ => throw new ArgumentOutOfRangeException(nameof(Property)),
    }}}}";

    public ValueTask<string?> GetValueAsync(CancellationToken cancellationToken = default) => new(Property switch
    {
        EndpointProperty.Url => Endpoint.Url,
        EndpointProperty.Host => Endpoint.Host,
        EndpointProperty.IPV4Host => "127.0.0.1",
        EndpointProperty.Port or EndpointProperty.TargetPort => Endpoint.Port.ToString(CultureInfo.InvariantCulture),
        EndpointProperty.Scheme => Endpoint.Scheme,
        EndpointProperty.HostAndPort => $"{Endpoint.Host}:{Endpoint.Port.ToString(CultureInfo.InvariantCulture)}",
        _ => throw new ArgumentOutOfRangeException(nameof(Property)),
    });

    public IEnumerable<object> References => [Endpoint];
}
