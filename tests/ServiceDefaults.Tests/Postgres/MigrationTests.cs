using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Hosting;
using Npgsql;
using ServiceDefaults.Tests.Support;
using Sessions.ServiceDefaults.Postgres;
using Sessions.Testing;

namespace ServiceDefaults.Tests.Postgres;

public sealed class MigrationTests(InfrastructureFixture infra)
{
    static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    static readonly DatabaseMigration CreateAccounts = new(1, "create_accounts", """
        CREATE TABLE accounts (id bigint PRIMARY KEY, owner text NOT NULL);
        CREATE TABLE migration_side_effects (migration text NOT NULL);
        INSERT INTO migration_side_effects VALUES ('0001');
        """);

    static readonly DatabaseMigration AddBalance = new(2, "add_balance", """
        ALTER TABLE accounts ADD COLUMN balance numeric NOT NULL DEFAULT 0;
        INSERT INTO migration_side_effects VALUES ('0002');
        """);

    static readonly DatabaseMigration SlowIndex = new(3, "slow_index", """
        SELECT pg_sleep(0.3);
        CREATE INDEX accounts_owner ON accounts (owner);
        INSERT INTO migration_side_effects VALUES ('0003');
        """);

    static DatabaseMigrator Migrator(NpgsqlDataSource dataSource, params DatabaseMigration[] migrations) => new(dataSource, migrations);

    [Fact]
    public async Task Applies_pending_migrations_once_and_records_them()
    {
        await using var dataSource = NpgsqlDataSource.Create(await infra.CreateDatabaseAsync("migrate"));

        var applied = await Migrator(dataSource, CreateAccounts, AddBalance).MigrateAsync(Cancellation);

        Assert.Equal(["0001_create_accounts", "0002_add_balance"], applied.Select(m => m.Id));
        var rows = await HistoryAsync(dataSource);
        Assert.Equal([(1L, "create_accounts", CreateAccounts.Checksum), (2L, "add_balance", AddBalance.Checksum)],
            rows.Select(r => (r.Version, r.Name, r.Checksum)));
        Assert.All(rows, r => Assert.True(r.AppliedAt > DateTime.UtcNow.AddMinutes(-5)));
        Assert.Equal(1L, await ScalarAsync<long>(dataSource,
            "SELECT count(*) FROM information_schema.columns WHERE table_name = 'accounts' AND column_name = 'balance'"));
    }

    [Fact]
    public async Task Second_run_is_a_no_op_and_later_migrations_apply_on_top()
    {
        await using var dataSource = NpgsqlDataSource.Create(await infra.CreateDatabaseAsync("migrate"));
        await Migrator(dataSource, CreateAccounts).MigrateAsync(Cancellation);
        var before = await HistoryAsync(dataSource);

        Assert.Empty(await Migrator(dataSource, CreateAccounts).MigrateAsync(Cancellation));
        Assert.Equal(before, await HistoryAsync(dataSource));

        Assert.Equal(["0002_add_balance"], (await Migrator(dataSource, CreateAccounts, AddBalance).MigrateAsync(Cancellation)).Select(m => m.Id));
        Assert.Equal(["0001", "0002"], await SideEffectsAsync(dataSource));
    }

