using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Sessions.ServiceDefaults.Postgres;

/// <summary>
/// Migrates one database in StartingAsync, which the host runs before any StartAsync (the server included):
/// the app serves only a migrated database, and a failed migration fails start-up.
/// </summary>
internal sealed class DatabaseMigrationHostedService(
    string connectionName,
    IReadOnlyList<DatabaseMigration> migrations,
    DatabaseMigrationOptions options,
    IConfiguration configuration,
    ILoggerFactory loggerFactory) : IHostedLifecycleService
{
    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        var connectionString = configuration.GetRequiredConnectionString(connectionName);
        // Its own small pool, gone once start-up is over.
        var dataSourceBuilder = new NpgsqlDataSourceBuilder(connectionString) { Name = $"{connectionName}-migrations" };
        dataSourceBuilder.UseLoggerFactory(loggerFactory);
        await using var dataSource = dataSourceBuilder.Build();
        var logger = loggerFactory.CreateLogger<DatabaseMigrator>();
        await new DatabaseMigrator(dataSource, migrations, options, logger).MigrateAsync(cancellationToken);
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
