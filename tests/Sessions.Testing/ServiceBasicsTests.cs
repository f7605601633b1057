using System.Net;
using System.Text.Json;
using Npgsql;
using Xunit;

namespace Sessions.Testing;

/// <summary>
/// What every service with a database must do, run against its own fresh database on the test PostgreSQL: health
/// including the database check, migrations applied at start-up, liveness, problem details, 503 when the database is
/// unreachable. A service's test project derives one class: <c>: ServiceBasicsTests&lt;Program&gt;(fixture, "gatedb", "paymentgate")</c>;
/// a service reachable from outside passes <paramref name="healthWithChecks"/> false: its report is the status alone.
/// </summary>
public abstract class ServiceBasicsTests<TProgram>(InfrastructureFixture infrastructure, string database, string serviceName,
    bool healthWithChecks = true) : IAsyncLifetime
    where TProgram : class
{
    string Database => database;
    const string DatabaseCheck = "PostgreSql";   // Aspire.Npgsql's health check
    string _connectionString = "";
    ServiceFactory<TProgram> _factory = null!;

    public async ValueTask InitializeAsync()
    {
        _connectionString = await infrastructure.CreateDatabaseAsync(Database);
        _factory = new ServiceFactory<TProgram>(new Dictionary<string, string?> { [$"ConnectionStrings:{Database}"] = _connectionString });
    }

    public ValueTask DisposeAsync() => _factory?.DisposeAsync() ?? ValueTask.CompletedTask;

    [Fact]
    public async Task Health_is_healthy_including_the_database_check()
    {
        using var response = await _factory.CreateClient().GetAsync("/health", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var report = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Equal("Healthy", report.RootElement.GetProperty("status").GetString());
        if (!healthWithChecks)
        {
            Assert.Single(report.RootElement.EnumerateObject());
            return;
        }
        var checks = report.RootElement.GetProperty("checks");
        Assert.Equal("Healthy", checks.GetProperty("self").GetProperty("status").GetString());
        Assert.Equal("Healthy", checks.GetProperty(DatabaseCheck).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Start_up_applies_the_migrations()
    {
        _ = _factory.Server;   // starting the host runs the migrations before it serves

        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using (var history = new NpgsqlCommand("SELECT version, name, length(checksum) FROM schema_migrations ORDER BY version", connection))
        await using (var reader = await history.ExecuteReaderAsync(TestContext.Current.CancellationToken))
        {
            Assert.True(await reader.ReadAsync(TestContext.Current.CancellationToken));
            Assert.Equal(1L, reader.GetInt64(0));
            Assert.Equal("init", reader.GetString(1));
            Assert.Equal(64, reader.GetInt32(2));   // hex SHA-256
        }
        await using var info = new NpgsqlCommand("SELECT value FROM service_info WHERE key = 'service'", connection);
        Assert.Equal(serviceName, await info.ExecuteScalarAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Alive_returns_200()
    {
        using var response = await _factory.CreateClient().GetAsync("/alive", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Unknown_route_is_a_404_problem()
    {
        using var response = await _factory.CreateClient().GetAsync("/no/such/route", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Equal(404, problem.RootElement.GetProperty("status").GetInt32());
        Assert.True(problem.RootElement.TryGetProperty("traceId", out _));
    }

    [Fact]
    public async Task Health_is_unhealthy_with_503_when_the_database_is_unreachable()
    {
        // Start-up needs the database (migrations run before the app serves), and the data source binds its connection
        // string at registration, so the host starts against the real one; then Postgres stops accepting connections to
        // this database and drops the open ones (the pool's included).
        var client = _factory.CreateClient();
        await RefuseConnectionsAsync();

        using var response = await client.GetAsync("/health", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        using var report = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Equal("Unhealthy", report.RootElement.GetProperty("status").GetString());
        if (healthWithChecks)
        {
            var checks = report.RootElement.GetProperty("checks");
            Assert.Equal("Unhealthy", checks.GetProperty(DatabaseCheck).GetProperty("status").GetString());
            // A new connection refused, or (a background worker such as the ledger chainer had just returned one to the pool) a
            // pooled one found terminated: both say the database is gone for this service.
            var description = checks.GetProperty(DatabaseCheck).GetProperty("description").GetString();
            Assert.True(description!.Contains("not currently accepting connections") || description.Contains("57P01"), description);
            Assert.Equal("Healthy", checks.GetProperty("self").GetProperty("status").GetString());
        }
        else
            Assert.Single(report.RootElement.EnumerateObject());   // the database check counts, its details stay inside

        // Liveness leaves the database out: the process is fine, only not ready.
        using var alive = await client.GetAsync("/alive", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, alive.StatusCode);
    }

    async Task RefuseConnectionsAsync()
    {
        var target = new NpgsqlConnectionStringBuilder(_connectionString);
        var admin = new NpgsqlConnectionStringBuilder(_connectionString) { Database = "postgres", Pooling = false };
        await using var connection = new NpgsqlConnection(admin.ConnectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = new NpgsqlCommand(
            $"ALTER DATABASE \"{target.Database}\" WITH ALLOW_CONNECTIONS false; " +
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = @database", connection);
        command.Parameters.AddWithValue("database", target.Database!);
        await command.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
    }
}
