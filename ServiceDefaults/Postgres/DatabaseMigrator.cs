using System.Diagnostics;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Sessions.ServiceDefaults.Telemetry;

namespace Sessions.ServiceDefaults.Postgres;

/// <summary>
/// Applies pending migrations in version order, each in its own transaction together with its row in
/// <c>schema_migrations (version, name, checksum, applied_at)</c>. A session-level pg_advisory_lock serialises
/// concurrent instances: the second waits, then finds nothing left to do. An applied migration whose checksum
/// changed stops the run before anything is applied.
/// </summary>
public sealed class DatabaseMigrator(
    NpgsqlDataSource dataSource,
    IReadOnlyList<DatabaseMigration> migrations,
    DatabaseMigrationOptions? options = null,
    ILogger? logger = null)
{
    public const string HistoryTable = "schema_migrations";

    static readonly ActivitySource ActivitySource = SessionsTelemetry.CreateActivitySource("Migrations");

    readonly DatabaseMigrationOptions _options = options ?? new();
    readonly ILogger _logger = logger ?? NullLogger.Instance;
    readonly IReadOnlyList<DatabaseMigration> _migrations = DatabaseMigration.Ordered(migrations, "the migration list");

    /// <summary>Applies what is pending and returns it (empty when the database was up to date).</summary>
    public async Task<IReadOnlyList<DatabaseMigration>> MigrateAsync(CancellationToken cancellationToken = default)
    {
        using var activity = ActivitySource.StartActivity("migrate database");
        await using var connection = await OpenWithRetryAsync(cancellationToken);
        var database = connection.Database;
        activity?.SetTag("db.namespace", database);

        // Session lock, released when the connection closes even if this process dies mid-way.
        await ExecuteAsync(connection, null, $"SELECT pg_advisory_lock({_options.AdvisoryLockKey})", cancellationToken);
        try
        {
            await ExecuteAsync(connection, null, $"""
                CREATE TABLE IF NOT EXISTS {HistoryTable} (
                    version    bigint      PRIMARY KEY,
                    name       text        NOT NULL,
                    checksum   text        NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """, cancellationToken);

            var applied = await ReadAppliedAsync(connection, cancellationToken);
            Verify(applied, database);

            var pending = _migrations.Where(m => !applied.ContainsKey(m.Version)).ToList();
            foreach (var migration in pending)
                await ApplyAsync(connection, migration, database, applied.Count == 0 ? 0 : applied.Keys.Max(), cancellationToken);

            if (pending.Count == 0)
                _logger.LogInformation("Database {Database} is up to date ({Count} migrations applied).", database, applied.Count);
            activity?.SetTag("sessions.migrations.applied", pending.Count);
            return pending;
        }
        finally
        {
            if (connection.State == System.Data.ConnectionState.Open)
                await ExecuteAsync(connection, null, $"SELECT pg_advisory_unlock({_options.AdvisoryLockKey})", CancellationToken.None);
        }
    }

    void Verify(IReadOnlyDictionary<long, (string Name, string Checksum)> applied, string database)
    {
        foreach (var migration in _migrations)
        {
            if (applied.TryGetValue(migration.Version, out var row) && row.Checksum != migration.Checksum)
                throw new DatabaseMigrationException(
                    $"Migration {migration.Id} was changed after it was applied to database {database}: checksum " +
                    $"{row.Checksum} in {HistoryTable}, {migration.Checksum} now. Applied migrations are immutable; " +
                    "revert the edit and add a new migration instead.");
        }
        var unknown = applied.Keys.Where(version => _migrations.All(m => m.Version != version)).Order().ToList();
        if (unknown.Count > 0)
            _logger.LogWarning("Database {Database} has migrations this build does not know ({Versions}); an older build is running against a newer schema.",
                database, string.Join(", ", unknown.Select(v => $"{v:D4}_{applied[v].Name}")));
    }

    async Task ApplyAsync(NpgsqlConnection connection, DatabaseMigration migration, string database, long currentVersion, CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        try
        {
            await ExecuteAsync(connection, transaction, migration.Sql, cancellationToken);
            await using (var record = new NpgsqlCommand(
                $"INSERT INTO {HistoryTable} (version, name, checksum) VALUES ($1, $2, $3)", connection, transaction))
            {
                record.Parameters.Add(new NpgsqlParameter { Value = migration.Version });
                record.Parameters.Add(new NpgsqlParameter { Value = migration.Name });
                record.Parameters.Add(new NpgsqlParameter { Value = migration.Checksum });
                await record.ExecuteNonQueryAsync(cancellationToken);
            }
            await transaction.CommitAsync(cancellationToken);
        }
        catch (Exception exception) when (exception is NpgsqlException or InvalidOperationException)
        {
            await transaction.RollbackAsync(CancellationToken.None);
            var reason = exception is PostgresException postgres
                ? $"{postgres.SqlState}: {postgres.MessageText}{(postgres.Position > 0 ? $" (at character {postgres.Position})" : "")}"
                : exception.Message;
            throw new DatabaseMigrationException(
                $"Migration {migration.Id} failed on database {database} and was rolled back; the schema stays at version " +
                $"{currentVersion:D4}. {reason}", exception);
        }
        _logger.LogInformation("Applied migration {Migration} to database {Database} in {Elapsed} ms.",
            migration.Id, database, stopwatch.ElapsedMilliseconds);
    }

    static async Task<Dictionary<long, (string Name, string Checksum)>> ReadAppliedAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var applied = new Dictionary<long, (string, string)>();
        await using var command = new NpgsqlCommand($"SELECT version, name, checksum FROM {HistoryTable}", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            applied[reader.GetInt64(0)] = (reader.GetString(1), reader.GetString(2));
        return applied;
    }

    static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, CancellationToken cancellationToken)
    {
        // No command timeout: a migration (or waiting for another instance's) may legitimately take long.
        await using var command = new NpgsqlCommand(sql, connection, transaction) { CommandTimeout = 0 };
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    // The database may still be starting (57P03), not created yet (3D000) or not listening yet.
    async Task<NpgsqlConnection> OpenWithRetryAsync(CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        var delay = TimeSpan.FromMilliseconds(250);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await dataSource.OpenConnectionAsync(cancellationToken);
            }
            catch (Exception exception) when (IsTransientStartupError(exception) && deadline.Elapsed + delay < _options.ConnectRetryTimeout)
            {
                _logger.LogInformation("Database not reachable yet (attempt {Attempt}: {Reason}); retrying in {Delay} ms.",
                    attempt, exception.Message, (int)delay.TotalMilliseconds);
                await Task.Delay(delay, cancellationToken);
                delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 2000));
            }
            catch (Exception exception) when (exception is NpgsqlException or SocketException or TimeoutException)
            {
                var target = new NpgsqlConnectionStringBuilder(dataSource.ConnectionString);
                throw new DatabaseMigrationException(
                    $"Could not connect to database {target.Database} on {target.Host}:{target.Port} to migrate it " +
                    $"(after {attempt} attempts in {deadline.Elapsed.TotalSeconds:0.#} s): {exception.Message}", exception);
            }
        }
    }

    static bool IsTransientStartupError(Exception exception) => exception switch
    {
        PostgresException postgres => postgres.IsTransient || postgres.SqlState is PostgresErrorCodes.InvalidCatalogName,
        NpgsqlException npgsql => npgsql.IsTransient || npgsql.InnerException is SocketException or IOException or TimeoutException,
        SocketException or TimeoutException => true,
        _ => false,
    };
}
