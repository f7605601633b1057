using System.Collections.Concurrent;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace Sessions.AppHost.Testing;

/// <summary>
/// The whole stack from the AppHost's own Program.cs through Aspire.Hosting.Testing: random ports (DCP's proxies and the
/// servers), a temporary state folder (throw-away data, parameters never in the developer's .state/), every resource's
/// output kept for failure messages, and a wait that fails fast with the states and output of what is not healthy.
/// Shared with tests/Interop.Tests (linked source).
/// </summary>
public sealed class TestStack : IAsyncDisposable
{
    public static readonly string[] Services = ["sessionapi", "vaultapi", "mcpserver", "paymentgate"];
    public static readonly string[] Servers = ["redis", "postgres", "sessionsdb", "vaultsdb", "gatedb"];

    readonly ConcurrentDictionary<string, ConcurrentQueue<string>> _logs = new();
    readonly CancellationTokenSource _stopLogs = new();

    TestStack(DistributedApplication app, string stateDirectory)
    {
        App = app;
        StateDirectory = stateDirectory;
    }

    public DistributedApplication App { get; }

    public string StateDirectory { get; }

    /// <summary>A temporary state folder under <c>$SESSIONS_TEST_ROOT</c> (tests/run.sh removes it) or the temp folder.</summary>
    public static string NewStateDirectory(string prefix) =>
        Path.Combine(Environment.GetEnvironmentVariable("SESSIONS_TEST_ROOT") ?? Path.GetTempPath(), $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 13)]);

    /// <summary>Builds the app model (not started) with a temporary state folder.</summary>
    public static Task<IDistributedApplicationTestingBuilder> CreateBuilderAsync(string stateDirectory, CancellationToken cancellationToken, params string[] args) =>
        DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(
            [$"--AppHost:StateDirectory={stateDirectory}", "--AppHost:EphemeralState=true", "--AppHost:EchoLogs=false", .. args], cancellationToken);

    /// <summary>Starts the stack and waits until every resource is healthy.</summary>
    public static async Task<TestStack> StartAsync(Action<IDistributedApplicationTestingBuilder>? configure, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var state = NewStateDirectory("stack");
        var builder = await CreateBuilderAsync(state, cancellationToken);
        // The AppHost's own warnings and errors (DCP's among them): why a resource "failed to start" when it printed nothing.
        // Not the resources' output, which the AppHost logs too (stderr as errors): that is kept per resource below.
        builder.Services.AddFakeLogging(options => options.FilteredLevels = new HashSet<LogLevel> { LogLevel.Warning, LogLevel.Error, LogLevel.Critical })
            .AddLogging(logging => logging.AddFilter<FakeLoggerProvider>("AppHost.Resources", LogLevel.None));
        configure?.Invoke(builder);
        var stack = new TestStack(await builder.BuildAsync(cancellationToken), state);
        var logs = stack.App.Services.GetRequiredService<ResourceLoggerService>();
        foreach (var resource in builder.Resources.Where(r => r is not ParameterResource))
            _ = stack.CollectLogsAsync(logs, resource);
        try
        {
            await stack.App.StartAsync(cancellationToken);
            foreach (var name in Servers.Concat(Services))
                await stack.WaitForHealthyAsync(name, timeout, cancellationToken);
            return stack;
        }
        catch
        {
            await stack.DisposeAsync();
            throw;
        }
    }

    /// <summary>Waits until the resource is Running and healthy; fails at once when it ends, with what is not healthy and its output.</summary>
    public async Task WaitForHealthyAsync(string name, TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            await App.ResourceNotifications.WaitForResourceHealthyAsync(name, WaitBehavior.StopOnResourceUnavailable, cancellationToken)
                .WaitAsync(timeout, cancellationToken);
        }
        catch (Exception e) when (e is TimeoutException or DistributedApplicationException)
        {
            var notHealthy = App.Services.GetRequiredService<DistributedApplicationModel>().Resources
                .Where(r => r is not ParameterResource && App.ResourceNotifications.TryGetCurrentState(r.Name, out var s)
                    && !s.Snapshot.IsHidden && s.Snapshot.HealthStatus != Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy)
                .Select(r => r.Name);
            throw new Xunit.Sdk.XunitException($"'{name}' is not healthy ({e.Message}).{string.Concat(notHealthy.Select(r => TailOfLogs(r, 15)))}"
                + AppHostWarnings());
        }
    }

    /// <summary>The AppHost's last warnings and errors (none when the stack was built without <see cref="StartAsync"/>).</summary>
    string AppHostWarnings(int count = 15)
    {
        var records = App.Services.GetService<FakeLogCollector>()?.GetSnapshot() ?? [];
        return records.Count == 0 ? "" : $"{Environment.NewLine}AppHost warnings and errors:{Environment.NewLine}  "
            + string.Join(Environment.NewLine + "  ", records.TakeLast(count).Select(r =>
                $"{r.Level} {r.Category}: {r.Message}{(r.Exception is null ? "" : " (" + r.Exception.GetType().Name + ": " + r.Exception.Message + ")")}"));
    }

    public string State(string name) =>
        App.ResourceNotifications.TryGetCurrentState(name, out var e) ? e.Snapshot.State?.Text ?? "-" : "unknown";

    /// <summary>The process DCP started for the resource (for a project: the <c>dotnet run</c> that runs it).</summary>
    public int? Pid(string name) =>
        App.ResourceNotifications.TryGetCurrentState(name, out var e)
        && e.Snapshot.Properties.FirstOrDefault(p => p.Name == "executable.pid")?.Value is { } pid
            ? Convert.ToInt32(pid, System.Globalization.CultureInfo.InvariantCulture) : null;

    /// <summary>A resource's state and last output lines, for failure messages.</summary>
    public string TailOfLogs(string name, int lines = 40)
    {
        var all = _logs.TryGetValue(name, out var queue) ? queue.ToArray() : [];
        // A crash prints a long stack: its first lines (the exception) matter more than the tail.
        var crash = Array.FindIndex(all, l => l.Contains("Unhandled exception", StringComparison.Ordinal));
        var shown = crash < 0 ? all.TakeLast(lines) : all.Skip(crash).Take(12).Concat(["..."]).Concat(all.TakeLast(5));
        return $"{Environment.NewLine}{name} (state {State(name)}):{Environment.NewLine}  {string.Join(Environment.NewLine + "  ", shown)}";
    }

    async Task CollectLogsAsync(ResourceLoggerService logs, IResource resource)
    {
        var queue = _logs.GetOrAdd(resource.Name, _ => new ConcurrentQueue<string>());
        try
        {
            await foreach (var batch in logs.WatchAsync(resource).WithCancellation(_stopLogs.Token))
                foreach (var line in batch)
                {
                    queue.Enqueue(line.Content);
                    while (queue.Count > 400) queue.TryDequeue(out _);
                }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
        {
            // the stack is being disposed
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopLogs.CancelAsync();
        await App.DisposeAsync();
        _stopLogs.Dispose();
        try { Directory.Delete(StateDirectory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
