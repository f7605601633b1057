using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Sessions.ServiceDefaults.Payers;
using Sessions.Testing;
using Sessions.Testing.Local;

namespace Chaos.Tests;

/// <summary>A process of the money path that the chaos test kills.</summary>
public enum Victim { Gate, SessionApi, Redis, Postgres }

/// <summary>
/// The money path as separate OS processes on loopback, so that SIGKILL is real: redis-server durable as the AppHost runs it
/// (append-only file, <c>appendfsync always</c>), postgres with fsync on, SessionApi and the gate from their own build output
/// (<c>dotnet &lt;Service&gt;.dll</c>), and an upstream in this process that answers with the request id the gate signed
/// into the payer context (the key of the request's debit in SessionApi's ledger: <c>debit:&lt;request id&gt;</c>).
/// Every process keeps its port across restarts; all are registered for cleanup (<see cref="ProcessRegistry"/>).
/// </summary>
public sealed class ChaosStack : IAsyncDisposable
{
    public const string AdminKey = "chaos-admin-key-0123456789abcdef";
    const string SigningKey = "chaos-payer-context-key-0123456789abcdef";
    const string MppChallengeKey = "chaos-mpp-challenge-key-0123456789abcdef";
    /// <summary>Longer than the gate's confirm patience (10 s), so that a hold is swept only when its gate is gone.</summary>
    public static readonly TimeSpan HoldTimeout = TimeSpan.FromSeconds(15);

    readonly string _root;
    readonly string _postgresPassword = "chaos-" + Guid.NewGuid().ToString("N")[..12];
    readonly int _redisPort = PortAllocator.GetFreePort();
    readonly int _postgresPort = PortAllocator.GetFreePort();
    readonly int _gatePort = PortAllocator.GetFreePort();
    readonly int _sessionApiPort = PortAllocator.GetFreePort();
    // The last lines of every process, for the failure message.
    readonly ConcurrentQueue<string> _log = new();
    LoopbackServer _upstream = null!;
    LocalRedisServer? _redis;
    LocalPostgresServer? _postgres;
    ManagedProcess? _gate;
    ManagedProcess? _sessionApi;

    ChaosStack(string root) => _root = root;

    public string GateUrl => $"http://127.0.0.1:{_gatePort}";
    public string SessionApiUrl => $"http://127.0.0.1:{_sessionApiPort}";
    public string RedisConnectionString => $"127.0.0.1:{_redisPort},abortConnect=false";
    public string SessionsDatabase => Database("sessionsdb");
    public string GateDatabase => Database("gatedb");
    /// <summary>Requests the upstream answered (each with its request id).</summary>
    public int UpstreamCalls => _upstreamCalls;
    int _upstreamCalls;

    string Database(string name) => $"Host=127.0.0.1;Port={_postgresPort};Username=postgres;Password={_postgresPassword};Database={name}";

    public static async Task<ChaosStack> StartAsync(CancellationToken cancellationToken)
    {
        ProcessRegistry.ReapOrphans();
        var root = Path.Combine(Environment.GetEnvironmentVariable("SESSIONS_TEST_ROOT") ?? Path.Combine(Path.GetTempPath(), "sessions-tests"),
            $"chaos-{Environment.ProcessId}-{Guid.NewGuid():N}"[..24]);
        Directory.CreateDirectory(root);
        var stack = new ChaosStack(root);
        try
        {
            stack._upstream = await LoopbackServer.StartAsync(stack.MapUpstream);
            await stack.StartAsync(Victim.Redis, cancellationToken);
            await stack.StartAsync(Victim.Postgres, cancellationToken);
            await LocalPostgresServer.CreateDatabaseAsync(stack._postgres!.ConnectionString, "sessionsdb", cancellationToken);
            await LocalPostgresServer.CreateDatabaseAsync(stack._postgres.ConnectionString, "gatedb", cancellationToken);
            await stack.StartAsync(Victim.SessionApi, cancellationToken);
            await stack.StartAsync(Victim.Gate, cancellationToken);
            return stack;
        }
        catch
        {
            await stack.DisposeAsync();
            throw;
        }
    }

    /// <summary>SIGKILL: no shutdown hook, no flush; what was not durable is gone.</summary>
    public async Task KillAsync(Victim victim)
    {
        var process = ProcessOf(victim) ?? throw new InvalidOperationException($"{victim} is not running.");
        Process.GetProcessById(process.Id).Kill();
        await process.Exited.WaitAsync(TimeSpan.FromSeconds(10));
        Note($"== {victim} killed (pid {process.Id})");
    }

    /// <summary>Starts the process again on its port and data, and waits until it serves.</summary>
    public async Task StartAsync(Victim victim, CancellationToken cancellationToken)
    {
        switch (victim)
        {
            case Victim.Redis:
                _redis = await LocalRedisServer.StartAsync(new LocalRedisOptions
                {
                    Port = _redisPort, DataDirectory = Path.Combine(_root, "redis"), OnOutput = Output("redis"),
                }, cancellationToken);
                break;
            case Victim.Postgres:
                _postgres = await StartPostgresAsync(cancellationToken);
                break;
            case Victim.SessionApi:
                _sessionApi = await StartServiceAsync("SessionApi", _sessionApiPort, new()
                {
                    ["ConnectionStrings__sessionsdb"] = SessionsDatabase,
                    ["ConnectionStrings__redis"] = RedisConnectionString,
                    ["SessionApi__AdminKey"] = AdminKey,
                }, cancellationToken);
                break;
            case Victim.Gate:
                _gate = await StartServiceAsync("PaymentGate", _gatePort, new()
                {
                    ["ConnectionStrings__gatedb"] = GateDatabase,
                    // Owed voids (a confirm unanswered while Redis was down) are applied soon after Redis is back.
                    ["Gate__Compensations__Interval"] = "00:00:01",
                    ["Gate__Compensations__MaxBackoff"] = "00:00:02",
                    ["ConnectionStrings__redis"] = RedisConnectionString,
                    ["services__sessionapi__http__0"] = SessionApiUrl,
                    ["services__mcpserver__http__0"] = _upstream.Url,
                    ["Gate__Mpp__ChallengeKey"] = MppChallengeKey,
                    ["Gate__Sessions__HoldTimeout"] = HoldTimeout.ToString(),
                }, cancellationToken);
                break;
        }
        Note($"== {victim} started (pid {ProcessOf(victim)!.Id})");
    }

