using Sessions.Hosting.ApplicationModel;
using Sessions.Hosting.Orchestration;

namespace Sessions.Hosting;

public static class PostgresBuilderExtensions
{
    /// <summary>
    /// Adds a PostgreSQL server with a generated, persisted password (<c>{name}-password</c>). It is healthy once
    /// it accepts connections and every database added with <see cref="AddDatabase"/> exists.
    /// </summary>
    public static IResourceBuilder<PostgresServerResource> AddPostgres(this IDistributedApplicationBuilder builder, string name,
        IResourceBuilder<ParameterResource>? userName = null, IResourceBuilder<ParameterResource>? password = null, int? port = null)
    {
        var passwordParameter = password ?? builder.AddDefaultPasswordParameter($"{name}-password");
        var postgres = new PostgresServerResource(name, userName?.Resource, passwordParameter.Resource);
        var healthCheckKey = $"{name}_check";
        builder.AddHealthCheck(healthCheckKey, _ => new PostgresServerHealthCheck(postgres));

        return builder.AddResource(postgres)
            .WithEndpoint(port: port, targetPort: 5432, name: PostgresServerResource.PrimaryEndpointName)
            .WithAnnotation(new ContainerImageAnnotation("library/postgres", "17.6"))
            .WithEnvironment(context =>
            {
                context.EnvironmentVariables["POSTGRES_HOST_AUTH_METHOD"] = "scram-sha-256";
                context.EnvironmentVariables["POSTGRES_INITDB_ARGS"] = "--auth-host=scram-sha-256 --auth-local=scram-sha-256";
                context.EnvironmentVariables["POSTGRES_USER"] = postgres.UserNameParameter as object ?? PostgresServerResource.DefaultUserName;
                context.EnvironmentVariables["POSTGRES_PASSWORD"] = postgres.PasswordParameter;
            })
            .WithHealthCheck(healthCheckKey);
    }

    /// <summary>Adds a database (created when the server is ready, "already exists" ignored), healthy once it accepts connections.</summary>
    public static IResourceBuilder<PostgresDatabaseResource> AddDatabase(this IResourceBuilder<PostgresServerResource> builder, string name, string? databaseName = null)
    {
        var database = new PostgresDatabaseResource(name, databaseName ?? name, builder.Resource);
        builder.Resource.AddDatabase(name, database.DatabaseName);
        var healthCheckKey = $"{name}_check";
        builder.ApplicationBuilder.AddHealthCheck(healthCheckKey, _ => new PostgresDatabaseHealthCheck(database));
        return builder.ApplicationBuilder.AddResource(database).WithHealthCheck(healthCheckKey);
    }
}
