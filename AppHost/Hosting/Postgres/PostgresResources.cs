namespace Sessions.Hosting.ApplicationModel;

/// <summary>A PostgreSQL server: published as the <c>postgres</c> image, run locally from the Debian binaries.</summary>
public sealed class PostgresServerResource(string name, ParameterResource? userName, ParameterResource password) : ContainerResource(name), IResourceWithConnectionString, IContainerDataTarget
{
    public const string PrimaryEndpointName = "tcp";
    public const string DefaultUserName = "postgres";

    public EndpointReference PrimaryEndpoint => new(this, PrimaryEndpointName);
    public EndpointReferenceExpression Host => PrimaryEndpoint.Property(EndpointProperty.Host);
    public EndpointReferenceExpression Port => PrimaryEndpoint.Property(EndpointProperty.Port);
    public ParameterResource? UserNameParameter { get; } = userName;
    public ParameterResource PasswordParameter { get; } = password;

    public string UserName => UserNameParameter?.Value ?? DefaultUserName;

    /// <summary>Database resource name to database name, in the order they were added.</summary>
    public IReadOnlyDictionary<string, string> Databases => _databases;
    readonly Dictionary<string, string> _databases = [];

    internal void AddDatabase(string resourceName, string databaseName) => _databases.TryAdd(resourceName, databaseName);

    ReferenceExpression UserNameReference => UserNameParameter is null
        ? ReferenceExpression.Create($"{DefaultUserName}")
        : ReferenceExpression.Create($"{UserNameParameter}");

    /// <summary>Aspire's format: <c>Host=...;Port=...;Username=postgres;Password=...</c>.</summary>
    public ReferenceExpression ConnectionStringExpression
        => ReferenceExpression.Create($"Host={Host};Port={Port};Username={UserNameReference};Password={PasswordParameter}");

    public IEnumerable<KeyValuePair<string, ReferenceExpression>> GetConnectionProperties()
    {
        yield return new("Host", ReferenceExpression.Create($"{Host}"));
        yield return new("Port", ReferenceExpression.Create($"{Port}"));
        yield return new("Username", UserNameReference);
        yield return new("Password", ReferenceExpression.Create($"{PasswordParameter}"));
        yield return new("Uri", ReferenceExpression.Create($"postgresql://{UserNameReference:uri}:{PasswordParameter:uri}@{Host}:{Port}"));
    }

    public string DataTargetPath => "/var/lib/postgresql/data";
}

/// <summary>A database of a <see cref="PostgresServerResource"/>, created (if missing) once the server is ready.</summary>
public sealed class PostgresDatabaseResource(string name, string databaseName, PostgresServerResource parent) : Resource(name),
    IResourceWithParent<PostgresServerResource>, IResourceWithConnectionString
{
    public PostgresServerResource Parent { get; } = parent;
    public string DatabaseName { get; } = databaseName;

    /// <summary>The server's connection string plus <c>;Database=name</c>.</summary>
    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create($"{Parent};Database={DatabaseName}");

    public IEnumerable<KeyValuePair<string, ReferenceExpression>> GetConnectionProperties()
    {
        foreach (var property in Parent.GetConnectionProperties())
        {
            if (property.Key == "Uri")
                yield return new("Uri", ReferenceExpression.Create($"{property.Value}/{DatabaseName:uri}"));
            else
                yield return property;
        }
        yield return new("DatabaseName", ReferenceExpression.Create($"{DatabaseName}"));
    }
}
