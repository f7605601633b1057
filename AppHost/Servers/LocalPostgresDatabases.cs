using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Sessions.AppHost.Servers;

/// <summary>Databases of a <see cref="LocalPostgresResource"/>: created on the server's ready event, state follows the server.</summary>
static class LocalPostgresDatabases
{
    public static IResourceBuilder<IResourceWithConnectionString> Add(IDistributedApplicationBuilder builder, LocalPostgresResource server, string name)
    {
        var database = new LocalPostgresDatabaseResource(name, name, server);
        server.Databases[name] = name;

        string? connectionString = null;
        builder.Eventing.Subscribe<ConnectionStringAvailableEvent>(database, async (_, ct) => connectionString = await database.ConnectionStringExpression.GetValueAsync(ct));
        builder.Services.AddHealthChecks().AddNpgSql(_ => connectionString ?? throw new InvalidOperationException("Connection string is unavailable"), name: $"{name}_check");

        // Aspire moves a container's children along with its state, not an executable's: this does it for the database.
        builder.Eventing.Subscribe<BeforeResourceStartedEvent>(server, (e, _) => Follow(e.Services, database, KnownResourceStates.Starting));
        builder.Eventing.Subscribe<ResourceReadyEvent>(server, (e, _) => Follow(e.Services, database, KnownResourceStates.Running));
        builder.Eventing.Subscribe<ResourceStoppedEvent>(server, (e, _) => Follow(e.Services, database, e.ResourceEvent.Snapshot.State?.Text ?? KnownResourceStates.Finished));

        return builder.AddResource(database)
            .WithInitialState(new CustomResourceSnapshot { ResourceType = "PostgresDatabase", State = KnownResourceStates.NotStarted, Properties = [] })
            .WithHealthCheck($"{name}_check")
            .WithIconName("Database");
    }

    static Task Follow(IServiceProvider services, LocalPostgresDatabaseResource database, string state) =>
        services.GetRequiredService<ResourceNotificationService>().PublishUpdateAsync(database, s => s with
        {
            State = state,
            StartTimeStamp = state == KnownResourceStates.Running ? DateTime.UtcNow : s.StartTimeStamp,
            StopTimeStamp = KnownResourceStates.TerminalStates.Contains(state) ? DateTime.UtcNow : null,
        });

    /// <summary>CREATE DATABASE, ignoring "already exists" (SQLSTATE 42P04), as Aspire does.</summary>
    public static async Task CreateAsync(string serverConnectionString, string database, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(serverConnectionString + ";Database=postgres;Pooling=false");
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand($"CREATE DATABASE \"{database.Replace("\"", "\"\"")}\"", connection);
        try
        {
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.DuplicateDatabase)
        {
        }
    }
}
