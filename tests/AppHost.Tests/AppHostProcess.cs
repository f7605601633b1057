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

    public static AppHostProcess Start(params string[] args)
    {
        var appHost = new Projects.AppHost();
        var startInfo = new ProcessStartInfo(Sessions.Hosting.Orchestration.ProjectRunner.DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(appHost.ProjectPath),
        };
        startInfo.ArgumentList.Add(appHost.TargetPath);
        foreach (var arg in args) startInfo.ArgumentList.Add(arg);
        var process = new AppHostProcess(Process.Start(startInfo)!);
        process._process.OutputDataReceived += (_, e) => process.Add(e.Data);
        process._process.ErrorDataReceived += (_, e) => process.Add(e.Data);
        process._process.BeginOutputReadLine();
        process._process.BeginErrorReadLine();
        return process;
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
