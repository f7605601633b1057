using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Sessions.AppHost.Servers;

namespace Sessions.AppHost;

/// <summary>
/// Stops the services before DCP stops the rest, dependents first (the gate, then the services it waits for), so that
/// Ctrl+C or SIGTERM ends everything within a few seconds. DCP runs a project as <c>dotnet run</c>, which does not pass
/// DCP's stop signal on to the service: DCP kills it after a timeout and the service itself lingers seconds longer.
/// Here each service gets SIGTERM (ASP.NET Core's graceful stop) directly, and SIGKILL when it is still there after a grace
/// period (measured: a service in the stack takes up to 5 s to finish its graceful stop); its <c>dotnet run</c> then exits
/// with it. Then Postgres gets SIGINT, its "fast" shutdown (SIGTERM, DCP's signal, waits for every client to disconnect,
/// including the AppHost's own health checks), and Redis SIGTERM.
/// </summary>
sealed class OrderedStop(DistributedApplicationModel model, ResourceNotificationService notifications, ILogger<OrderedStop> logger) : IHostedLifecycleService
{
    static readonly TimeSpan Grace = TimeSpan.FromSeconds(2);

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        var remaining = model.Resources.OfType<ProjectResource>().ToList();
        while (remaining.Count > 0)
        {
            // Those no remaining project waits for go first.
            var group = remaining.Where(p => !remaining.Any(other => other.Annotations.OfType<WaitAnnotation>().Any(w => w.Resource == p))).ToList();
            if (group.Count == 0) group = remaining;
            remaining.RemoveAll(group.Contains);
            var services = group.SelectMany(p => ChildrenOf(Pid(p))).ToList();
            logger.LogInformation("Stopping {Resources}.", string.Join(", ", group.Select(p => p.Name)));
            await SignalAndWaitAsync(services, SigTerm, cancellationToken);
            foreach (var pid in services.Where(IsAlive)) _ = kill(pid, SigKill);
        }
        var servers = model.Resources.OfType<ExecutableResource>().Where(r => r is LocalPostgresResource or LocalRedisResource).ToList();
        logger.LogInformation("Stopping {Resources}.", string.Join(", ", servers.Select(r => r.Name)));
        await Task.WhenAll(servers.Select(server =>
            SignalAndWaitAsync(Pid(server) is { } pid ? [pid] : [], server is LocalPostgresResource ? SigInt : SigTerm, cancellationToken)));
    }

    static async Task SignalAndWaitAsync(IReadOnlyList<int> pids, int signal, CancellationToken cancellationToken)
    {
        foreach (var pid in pids) _ = kill(pid, signal);
        var deadline = DateTime.UtcNow + Grace;
        while (pids.Any(IsAlive) && DateTime.UtcNow < deadline) await Task.Delay(50, cancellationToken);
    }

    /// <summary>The process DCP started for the resource.</summary>
    int? Pid(IResource resource) =>
        OperatingSystem.IsLinux()
        && notifications.TryGetCurrentState(resource.Name, out var state)
        && state.Snapshot.State?.Text == KnownResourceStates.Running
        && state.Snapshot.Properties.FirstOrDefault(p => p.Name == "executable.pid")?.Value is { } value
            ? Convert.ToInt32(value, CultureInfo.InvariantCulture) : null;

    /// <summary>The children of a process (for a project: the service its <c>dotnet run</c> started), from /proc.</summary>
    static List<int> ChildrenOf(int? parent)
    {
        var children = new List<int>();
        if (parent is null) return children;
        var parentText = parent.Value.ToString(CultureInfo.InvariantCulture);
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid)) continue;
            try
            {
                var stat = File.ReadAllText(Path.Combine(directory, "stat"));
                if (stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1] == parentText) children.Add(pid);
            }
            catch (IOException) { }
        }
        return children;
    }

    static bool IsAlive(int pid)
    {
        try { return !File.ReadAllText($"/proc/{pid}/stat").Contains(") Z ", StringComparison.Ordinal); }
        catch (IOException) { return false; }
    }

    const int SigInt = 2;
    const int SigKill = 9;
    const int SigTerm = 15;

    [DllImport("libc", SetLastError = true)]
    static extern int kill(int pid, int sig);

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

public static class OrderedStopExtensions
{
    public static IDistributedApplicationBuilder AddOrderedStop(this IDistributedApplicationBuilder builder)
    {
        if (builder.ExecutionContext.IsRunMode) builder.Services.AddHostedService<OrderedStop>();
        return builder;
    }
}
