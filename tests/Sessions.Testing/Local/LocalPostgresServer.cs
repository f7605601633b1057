using Npgsql;

namespace Sessions.Testing.Local;

public sealed record LocalPostgresOptions
{
    public required string DataDirectory { get; init; }
    public int? Port { get; init; }
    public required string Password { get; init; }
    public string UserName { get; init; } = "postgres";
    /// <summary>Trade durability for speed (fsync off): for throw-away test servers only.</summary>
    public bool Ephemeral { get; init; }
    public Action<string, bool>? OnOutput { get; init; }
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(30);
}

/// <summary>
/// A PostgreSQL server run from the Debian binaries: <c>initdb</c> on first use, then <c>postgres</c> in the
/// foreground (so its pid is ours to stop), TCP on 127.0.0.1 only. PostgreSQL refuses to run as root, so as
/// root it runs as the <c>postgres</c> system user.
/// </summary>
public sealed class LocalPostgresServer : IAsyncDisposable
{
    public const string InstallHint = "Install it with: apt-get install -y postgresql";
    const string SystemUser = "postgres";

    LocalPostgresServer(ManagedProcess process, int port, string password)
    {
        Process = process;
        Port = port;
        Password = password;
    }

    public ManagedProcess Process { get; }
    public int Port { get; }
    public string Password { get; }

    /// <summary>Aspire's server connection string; a database adds <c>;Database=name</c>.</summary>
    public string ConnectionString => $"Host=127.0.0.1;Port={Port};Username=postgres;Password={Password}";

    public string ConnectionStringFor(string database) => $"{ConnectionString};Database={database}";

    static string? RunAs => ManagedProcess.IsRoot ? SystemUser : null;

    /// <summary>Runs initdb when the data directory holds no cluster yet.</summary>
    public static async Task InitializeAsync(LocalPostgresOptions options, CancellationToken cancellationToken = default)
    {
        var dataDir = Path.GetFullPath(options.DataDirectory);
        if (File.Exists(Path.Combine(dataDir, "PG_VERSION"))) return;

        Directory.CreateDirectory(dataDir);
        var pwFile = Path.Combine(Path.GetTempPath(), $"pgpw-{Guid.NewGuid():N}");
        await File.WriteAllTextAsync(pwFile, options.Password, cancellationToken).ConfigureAwait(false);
        try
        {
            if (RunAs is { } user && !OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(pwFile, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
                await RunToCompletionAsync(new ProcessSpec("chown", "chown", ["-R", $"{user}:{user}", dataDir]), cancellationToken).ConfigureAwait(false);
            }
            var args = new List<string> { "-D", dataDir, "-U", options.UserName, "--auth=scram-sha-256", $"--pwfile={pwFile}", "-E", "UTF8", "--locale=C" };
            if (options.Ephemeral) args.Add("--no-sync");
            var initdb = ExecutableLocator.Find("initdb", InstallHint);
            await RunToCompletionAsync(new ProcessSpec("initdb", initdb, args) { RunAsUser = RunAs, OnOutput = options.OnOutput }, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            File.Delete(pwFile);
        }
    }

    public static ProcessSpec CreateSpec(LocalPostgresOptions options, int port)
    {
        var args = new List<string>
        {
            "-D", Path.GetFullPath(options.DataDirectory), "-p", port.ToString(),
            // Both loopbacks, so that "localhost" works whichever address a client tries first.
            "-c", "listen_addresses=localhost",
            // TCP only: a Unix socket path can exceed the 107-byte limit in deep folders.
            "-c", "unix_socket_directories=",
            "-c", "max_connections=300",
        };
        if (options.Ephemeral) args.AddRange(["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]);
        return new ProcessSpec("postgres", ExecutableLocator.Find("postgres", InstallHint), args)
        {
            RunAsUser = RunAs,
            OnOutput = options.OnOutput,
            // Postgres reads PGDATA and friends; never let the parent's leak in.
            RemoveEnvironment = ["PGDATA", "PGPORT", "PGHOST"],
            // SIGINT is PostgreSQL's "fast" shutdown (SIGTERM waits for clients to disconnect), as Docker's image uses.
            StopSignal = ManagedProcess.SigInt,
        };
    }

    public static async Task<LocalPostgresServer> StartAsync(LocalPostgresOptions options, CancellationToken cancellationToken = default)
    {
        await InitializeAsync(options, cancellationToken).ConfigureAwait(false);
        var port = options.Port ?? PortAllocator.GetFreePort();
        var process = ManagedProcess.Start(CreateSpec(options, port));
        var server = new LocalPostgresServer(process, port, options.Password);
        try
        {
            await server.WaitUntilReadyAsync(options.StartTimeout, cancellationToken).ConfigureAwait(false);
            return server;
        }
        catch
        {
            await process.StopAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
            throw;
        }
    }

    public async Task WaitUntilReadyAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var deadline = DateTime.UtcNow + timeout;
        await PortAllocator.WaitForListenerAsync(Port, Process, timeout, cancellationToken).ConfigureAwait(false);
        while (!await IsReadyAsync(ConnectionString, cancellationToken).ConfigureAwait(false))
        {
            if (Process.HasExited) throw new InvalidOperationException($"postgres exited with code {Process.Exited.Result}.");
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"postgres on port {Port} was not ready within {timeout}.");
            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }
    }

    public static async Task<bool> IsReadyAsync(string connectionString, CancellationToken cancellationToken = default)
    {
        try
        {
            var builder = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false, Timeout = 2 };
            await using var connection = new NpgsqlConnection(builder.ConnectionString);
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var command = new NpgsqlCommand("SELECT 1", connection);
            await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or IOException && !cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>CREATE DATABASE, ignoring "already exists" (SQLSTATE 42P04), as Aspire does.</summary>
    public static async Task CreateDatabaseAsync(string serverConnectionString, string database, CancellationToken cancellationToken = default)
    {
        var builder = new NpgsqlConnectionStringBuilder(serverConnectionString) { Pooling = false };
        await using var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand($"CREATE DATABASE \"{database.Replace("\"", "\"\"")}\"", connection);
        try
        {
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.DuplicateDatabase)
        {
        }
    }

    public Task CreateDatabaseAsync(string database, CancellationToken cancellationToken = default)
        => CreateDatabaseAsync(ConnectionString, database, cancellationToken);

    static async Task RunToCompletionAsync(ProcessSpec spec, CancellationToken cancellationToken)
    {
        var output = new List<string>();
        var process = ManagedProcess.Start(spec with
        {
            OnOutput = (line, isError) => { lock (output) output.Add(line); spec.OnOutput?.Invoke(line, isError); },
        });
        var exitCode = await process.Exited.WaitAsync(cancellationToken).ConfigureAwait(false);
        if (exitCode != 0)
            throw new InvalidOperationException($"{spec.Name} failed with exit code {exitCode}:{Environment.NewLine}{string.Join(Environment.NewLine, output)}");
    }

    public Task<int> StopAsync(TimeSpan? timeout = null) => Process.StopAsync(timeout ?? TimeSpan.FromSeconds(10));

    public ValueTask DisposeAsync() => new(StopAsync());
}
