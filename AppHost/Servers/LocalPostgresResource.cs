namespace Sessions.AppHost.Servers;

/// <summary>
/// A local <c>postgres</c> run by DCP as an executable (as the <c>postgres</c> user when the AppHost runs as root),
/// with the connection string and properties of Aspire's container <c>PostgresServerResource</c>.
/// </summary>
public sealed class LocalPostgresResource(string name, string command, string workingDirectory, ParameterResource password, string dataDirectory)
    : ExecutableResource(name, command, workingDirectory), IResourceWithConnectionString
{
    public const string EndpointName = "tcp";
    public const string UserName = "postgres";

    public ParameterResource PasswordParameter { get; } = password;

    /// <summary>The cluster's folder (initdb on first start).</summary>
    public string DataDirectory { get; } = dataDirectory;

    /// <summary>Database resource name -> database name, created when the server is ready.</summary>
    public Dictionary<string, string> Databases { get; } = new(StringComparer.OrdinalIgnoreCase);

    public EndpointReference PrimaryEndpoint => new(this, EndpointName);

    internal EndpointReferenceExpression Host => PrimaryEndpoint.Property(EndpointProperty.Host);

    internal EndpointReferenceExpression Port => PrimaryEndpoint.Property(EndpointProperty.Port);

    public ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create($"Host={Host};Port={Port};Username={UserName};Password={PasswordParameter}");

    internal ReferenceExpression UriFor(string? database) => database is null
        ? ReferenceExpression.Create($"postgresql://{UserName}:{PasswordParameter:uri}@{Host}:{Port}")
        : ReferenceExpression.Create($"postgresql://{UserName}:{PasswordParameter:uri}@{Host}:{Port}/{database}");

    IEnumerable<KeyValuePair<string, ReferenceExpression>> IResourceWithConnectionString.GetConnectionProperties() =>
    [
        new("Host", ReferenceExpression.Create($"{Host}")),
        new("Port", ReferenceExpression.Create($"{Port}")),
        new("Username", ReferenceExpression.Create($"{UserName}")),
        new("Password", ReferenceExpression.Create($"{PasswordParameter}")),
        new("Uri", UriFor(null)),
    ];
}

/// <summary>A database on a <see cref="LocalPostgresResource"/>, like Aspire's <c>PostgresDatabaseResource</c>.</summary>
public sealed class LocalPostgresDatabaseResource(string name, string databaseName, LocalPostgresResource parent)
    : Resource(name), IResourceWithParent<LocalPostgresResource>, IResourceWithConnectionString
{
    public LocalPostgresResource Parent { get; } = parent;

    public string DatabaseName { get; } = databaseName;

    public ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create($"{Parent};Database={DatabaseName}");

    IEnumerable<KeyValuePair<string, ReferenceExpression>> IResourceWithConnectionString.GetConnectionProperties() =>
    [
        new("Host", ReferenceExpression.Create($"{Parent.Host}")),
        new("Port", ReferenceExpression.Create($"{Parent.Port}")),
        new("Username", ReferenceExpression.Create($"{LocalPostgresResource.UserName}")),
        new("Password", ReferenceExpression.Create($"{Parent.PasswordParameter}")),
        new("Uri", Parent.UriFor(DatabaseName)),
        new("DatabaseName", ReferenceExpression.Create($"{DatabaseName}")),
    ];
}
