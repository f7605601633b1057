using System.Diagnostics;

namespace Sessions.AppHost.Servers;

/// <summary>
/// Finds and runs the Debian server binaries: <c>redis-server</c> on PATH, PostgreSQL's in <c>/usr/lib/postgresql/&lt;v&gt;/bin</c>
/// (off PATH; DCP only runs full paths or PATH commands). PostgreSQL refuses to run as root, so as root it runs as the
/// <c>postgres</c> system user through <c>setpriv</c>, which execs in place (DCP's pid is the server's).
/// </summary>
static class ServerExecutables
{
    public const string RedisHint = "Install it with: apt-get install -y redis-server (or run bash AppHost/run.sh).";
    public const string PostgresHint = "Install it with: apt-get install -y postgresql (or run bash AppHost/run.sh).";
    const string PostgresUser = "postgres";

    public static bool IsRoot => OperatingSystem.IsLinux() && Environment.UserName == "root";

    public static string Find(string name, string hint)
    {
        var path = Environment.GetEnvironmentVariable("PATH")?.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries) ?? [];
        var postgresBins = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").OrderByDescending(d => int.TryParse(Path.GetFileName(d), out var v) ? v : 0).Select(d => Path.Combine(d, "bin"))
            : [];
        return path.Concat(postgresBins).Concat(["/usr/sbin", "/usr/bin", "/usr/local/bin"])
            .Select(directory => Path.Combine(directory, name))
            .FirstOrDefault(File.Exists)
            ?? throw new DistributedApplicationException($"'{name}' was not found on PATH or in /usr/lib/postgresql/*/bin. {hint}");
    }

    /// <summary>The command and leading arguments that run a PostgreSQL binary as a user it accepts.</summary>
    public static (string Command, string[] Prefix) AsPostgresUser(string binary) => IsRoot
        ? (Find("setpriv", PostgresHint), [$"--reuid={PostgresUser}", $"--regid={PostgresUser}", "--init-groups", "--", binary])
        : (binary, []);

    /// <summary><c>initdb</c> when the folder holds no cluster yet (scram-sha-256, the password of the resource).</summary>
    public static async Task InitializePostgresAsync(string dataDirectory, string password, bool ephemeral, CancellationToken cancellationToken)
    {
        if (File.Exists(Path.Combine(dataDirectory, "PG_VERSION"))) return;
        Directory.CreateDirectory(dataDirectory);
        var passwordFile = Path.Combine(Path.GetTempPath(), $"pgpw-{Guid.NewGuid():N}");
        await File.WriteAllTextAsync(passwordFile, password, cancellationToken);
        try
        {
            if (OperatingSystem.IsLinux() && IsRoot)
            {
                File.SetUnixFileMode(passwordFile, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);
                await RunAsync("chown", ["-R", $"{PostgresUser}:{PostgresUser}", dataDirectory], cancellationToken);
            }
            var (command, prefix) = AsPostgresUser(Find("initdb", PostgresHint));
            string[] args = [.. prefix, "-D", dataDirectory, "-U", LocalPostgresResource.UserName, "--auth=scram-sha-256",
                $"--pwfile={passwordFile}", "-E", "UTF8", "--locale=C", .. ephemeral ? new[] { "--no-sync" } : []];
            await RunAsync(command, args, cancellationToken);
        }
        finally
        {
            File.Delete(passwordFile);
        }
    }

    static async Task RunAsync(string command, IEnumerable<string> args, CancellationToken cancellationToken)
    {
        var startInfo = new ProcessStartInfo(command) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args) startInfo.ArgumentList.Add(arg);
        using var process = Process.Start(startInfo)!;
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0)
            throw new DistributedApplicationException($"{Path.GetFileName(command)} {string.Join(' ', startInfo.ArgumentList)} failed ({process.ExitCode}): {await output}{await error}");
    }

    /// <summary>
    /// A free loopback port for a server that listens directly (no DCP proxy in front of every query), picked below the
    /// kernel's ephemeral range (32768+): a port taken from that range at build time can be an outgoing connection's
    /// by the time the server binds it, seconds later.
    /// </summary>
    public static int FreePort()
    {
        for (var attempt = 0; ; attempt++)
        {
            var port = Random.Shared.Next(20000, 32000);
            try
            {
                using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, port);
                listener.Start();
                return port;
            }
            catch (System.Net.Sockets.SocketException) when (attempt < 100)
            {
            }
        }
    }
}
