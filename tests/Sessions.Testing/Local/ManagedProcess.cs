using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Sessions.Testing.Local;

/// <summary>
/// A child process with line-oriented output, an exit signal and a graceful stop (SIGTERM, then SIGKILL).
/// Every process started here is registered in a pid file folder so that a crashed parent's children
/// can be found and stopped later (see <see cref="ProcessRegistry"/>).
/// </summary>
public sealed class ManagedProcess : IAsyncDisposable
{
    readonly Process _process;
    readonly TaskCompletionSource<int> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    readonly string? _pidFile;

    ManagedProcess(Process process, string? pidFile)
    {
        _process = process;
        _pidFile = pidFile;
    }

    public int Id => _process.Id;
    public string Name { get; private init; } = "";
    int StopSignal { get; init; } = SigTerm;

    /// <summary>Completes with the exit code when the process ends, however it ends.</summary>
    public Task<int> Exited => _exited.Task;
    public bool HasExited => _exited.Task.IsCompleted;

    public static ManagedProcess Start(ProcessSpec spec)
    {
        var (fileName, arguments) = spec.RunAsUser is { } user && IsRoot
            ? ("setpriv", new[] { $"--reuid={user}", $"--regid={user}", "--init-groups", "--", spec.FileName }.Concat(spec.Arguments).ToArray())
            : (spec.FileName, spec.Arguments.ToArray());
        // setsid execs in place (the forked child is not a group leader), so the pid stays the server's.
        if (spec.NewSession && !OperatingSystem.IsWindows() && ExecutableLocator.TryFind("setsid") is { } setsid)
            (fileName, arguments) = (setsid, [fileName, .. arguments]);

        var startInfo = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = spec.WorkingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var a in arguments) startInfo.ArgumentList.Add(a);
        foreach (var name in spec.RemoveEnvironment) startInfo.Environment.Remove(name);
        foreach (var (k, v) in spec.Environment) startInfo.Environment[k] = v;

        var process = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
        var onLine = spec.OnOutput ?? (static (_, _) => { });
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) onLine(e.Data, false); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) onLine(e.Data, true); };

        if (!process.Start())
            throw new InvalidOperationException($"Could not start '{spec.FileName}'.");

        var managed = new ManagedProcess(process, ProcessRegistry.Register(process.Id, spec.Name)) { Name = spec.Name, StopSignal = spec.StopSignal };
        process.Exited += (_, _) =>
        {
            // WaitForExit() without a timeout also waits for the redirected streams to drain.
            process.WaitForExit();
            managed.Forget();
            managed._exited.TrySetResult(process.ExitCode);
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (process.HasExited) managed._exited.TrySetResult(process.ExitCode);
        return managed;
    }

    /// <summary>Sends the stop signal (SIGTERM unless the spec says otherwise), waits up to <paramref name="timeout"/>, then kills the whole process tree.</summary>
    public async Task<int> StopAsync(TimeSpan timeout)
    {
        if (!HasExited)
        {
            Signal(_process.Id, StopSignal);
            var done = await Task.WhenAny(Exited, Task.Delay(timeout)).ConfigureAwait(false);
            if (done != Exited)
            {
                try { _process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            }
        }
        return await Exited.ConfigureAwait(false);
    }

    public ValueTask DisposeAsync() => new(StopAsync(TimeSpan.FromSeconds(5)));

    void Forget()
    {
        if (_pidFile is not null) try { File.Delete(_pidFile); } catch (IOException) { }
    }

    internal const int SigInt = 2;
    internal const int SigTerm = 15;
    internal const int SigKill = 9;

    internal static bool IsRoot => OperatingSystem.IsLinux() && geteuid() == 0;

    internal static bool Signal(int pid, int signal) => OperatingSystem.IsWindows() ? false : kill(pid, signal) == 0;

    [DllImport("libc", SetLastError = true)]
    static extern int kill(int pid, int sig);

    [DllImport("libc")]
    static extern uint geteuid();
}

/// <summary>What to start.</summary>
public sealed record ProcessSpec(string Name, string FileName, IReadOnlyList<string> Arguments)
{
    public string? WorkingDirectory { get; init; }
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();
    public IReadOnlyList<string> RemoveEnvironment { get; init; } = [];
    /// <summary>When running as root, drop to this user (PostgreSQL refuses to run as root).</summary>
    public string? RunAsUser { get; init; }
    /// <summary>Called for every output line; the flag is true for standard error.</summary>
    public Action<string, bool>? OnOutput { get; init; }
    /// <summary>
    /// Run in its own session (setsid), so that Ctrl+C in the terminal reaches only the parent, which then
    /// stops its children in order; without it every child gets SIGINT at the same moment.
    /// </summary>
    public bool NewSession { get; init; }
    /// <summary>The graceful stop signal: SIGTERM, or SIGINT for PostgreSQL's fast shutdown.</summary>
    public int StopSignal { get; init; } = ManagedProcess.SigTerm;
}
