using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Sessions.Testing.Local;

public sealed record LocalRedisOptions
{
    public int? Port { get; init; }
    public string? Password { get; init; }
    /// <summary>
    /// When set, data is persisted there (append-only file, fsync'd before each reply, as the AppHost runs it), like a container
    /// volume; otherwise nothing is saved.
    /// </summary>
    public string? DataDirectory { get; init; }
    public Action<string, bool>? OnOutput { get; init; }
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(15);
}

/// <summary>A <c>redis-server</c> process bound to 127.0.0.1.</summary>
public sealed class LocalRedisServer : IAsyncDisposable
{
    public const string InstallHint = "Install it with: apt-get install -y redis-server";

    LocalRedisServer(ManagedProcess process, int port, string? password)
    {
        Process = process;
        Port = port;
        Password = password;
    }

    public ManagedProcess Process { get; }
    public int Port { get; }
    public string? Password { get; }

    /// <summary>Aspire's Redis connection string format: <c>host:port[,password=...]</c>.</summary>
    public string ConnectionString => Password is null ? $"127.0.0.1:{Port}" : $"127.0.0.1:{Port},password={Password}";

    public static ProcessSpec CreateSpec(LocalRedisOptions options, int port)
    {
        // Both loopbacks, so that "localhost" (Aspire's host name in connection strings) works whichever
        // address a client tries first; "-" makes ::1 optional where IPv6 is off.
        var args = new List<string> { "--port", port.ToString(), "--bind", "127.0.0.1", "-::1", "--protected-mode", "no" };
        if (options.DataDirectory is { } dir)
        {
            Directory.CreateDirectory(dir);
            args.AddRange(["--dir", dir, "--appendonly", "yes", "--appendfsync", "always", "--save", ""]);
        }
        else
        {
            args.AddRange(["--save", "", "--appendonly", "no"]);
        }
        if (options.Password is { } password) args.AddRange(["--requirepass", password]);
        return new ProcessSpec("redis", ExecutableLocator.Find("redis-server", InstallHint), args) { OnOutput = options.OnOutput };
    }

    public static async Task<LocalRedisServer> StartAsync(LocalRedisOptions options, CancellationToken cancellationToken = default)
    {
        var port = options.Port ?? PortAllocator.GetFreePort();
        var process = ManagedProcess.Start(CreateSpec(options, port));
        var server = new LocalRedisServer(process, port, options.Password);
        try
        {
            await server.WaitUntilReadyAsync(options.StartTimeout, cancellationToken).ConfigureAwait(false);
            return server;
        }
        catch
        {
            await process.StopAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Waits until the server answers PING with PONG (it answers LOADING while reading its data).</summary>
    public async Task WaitUntilReadyAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var deadline = DateTime.UtcNow + timeout;
        await PortAllocator.WaitForListenerAsync(Port, Process, timeout, cancellationToken).ConfigureAwait(false);
        while (!await PingAsync(Port, Password, cancellationToken).ConfigureAwait(false))
        {
            if (Process.HasExited) throw new InvalidOperationException($"redis-server exited with code {Process.Exited.Result}.");
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"redis-server on port {Port} did not answer PING within {timeout}.");
            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>One raw PING over a fresh connection: used for readiness, independent of any client library.</summary>
    public static async Task<bool> PingAsync(int port, string? password, CancellationToken cancellationToken = default)
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, port, cancellationToken).ConfigureAwait(false);
            var stream = client.GetStream();
            var command = password is null ? "PING\r\n" : $"AUTH {password}\r\nPING\r\n";
            await stream.WriteAsync(Encoding.ASCII.GetBytes(command), cancellationToken).ConfigureAwait(false);
            var buffer = new byte[256];
            var text = "";
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(2));
            while (!text.Contains("PONG") && !text.Contains('-'))
            {
                var n = await stream.ReadAsync(buffer, timeout.Token).ConfigureAwait(false);
                if (n == 0) break;
                text += Encoding.ASCII.GetString(buffer, 0, n);
            }
            return text.Contains("+PONG");
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    public Task<int> StopAsync(TimeSpan? timeout = null) => Process.StopAsync(timeout ?? TimeSpan.FromSeconds(5));

    public ValueTask DisposeAsync() => Process.DisposeAsync();
}
