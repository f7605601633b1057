using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace Interop.Tests;

/// <summary>
/// Runs a script of tests/Interop with Node.js and returns the one JSON line it prints. A missing Node.js or
/// missing node_modules is a failure with the fix in the message (the interop tests are never skipped silently).
/// </summary>
public sealed class NodeRunner
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(150);

    /// <summary>tests/Interop, found from the test assembly's folder upwards.</summary>
    public string ScriptDirectory { get; } = FindScriptDirectory();

    public void EnsureAvailable()
    {
        string version;
        try
        {
            var (exit, stdout, stderr) = RunAsync("node", ["--version"], new Dictionary<string, string>(), TimeSpan.FromSeconds(20), CancellationToken.None)
                .GetAwaiter().GetResult();
            if (exit != 0) throw new InvalidOperationException($"`node --version` exited with {exit}: {stderr}");
            version = stdout.Trim();
        }
        catch (System.ComponentModel.Win32Exception)
        {
            throw new InvalidOperationException(
                "Node.js is not installed: the interop tests run the official x402 JavaScript clients. Install Node.js >= 20 and npm " +
                "(apt-get install -y nodejs npm), then run `npm ci` in tests/Interop, or run `bash tests/run.sh` which does both.");
        }
        if (!int.TryParse(version.TrimStart('v').Split('.')[0], out var major) || major < 20)
            throw new InvalidOperationException($"Node.js >= 20 is needed for the interop tests (found {version}).");
        if (!Directory.Exists(Path.Combine(ScriptDirectory, "node_modules", "@x402", "fetch")))
            throw new InvalidOperationException(
                $"The interop packages are not installed: run `npm ci` in {ScriptDirectory} (tests/run.sh does it).");
    }

    /// <summary>Runs <c>node script</c> with the environment given and parses its JSON line; fails the test on error.</summary>
    public async Task<JsonElement> RunScriptAsync(string script, IReadOnlyDictionary<string, string> environment, CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        var limit = timeout ?? DefaultTimeout;
        var env = new Dictionary<string, string>(environment) { ["SCRIPT_TIMEOUT_MS"] = ((int)(limit.TotalMilliseconds - 5000)).ToString(System.Globalization.CultureInfo.InvariantCulture) };
        var (exit, stdout, stderr) = await RunAsync("node", [script], env, limit, cancellationToken);
        var line = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault();
        JsonElement result;
        try
        {
            result = JsonDocument.Parse(line ?? "").RootElement.Clone();
        }
        catch (JsonException)
        {
            throw new Xunit.Sdk.XunitException($"{script} exited with {exit} without a JSON result.\nstdout:\n{stdout}\nstderr:\n{stderr}");
        }
        if (exit != 0 || !result.TryGetProperty("ok", out var ok) || !ok.GetBoolean())
            throw new Xunit.Sdk.XunitException($"{script} failed (exit {exit}): {Pretty(result)}\nstderr:\n{stderr}");
        return result;
    }

    public static string Pretty(JsonElement element) => JsonSerializer.Serialize(element, new JsonSerializerOptions { WriteIndented = true });

    /// <summary>Runs <paramref name="file"/> in tests/Interop (also the .NET agents: <c>dotnet agent.dll</c>) within <paramref name="timeout"/>.</summary>
    public async Task<(int Exit, string Stdout, string Stderr)> RunAsync(string file, string[] args, IReadOnlyDictionary<string, string> environment, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(file)
        {
            WorkingDirectory = ScriptDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        foreach (var (name, value) in environment) start.Environment[name] = value;
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {file}");
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (stdout) stdout.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"node {string.Join(' ', args)} did not finish within {timeout.TotalSeconds:0} s.\nstdout:\n{stdout}\nstderr:\n{stderr}");
        }
        process.WaitForExit(); // drains the asynchronous output readers
        return (process.ExitCode, stdout.ToString(), stderr.ToString());
    }

    static string FindScriptDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "Interop");
            if (File.Exists(Path.Combine(candidate, "package.json"))) return candidate;
        }
        throw new InvalidOperationException($"tests/Interop/package.json not found above {AppContext.BaseDirectory}.");
    }
}
