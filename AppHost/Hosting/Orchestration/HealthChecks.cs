using System.Net.Sockets;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;
using Sessions.Hosting.ApplicationModel;
using Sessions.Hosting.Local;

namespace Sessions.Hosting.Orchestration;

/// <summary>Healthy when GET answers the expected status code (<c>WithHttpHealthCheck</c>).</summary>
internal sealed class HttpHealthCheck(Func<Uri> uri, int expectedStatusCode) : IHealthCheck
{
    static readonly HttpClient Client = new(new SocketsHttpHandler
    {
        ConnectTimeout = TimeSpan.FromSeconds(2),
        PooledConnectionLifetime = TimeSpan.FromMinutes(1),
    })
    {
        Timeout = TimeSpan.FromSeconds(5),
    };

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var target = uri();
        try
        {
            using var response = await Client.GetAsync(target, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            return (int)response.StatusCode == expectedStatusCode
                ? HealthCheckResult.Healthy()
                : HealthCheckResult.Unhealthy($"GET {target} answered {(int)response.StatusCode}, expected {expectedStatusCode}.");
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy($"GET {target} failed: {e.Message}", e);
        }
    }
}

/// <summary>Healthy when the server answers PING (after AUTH when it has a password).</summary>
internal sealed class RedisPingHealthCheck(RedisResource redis) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        => await LocalRedisServer.PingAsync(redis.PrimaryEndpoint.Port, redis.PasswordParameter?.Value, cancellationToken).ConfigureAwait(false)
            ? HealthCheckResult.Healthy()
            : HealthCheckResult.Unhealthy("No PONG.");
}

/// <summary>
/// Healthy when the server accepts connections and its databases exist: the first successful check creates
/// them (<c>CREATE DATABASE</c>, "already exists" ignored), as Aspire does when the server becomes ready.
/// </summary>
internal sealed class PostgresServerHealthCheck(PostgresServerResource postgres) : IHealthCheck
{
    bool _databasesCreated;

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var connectionString = await postgres.ConnectionStringExpression.GetValueAsync(cancellationToken).ConfigureAwait(false);
        var result = await PostgresProbe.ConnectAsync(connectionString!, cancellationToken).ConfigureAwait(false);
        if (result.Status != HealthStatus.Healthy || _databasesCreated) return result;

        foreach (var database in postgres.Databases.Values)
            await LocalPostgresServer.CreateDatabaseAsync(connectionString!, database, cancellationToken).ConfigureAwait(false);
        _databasesCreated = true;
        return result;
    }
}

/// <summary>Healthy when the database accepts connections.</summary>
internal sealed class PostgresDatabaseHealthCheck(PostgresDatabaseResource database) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var connectionString = await database.ConnectionStringExpression.GetValueAsync(cancellationToken).ConfigureAwait(false);
        return await PostgresProbe.ConnectAsync(connectionString!, cancellationToken).ConfigureAwait(false);
    }
}

static class PostgresProbe
{
    public static async Task<HealthCheckResult> ConnectAsync(string connectionString, CancellationToken cancellationToken)
    {
        try
        {
            var builder = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false, Timeout = 3 };
            await using var connection = new NpgsqlConnection(builder.ConnectionString);
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var command = new NpgsqlCommand("SELECT 1", connection);
            await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
            return HealthCheckResult.Healthy();
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InvalidPassword)
        {
            return HealthCheckResult.Unhealthy(
                "Password authentication failed: the data volume was created with another password (was parameters.json deleted?). Run the AppHost with --reset-state.", e);
        }
        catch (Exception e) when (e is NpgsqlException or SocketException or IOException or TimeoutException && !cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy(e.Message, e);
        }
    }
}
