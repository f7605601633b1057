namespace Sessions.Hosting.ApplicationModel;

/// <summary>A Redis server: published as the <c>redis</c> image, run locally as <c>redis-server</c>.</summary>
public sealed class RedisResource(string name, ParameterResource? password) : ContainerResource(name), IResourceWithConnectionString, IContainerDataTarget
{
    public const string PrimaryEndpointName = "tcp";

    public EndpointReference PrimaryEndpoint => new(this, PrimaryEndpointName);
    public EndpointReferenceExpression Host => PrimaryEndpoint.Property(EndpointProperty.Host);
    public EndpointReferenceExpression Port => PrimaryEndpoint.Property(EndpointProperty.Port);
    public ParameterResource? PasswordParameter { get; } = password;

    /// <summary>Aspire's format: <c>host:port,password=...</c>.</summary>
    public ReferenceExpression ConnectionStringExpression => PasswordParameter is null
        ? ReferenceExpression.Create($"{Host}:{Port}")
        : ReferenceExpression.Create($"{Host}:{Port},password={PasswordParameter}");

    public IEnumerable<KeyValuePair<string, ReferenceExpression>> GetConnectionProperties()
    {
        yield return new("Host", ReferenceExpression.Create($"{Host}"));
        yield return new("Port", ReferenceExpression.Create($"{Port}"));
        if (PasswordParameter is not null)
            yield return new("Password", ReferenceExpression.Create($"{PasswordParameter}"));
        yield return new("Uri", PasswordParameter is null
            ? ReferenceExpression.Create($"redis://{Host}:{Port}")
            : ReferenceExpression.Create($"redis://:{PasswordParameter:uri}@{Host}:{Port}"));
    }

    public string DataTargetPath => "/data";
}
