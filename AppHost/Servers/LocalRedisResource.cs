namespace Sessions.AppHost.Servers;

/// <summary>
/// A local <c>redis-server</c> run by DCP as an executable, with the connection string and properties of Aspire's
/// container <c>RedisResource</c> (<c>ConnectionStrings__redis</c>, <c>REDIS_HOST/_PORT/_PASSWORD/_URI</c>).
/// </summary>
public sealed class LocalRedisResource(string name, string command, string workingDirectory, ParameterResource password)
    : ExecutableResource(name, command, workingDirectory), IResourceWithConnectionString
{
    public const string EndpointName = "tcp";

    public ParameterResource PasswordParameter { get; } = password;

    public EndpointReference PrimaryEndpoint => new(this, EndpointName);

    EndpointReferenceExpression Host => PrimaryEndpoint.Property(EndpointProperty.Host);

    EndpointReferenceExpression Port => PrimaryEndpoint.Property(EndpointProperty.Port);

    public ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create($"{Host}:{Port},password={PasswordParameter}");

    public ReferenceExpression UriExpression =>
        ReferenceExpression.Create($"redis://:{PasswordParameter:uri}@{Host}:{Port}");

    IEnumerable<KeyValuePair<string, ReferenceExpression>> IResourceWithConnectionString.GetConnectionProperties() =>
    [
        new("Host", ReferenceExpression.Create($"{Host}")),
        new("Port", ReferenceExpression.Create($"{Port}")),
        new("Password", ReferenceExpression.Create($"{PasswordParameter}")),
        new("Uri", UriExpression),
    ];
}