    ManagedProcess? ProcessOf(Victim victim) => victim switch
    {
        Victim.Gate => _gate,
        Victim.SessionApi => _sessionApi,
        Victim.Redis => _redis?.Process,
        _ => _postgres?.Process,
    };

    // The backends of a postmaster killed by SIGKILL notice its death on their own and exit; until they have, a new postmaster
    // refuses the data folder (its shared memory is still in use): start again until it comes up.
    async Task<LocalPostgresServer> StartPostgresAsync(CancellationToken cancellationToken)
    {
        var options = new LocalPostgresOptions
        {
            DataDirectory = Path.Combine(_root, "pg"), Port = _postgresPort, Password = _postgresPassword, OnOutput = Output("postgres"),
        };
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await LocalPostgresServer.StartAsync(options, cancellationToken);
            }
            catch (InvalidOperationException) when (attempt < 60)
            {
                await Task.Delay(500, cancellationToken);
            }
        }
    }

    async Task<ManagedProcess> StartServiceAsync(string service, int port, Dictionary<string, string> settings, CancellationToken cancellationToken)
    {
        var folder = ServiceFolder(service);
        var environment = new Dictionary<string, string>(settings)
        {
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}",
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["DOTNET_ENVIRONMENT"] = "Development",
            ["PayerContext__SigningKey"] = SigningKey,
            ["Logging__LogLevel__Default"] = "Warning",
        };
        var process = ManagedProcess.Start(new ProcessSpec(service, "dotnet", [Path.Combine(folder, service + ".dll")])
        {
            WorkingDirectory = folder,
            Environment = environment,
            RemoveEnvironment = ["OTEL_EXPORTER_OTLP_ENDPOINT", "ASPNETCORE_HOSTINGSTARTUPASSEMBLIES"],
            OnOutput = Output(service),
        });
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (true)
        {
            if (process.HasExited)
                throw new InvalidOperationException($"{service} exited with code {process.Exited.Result}:\n{Tail()}");
            try
            {
                using var health = await http.GetAsync($"http://127.0.0.1:{port}/health", cancellationToken);
                if (health.IsSuccessStatusCode)
                    return process;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested) { }
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"{service} was not healthy within 90 s:\n{Tail()}");
            await Task.Delay(100, cancellationToken);
        }
    }

    /// <summary><c>&lt;repo&gt;/&lt;Service&gt;/bin/&lt;configuration&gt;/net10.0</c>, built with this project (it references the services).</summary>
    static string ServiceFolder(string service)
    {
        var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
        var repo = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(repo, "Sessions.sln")))
            repo = Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(repo)) ?? throw new InvalidOperationException("Sessions.sln not found above the test assembly.");
        var folder = Path.Combine(repo, service, "bin", configuration, "net10.0");
        return File.Exists(Path.Combine(folder, service + ".dll")) ? folder : throw new FileNotFoundException($"{service} is not built in {folder}.");
    }

    // The upstream of GET /api/content/{key}: answers the request id of the payer context the gate signed, after a few
    // milliseconds, so that requests are in flight (held, not yet confirmed) whenever a process dies; keys "fail..." answer
    // 500 (the gate must release their holds: not delivered, not charged).
    void MapUpstream(WebApplication app)
    {
        var signer = new PayerContextSigner(Options.Create(new PayerContextOptions { SigningKey = SigningKey }), TimeProvider.System);
        app.MapGet("/api/content/{**key}", async (HttpContext context, string key) =>
        {
            if (!signer.TryVerify(context.Request.Headers[PayerContextSigner.HeaderName], out var payer, out var error) || payer!.RequestId is null)
                return Results.Problem(statusCode: 401, title: error ?? "no request id");
            await Task.Delay(Random.Shared.Next(1, 8));
            Interlocked.Increment(ref _upstreamCalls);
            return key.StartsWith("fail", StringComparison.Ordinal) ? Results.Problem(statusCode: 500, title: "upstream broke")
                : Results.Json(new { requestId = payer.RequestId });
        });
    }

    Action<string, bool> Output(string name) => (line, _) => Note($"[{name}] {line}");

    void Note(string line)
    {
        _log.Enqueue(line);
        while (_log.Count > 300 && _log.TryDequeue(out _)) { }
    }

    /// <summary>The last lines the processes wrote (and the kills and starts), for a failure message.</summary>
    public string Tail() => string.Join('\n', _log);

    public async ValueTask DisposeAsync()
    {
        var stops = new List<Task>();
        if (_gate is not null) stops.Add(_gate.StopAsync(TimeSpan.FromSeconds(5)));
        if (_sessionApi is not null) stops.Add(_sessionApi.StopAsync(TimeSpan.FromSeconds(5)));
        await Task.WhenAll(stops);
        if (_redis is not null) await _redis.StopAsync();
        if (_postgres is not null) await _postgres.StopAsync();
        if (_upstream is not null) await _upstream.DisposeAsync();
        try { Directory.Delete(_root, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