    [Fact]
    public async Task Concurrent_runners_apply_each_migration_exactly_once()
    {
        var connectionString = await infra.CreateDatabaseAsync("migrate");
        var dataSources = Enumerable.Range(0, 4).Select(_ => NpgsqlDataSource.Create(connectionString)).ToList();
        try
        {
            using var start = new Barrier(dataSources.Count);
            var runs = dataSources.Select(dataSource => Task.Run(async () =>
            {
                start.SignalAndWait(Cancellation);
                return await Migrator(dataSource, CreateAccounts, AddBalance, SlowIndex).MigrateAsync(Cancellation);
            }, Cancellation)).ToList();
            var results = await Task.WhenAll(runs);

            // Exactly one runner applied everything (it held the lock); the others found nothing to do.
            Assert.Single(results, r => r.Count == 3);
            Assert.Equal(dataSources.Count - 1, results.Count(r => r.Count == 0));
            Assert.Equal([1L, 2L, 3L], (await HistoryAsync(dataSources[0])).Select(r => r.Version));
            Assert.Equal(["0001", "0002", "0003"], await SideEffectsAsync(dataSources[0]));
        }
        finally
        {
            foreach (var dataSource in dataSources)
                await dataSource.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_changed_applied_migration_stops_the_run_before_anything_else_applies()
    {
        await using var dataSource = NpgsqlDataSource.Create(await infra.CreateDatabaseAsync("migrate"));
        await Migrator(dataSource, CreateAccounts).MigrateAsync(Cancellation);
        var edited = new DatabaseMigration(1, "create_accounts", CreateAccounts.Sql + "\nCREATE TABLE sneaky (id int);");

        var error = await Assert.ThrowsAsync<DatabaseMigrationException>(() => Migrator(dataSource, edited, AddBalance).MigrateAsync(Cancellation));

        Assert.Contains("0001_create_accounts was changed after it was applied", error.Message);
        Assert.Contains(CreateAccounts.Checksum, error.Message);
        Assert.Contains(edited.Checksum, error.Message);
        Assert.Equal([1L], (await HistoryAsync(dataSource)).Select(r => r.Version));
    }

    [Fact]
    public void Line_endings_do_not_change_the_checksum()
    {
        var lf = new DatabaseMigration(7, "x", "CREATE TABLE a (id int);\nSELECT 1;\n");
        var crlf = new DatabaseMigration(7, "x", "CREATE TABLE a (id int);\r\nSELECT 1;\r\n");
        Assert.Equal(lf.Checksum, crlf.Checksum);
        Assert.NotEqual(lf.Checksum, new DatabaseMigration(7, "x", "CREATE TABLE b (id int);\n").Checksum);
    }

    [Fact]
    public async Task A_failing_migration_rolls_back_entirely_and_says_which()
    {
        await using var dataSource = NpgsqlDataSource.Create(await infra.CreateDatabaseAsync("migrate"));
        var broken = new DatabaseMigration(2, "broken", """
            CREATE TABLE half_done (id int);
            INSERT INTO migration_side_effects VALUES ('0002');
            SELECT * FROM table_that_does_not_exist;
            """);

        var error = await Assert.ThrowsAsync<DatabaseMigrationException>(() => Migrator(dataSource, CreateAccounts, broken, SlowIndex).MigrateAsync(Cancellation));

        Assert.Contains("Migration 0002_broken failed", error.Message);
        Assert.Contains("rolled back", error.Message);
        Assert.Contains("42P01", error.Message);                       // undefined_table
        Assert.Contains("table_that_does_not_exist", error.Message);
        Assert.Equal([1L], (await HistoryAsync(dataSource)).Select(r => r.Version));
        Assert.Equal(["0001"], await SideEffectsAsync(dataSource));
        Assert.Equal(0L, await ScalarAsync<long>(dataSource, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'half_done'"));
        // The lock was released: a fixed build migrates at once.
        Assert.Equal(2, (await Migrator(dataSource, CreateAccounts, AddBalance, SlowIndex).MigrateAsync(Cancellation)).Count);
    }

    [Fact]
    public async Task Waits_for_a_database_that_does_not_exist_yet()
    {
        var existing = new NpgsqlConnectionStringBuilder(await infra.CreateDatabaseAsync("later"));
        var name = existing.Database + "_late";
        existing.Database = name;
        await using var dataSource = NpgsqlDataSource.Create(existing.ConnectionString);
        var migrator = new DatabaseMigrator(dataSource, [CreateAccounts], new DatabaseMigrationOptions { ConnectRetryTimeout = TimeSpan.FromSeconds(20) });

        var migrating = migrator.MigrateAsync(Cancellation);
        await Task.Delay(700, Cancellation);
        Assert.False(migrating.IsCompleted);
        await infra.Postgres.CreateDatabaseAsync(name, Cancellation);

        Assert.Single(await migrating);
    }

    [Fact]
    public async Task Gives_up_connecting_after_the_retry_timeout()
    {
        var nowhere = new NpgsqlConnectionStringBuilder(await infra.CreateDatabaseAsync("gone")) { Port = 1, Timeout = 1 };
        await using var dataSource = NpgsqlDataSource.Create(nowhere.ConnectionString);
        var migrator = new DatabaseMigrator(dataSource, [CreateAccounts], new DatabaseMigrationOptions { ConnectRetryTimeout = TimeSpan.FromSeconds(1) });

        var error = await Assert.ThrowsAsync<DatabaseMigrationException>(() => migrator.MigrateAsync(Cancellation));
        Assert.Contains($"Could not connect to database {nowhere.Database} on 127.0.0.1:1", error.Message);
    }

    [Fact]
    public void Embedded_migrations_are_discovered_in_version_order()
    {
        var migrations = DatabaseMigration.FromAssembly(typeof(MigrationTests).Assembly);

        Assert.Equal(["0001_first", "0002_second"], migrations.Select(m => m.Id));
        Assert.Contains("CREATE TABLE discovered_first", migrations[0].Sql);
    }

    [Fact]
    public void Duplicate_versions_are_rejected()
    {
        var error = Assert.Throws<InvalidOperationException>(() =>
            new DatabaseMigrator(NpgsqlDataSource.Create("Host=127.0.0.1"), [CreateAccounts, new DatabaseMigration(1, "other", "SELECT 1")]));
        Assert.Contains("0001_create_accounts", error.Message);
        Assert.Contains("0001_other", error.Message);
    }

    [Fact]
    public async Task A_service_migrates_before_it_serves()
    {
        var connectionString = await infra.CreateDatabaseAsync("hosted");
        var builder = TestApp.CreateBuilder(new Dictionary<string, string?> { ["ConnectionStrings:appdb"] = connectionString });
        builder.AddDatabaseMigrations("appdb", [CreateAccounts, AddBalance]);
        await using var app = builder.Build();

        await app.StartAsync(Cancellation);

        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        Assert.Equal([1L, 2L], (await HistoryAsync(dataSource)).Select(r => r.Version));
    }

    [Fact]
    public async Task A_service_whose_migration_fails_does_not_start()
    {
        var connectionString = await infra.CreateDatabaseAsync("hosted");
        var builder = TestApp.CreateBuilder(new Dictionary<string, string?> { ["ConnectionStrings:appdb"] = connectionString });
        builder.AddDatabaseMigrations("appdb", [CreateAccounts, new DatabaseMigration(2, "bad_syntax", "CREATE TABLEE oops (id int);")]);
        await using var app = builder.Build();

        var error = await Assert.ThrowsAsync<DatabaseMigrationException>(() => app.StartAsync(Cancellation));

        Assert.Contains("Migration 0002_bad_syntax failed", error.Message);
        Assert.Contains("42601", error.Message);                       // syntax_error
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        Assert.Equal([1L], (await HistoryAsync(dataSource)).Select(r => r.Version));
    }

    [Fact]
    public async Task A_service_without_its_connection_string_does_not_start()
    {
        var builder = TestApp.CreateBuilder();
        builder.AddDatabaseMigrations("missingdb", [CreateAccounts]);
        await using var app = builder.Build();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => app.StartAsync(Cancellation));
        Assert.Contains("'ConnectionStrings:missingdb'", error.Message);
    }

    sealed record HistoryRow(long Version, string Name, string Checksum, DateTime AppliedAt);

    static async Task<List<HistoryRow>> HistoryAsync(NpgsqlDataSource dataSource)
    {
        var rows = new List<HistoryRow>();
        await using var command = dataSource.CreateCommand("SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version");
        await using var reader = await command.ExecuteReaderAsync(Cancellation);
        while (await reader.ReadAsync(Cancellation))
            rows.Add(new HistoryRow(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetDateTime(3)));
        return rows;
    }

    static async Task<List<string>> SideEffectsAsync(NpgsqlDataSource dataSource)
    {
        var rows = new List<string>();
        await using var command = dataSource.CreateCommand("SELECT migration FROM migration_side_effects ORDER BY migration");
        await using var reader = await command.ExecuteReaderAsync(Cancellation);
        while (await reader.ReadAsync(Cancellation))
            rows.Add(reader.GetString(0));
        return rows;
    }

    static async Task<T> ScalarAsync<T>(NpgsqlDataSource dataSource, string sql)
    {
        await using var command = dataSource.CreateCommand(sql);
        return (T)(await command.ExecuteScalarAsync(Cancellation))!;
    }
}
