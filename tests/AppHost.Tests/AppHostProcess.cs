using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;

namespace AppHost.Tests;

/// <summary>The real AppHost (<c>dotnet AppHost.dll</c>) as a child process, with its console output parsed.</summary>
internal sealed partial class AppHostProcess : IAsyncDisposable
{
    readonly Process _process;
    readonly List<string> _lines = [];

    AppHostProcess(Process process) => _process = process;

    public int Id => _process.Id;
    public bool HasExited => _process.HasExited;
    public int ExitCode => _process.ExitCode;

    /// <summary>
    /// <c>dotnet AppHost.dll</c> from the AppHost's own build output, with the http launch profile's dashboard settings on
    /// free ports (what <c>dotnet run --project AppHost</c> reads from Properties/launchSettings.json).
    /// </summary>
    public static AppHostProcess Start(params string[] args)
    {
        // The generated class names the AppHost project folder (other projects: their .csproj).
        var project = Projects.AppHost.ProjectPath.EndsWith(".csproj", StringComparison.Ordinal) ? Path.GetDirectoryName(Projects.AppHost.ProjectPath)! : Projects.AppHost.ProjectPath;
        var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
        var startInfo = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = project,
        };
        startInfo.ArgumentList.Add(Path.Combine(project, "bin", configuration, "net10.0", "AppHost.dll"));
        foreach (var arg in args) startInfo.ArgumentList.Add(arg);
        startInfo.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        startInfo.Environment["DOTNET_ENVIRONMENT"] = "Development";
        startInfo.Environment["ASPIRE_ALLOW_UNSECURED_TRANSPORT"] = "true";
        startInfo.Environment["ASPNETCORE_URLS"] = $"http://localhost:{FreePort()}";
        startInfo.Environment["ASPIRE_DASHBOARD_OTLP_HTTP_ENDPOINT_URL"] = $"http://localhost:{FreePort()}";
        startInfo.Environment["ASPIRE_RESOURCE_SERVICE_ENDPOINT_URL"] = $"http://localhost:{FreePort()}";
        var process = new AppHostProcess(Process.Start(startInfo)!);
        process._process.OutputDataReceived += (_, e) => process.Add(e.Data);
        process._process.ErrorDataReceived += (_, e) => process.Add(e.Data);
        process._process.BeginOutputReadLine();
        process._process.BeginErrorReadLine();
        return process;
    }

    static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    void Add(string? line)
    {
        if (line is null) return;
        lock (_lines) _lines.Add(line);
    }

    public string Output
    {
        get { lock (_lines) return string.Join(Environment.NewLine, _lines); }
    }

    /// <summary>Waits until <paramref name="condition"/> holds; fails with the output so far.</summary>
    public async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (_process.HasExited) throw new Xunit.Sdk.XunitException($"The AppHost exited ({_process.ExitCode}) before {what}.{Environment.NewLine}{Output}");
            if (DateTime.UtcNow > deadline) throw new Xunit.Sdk.XunitException($"Timed out after {timeout.TotalSeconds:0} s waiting for {what}.{Environment.NewLine}{Output}");
            await Task.Delay(100);
        }
    }

    public bool HasLine(Func<string, bool> predicate)
    {
        lock (_lines) return _lines.Any(predicate);
    }

    public sealed record Row(string Name, string Type, string State, string Health, string Endpoint, int? Pid);

    /// <summary>The last resource table printed, by resource name (empty before the first one).</summary>
    public IReadOnlyDictionary<string, Row> LastTable()
    {
        string[] lines;
        lock (_lines) lines = _lines.ToArray();
        var start = Array.FindLastIndex(lines, l => l.StartsWith("Resources (", StringComparison.Ordinal));
        var rows = new Dictionary<string, Row>();
        if (start < 0) return rows;
        foreach (var line in lines.Skip(start + 2).TakeWhile(l => l.StartsWith("  ", StringComparison.Ordinal)))
        {
            var cells = Columns().Split(line.Trim());
            if (cells.Length == 6)
                rows[cells[0]] = new Row(cells[0], cells[1], cells[2], cells[3], cells[4], int.TryParse(cells[5], out var pid) ? pid : null);
        }
        return rows;
    }

    public void Signal(int signal) => kill(_process.Id, signal);

    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        try
        {
            await _process.WaitForExitAsync().WaitAsync(timeout);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    int _disposed;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }

    [GeneratedRegex(@"\s{2,}")]
    private static partial Regex Columns();

    [DllImport("libc", SetLastError = true)]
    static extern int kill(int pid, int sig);
}
