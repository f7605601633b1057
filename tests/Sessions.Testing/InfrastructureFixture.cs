using Sessions.Testing.Local;
using Xunit;

namespace Sessions.Testing;

/// <summary>
/// Real <c>redis-server</c> and PostgreSQL processes on free loopback ports, shared by one test assembly
/// (<c>[assembly: AssemblyFixture(typeof(InfrastructureFixture))]</c>) and always stopped at the end.
/// Each test class asks for its own database with <see cref="CreateDatabaseAsync"/>, so tests never see
/// each other's rows. Files live under <c>$SESSIONS_TEST_ROOT</c> (the test script sets it) or the temp folder.
/// </summary>
public sealed class InfrastructureFixture : IAsyncLifetime
{
    readonly string _root = Path.Combine(
        Environment.GetEnvironmentVariable("SESSIONS_TEST_ROOT") ?? Path.Combine(Path.GetTempPath(), "sessions-tests"),
        $"{Environment.ProcessId}-{Guid.NewGuid():N}"[..16]);

    LocalRedisServer? _redis;
    LocalPostgresServer? _postgres;
    int _databaseCounter;

    public LocalRedisServer Redis => _redis ?? throw new InvalidOperationException("Redis is not started.");
    public LocalPostgresServer Postgres => _postgres ?? throw new InvalidOperationException("Postgres is not started.");

    /// <summary>Aspire-format Redis connection string (<c>127.0.0.1:port</c>).</summary>
    public string RedisConnectionString => Redis.ConnectionString;

    public async ValueTask InitializeAsync()
    {
        // Children of a test run that was killed earlier would hold ports and memory; stop them first.
        ProcessRegistry.ReapOrphans();
        Directory.CreateDirectory(_root);
        var redis = LocalRedisServer.StartAsync(new LocalRedisOptions());
        var postgres = LocalPostgresServer.StartAsync(new LocalPostgresOptions
        {
            DataDirectory = Path.Combine(_root, "pg"),
            Password = "test-" + Guid.NewGuid().ToString("N")[..12],
            Ephemeral = true,
        });
        try
        {
            _redis = await redis;
            _postgres = await postgres;
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    /// <summary>Creates a fresh database and returns its Aspire-format connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string prefix = "test")
    {
        var name = $"{prefix}_{Interlocked.Increment(ref _databaseCounter)}_{Guid.NewGuid():N}"[..Math.Min(60, prefix.Length + 20)].ToLowerInvariant();
        await Postgres.CreateDatabaseAsync(name);
        return Postgres.ConnectionStringFor(name);
    }

    public async ValueTask DisposeAsync()
    {
        var stops = new List<Task>();
        if (_redis is not null) stops.Add(_redis.StopAsync());
        if (_postgres is not null) stops.Add(_postgres.StopAsync());
        await Task.WhenAll(stops);
        try { Directory.Delete(_root, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
