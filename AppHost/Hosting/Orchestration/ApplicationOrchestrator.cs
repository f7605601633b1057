using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Sessions.Hosting.ApplicationModel;
using Sessions.Hosting.Local;

namespace Sessions.Hosting.Orchestration;

/// <summary>
/// Runs the model (what DCP does for Aspire): allocates ports, starts every resource once its WaitFor
/// dependencies are Running and Healthy, watches health and exits, and on stop stops dependents before
/// their dependencies within <see cref="AppHostOptions.StopTimeout"/>, killing whatever is left.
/// </summary>
internal sealed class ApplicationOrchestrator(
    DistributedApplicationModel model,
    ResourceNotificationService notifications,
    ResourceLoggerService logs,
    ResourceEnvironment environment,
    StateFolder state,
    AppHostOptions options,
    IHostEnvironment hostEnvironment,
    IServiceProvider services,
    ILogger<DistributedApplication> logger) : IHostedService
{
    readonly CancellationTokenSource _stopping = new();
    readonly ConcurrentDictionary<IResource, ManagedProcess> _processes = new();
    readonly ConcurrentDictionary<IResource, CancellationTokenSource> _monitors = new();
    readonly List<Task> _lifecycles = [];
    RunContext? _context;
    readonly HashSet<IResource> _starting = [];   // started by a command, process not up yet (guarded by _lifecycles)
    readonly ResourceHealthMonitor _health = new(services, notifications, logs);
    ConsoleReporter? _reporter;
    int _stopped;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        logger.LogInformation("Distributed application starting.");
        logger.LogInformation("Application host directory is: {Directory}", hostEnvironment.ContentRootPath);
        var orphans = ProcessRegistry.ReapOrphans();
        if (orphans > 0)
            logger.LogWarning("Stopped {Count} process(es) left behind by an AppHost or test run that was killed.", orphans);

        state.Prepare(options.ResetState);
        logger.LogInformation(options.ResetState ? "State folder (reset): {State}" : "State folder: {State}", state.Root);
        if (environment.OtlpEndpoint is { } otlp) logger.LogInformation("Services export telemetry to {Endpoint}.", otlp);

        _ = ResourceGraph.StopOrder(model);   // rejects dependency cycles before anything starts
        ResourceGraph.AllocateEndpoints(model, options.RandomizePorts);
        foreach (var resource in ConsoleReporter.Shown(model))
            notifications.PublishUpdateAsync(resource, s => s with
            {
                State = KnownResourceStates.NotStarted,
                Urls = [.. resource.GetEndpointAnnotations().Select(e => e.AllocatedEndpoint!.UriString)],
            });

        if (!options.Headless)
        {
            _reporter = new ConsoleReporter(model, notifications, logs);
            _reporter.Start();
        }

        var context = _context = new RunContext(state, options, environment, logs, ProjectRunner.ConfigurationOf(hostEnvironment.ApplicationName is { } name ? TryLoad(name) : null));
        foreach (var resource in model.Resources)
            if (ResourceRunner.For(resource) is { } runner)
                lock (_lifecycles) _lifecycles.Add(Task.Run(() => RunAsync(resource, runner, context, _stopping.Token), CancellationToken.None));

        logger.LogInformation("Distributed application started. Press Ctrl+C to shut down.");
        return Task.CompletedTask;
    }

    /// <summary>Aspire's "resource-stop" command: stops the resource's process (stop signal, then kill after 5 s).</summary>
    public async Task<bool> StopResourceAsync(IResource resource)
    {
        if (!_processes.TryGetValue(resource, out var process) || process.HasExited) return false;
        await PublishWithChildrenAsync(resource, s => s with { State = KnownResourceStates.Stopping }).ConfigureAwait(false);
        await process.StopAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        await notifications.WaitForResourceAsync(resource.Name, e => KnownResourceStates.IsTerminal(e.Snapshot.State), CancellationToken.None)
            .ConfigureAwait(false);
        return true;
    }

    /// <summary>Aspire's "resource-start" command: starts a resource whose process has ended (stopped, exited or killed).</summary>
    public bool StartResource(IResource resource)
    {
        if (_context is not { } context || _stopping.IsCancellationRequested || ResourceRunner.For(resource) is not { } runner) return false;
        // Check and start as one step: two concurrent starts must not run two processes for one resource.
        lock (_lifecycles)
        {
            if (_processes.TryGetValue(resource, out var process) && !process.HasExited) return false;
            if (!_starting.Add(resource)) return false;
            _lifecycles.Add(Task.Run(() => RunAsync(resource, runner, context, _stopping.Token), CancellationToken.None));
        }
        return true;
    }

    async Task RunAsync(IResource resource, ResourceRunner runner, RunContext context, CancellationToken cancellationToken)
    {
        ManagedProcess process;
        try
        {
            var waits = resource.OfAnnotation<WaitAnnotation>().ToArray();
            if (waits.Length > 0)
            {
                await PublishWithChildrenAsync(resource, s => s with { State = KnownResourceStates.Waiting }).ConfigureAwait(false);
                await Task.WhenAll(waits.Select(w => WaitForDependencyAsync(resource, w, cancellationToken))).ConfigureAwait(false);
            }

            await PublishWithChildrenAsync(resource, s => s with { State = KnownResourceStates.Starting }).ConfigureAwait(false);
            process = await runner.StartAsync(context, cancellationToken).ConfigureAwait(false);
            _processes[resource] = process;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            StartFinished(resource);
            await PublishWithChildrenAsync(resource, s => s with { State = KnownResourceStates.NotStarted }).ConfigureAwait(false);
            return;
        }
        catch (Exception e)
        {
            StartFinished(resource);
            logs.Log(resource.Name, $"Failed to start: {e.Message}", isError: true);
            logger.LogError("Resource '{Name}' failed to start: {Message}", resource.Name, e.Message);
            await PublishWithChildrenAsync(resource, s => s with { State = KnownResourceStates.FailedToStart }).ConfigureAwait(false);
            return;
        }

        StartFinished(resource);
        var hasChecks = ResourceHealthMonitor.HasHealthChecks(resource);
        await notifications.PublishUpdateAsync(resource, s => s with
        {
            State = KnownResourceStates.Running,
            Pid = process.Id,
            StartTimeStamp = DateTime.UtcNow,
            HealthStatus = hasChecks ? HealthStatus.Unhealthy : HealthStatus.Healthy,
        }).ConfigureAwait(false);
        StartMonitor(resource);
        foreach (var child in ChildrenOf(resource))
        {
            await notifications.PublishUpdateAsync(child, s => s with
            {
                State = KnownResourceStates.Running,
                StartTimeStamp = DateTime.UtcNow,
                HealthStatus = ResourceHealthMonitor.HasHealthChecks(child) ? HealthStatus.Unhealthy : HealthStatus.Healthy,
            }).ConfigureAwait(false);
            StartMonitor(child);
        }

        var exitCode = await process.Exited.ConfigureAwait(false);
        await OnExitedAsync(resource, exitCode).ConfigureAwait(false);
    }

    void StartFinished(IResource resource)
    {
        lock (_lifecycles) _starting.Remove(resource);
    }

    async Task WaitForDependencyAsync(IResource resource, WaitAnnotation wait, CancellationToken cancellationToken)
    {
        var dependency = wait.Resource.Name;
        logs.Log(resource.Name, $"Waiting for resource '{dependency}' to enter the 'Running' state.");
        var started = await notifications.WaitForResourceAsync(dependency,
            e => e.Snapshot.State == KnownResourceStates.Running || KnownResourceStates.IsTerminal(e.Snapshot.State), cancellationToken).ConfigureAwait(false);
        ThrowIfEnded(started);
        if (wait.WaitType == WaitType.WaitUntilHealthy)
        {
            logs.Log(resource.Name, $"Waiting for resource '{dependency}' to become healthy.");
            var healthy = await notifications.WaitForResourceAsync(dependency,
                e => ResourceNotificationService.IsRunningAndHealthy(e.Snapshot) || KnownResourceStates.IsTerminal(e.Snapshot.State), cancellationToken).ConfigureAwait(false);
            ThrowIfEnded(healthy);
        }
        logs.Log(resource.Name, $"Finished waiting for resource '{dependency}'.");

        // Nothing will restart a dependency here, so waiting on would be forever.
        static void ThrowIfEnded(ResourceEvent e)
        {
            if (KnownResourceStates.IsTerminal(e.Snapshot.State))
                throw new DistributedApplicationException($"Dependency '{e.ResourceId}' is {ResourceNotificationService.DescribeState(e.Snapshot)}.");
        }
    }

    async Task OnExitedAsync(IResource resource, int exitCode)
    {
        if (_monitors.TryRemove(resource, out var monitor)) await monitor.CancelAsync().ConfigureAwait(false);
        foreach (var child in ChildrenOf(resource))
            if (_monitors.TryRemove(child, out var childMonitor)) await childMonitor.CancelAsync().ConfigureAwait(false);

        var stateText = exitCode == 0 ? KnownResourceStates.Finished : KnownResourceStates.Exited;
        logs.Log(resource.Name, $"Process exited with code {exitCode}.", isError: exitCode != 0);
        if (!_stopping.IsCancellationRequested)
            logger.LogWarning("Resource '{Name}' exited with code {ExitCode}; its dependents keep running.", resource.Name, exitCode);
        await PublishWithChildrenAsync(resource, s => s with
        {
            State = stateText,
            ExitCode = exitCode,
            HealthStatus = null,
            StopTimeStamp = DateTime.UtcNow,
        }).ConfigureAwait(false);
    }

    void StartMonitor(IResource resource)
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        _monitors[resource] = cts;
        _ = Task.Run(async () =>
        {
            try
            {
                // A database is checked once its server is healthy, i.e. once the server check has created it.
                if (resource is IResourceWithParent child)
                    await notifications.WaitForResourceAsync(child.Parent.Name, e => ResourceNotificationService.IsRunningAndHealthy(e.Snapshot)
                        || KnownResourceStates.IsTerminal(e.Snapshot.State), cts.Token).ConfigureAwait(false);
                await _health.MonitorAsync(resource, cts.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cts.IsCancellationRequested)
            {
            }
        }, CancellationToken.None);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1) return;
        var elapsed = Stopwatch.StartNew();
        _reporter?.BeginShutdown();
        logger.LogInformation("Stopping resources (dependents first)...");
        await _stopping.CancelAsync().ConfigureAwait(false);

        // Leave a little of the budget for killing whatever did not stop in time.
        var budget = options.StopTimeout - TimeSpan.FromMilliseconds(500);
        var groups = ResourceGraph.StopOrder(model);
        for (var i = 0; i < groups.Count; i++)
        {
            var running = groups[i].Where(r => _processes.TryGetValue(r, out var p) && !p.HasExited).ToArray();
            if (running.Length == 0) continue;
            var groupsLeft = groups.Skip(i).Count(g => g.Any(r => _processes.TryGetValue(r, out var p) && !p.HasExited));
            var timeout = TimeSpan.FromTicks(Math.Clamp((budget - elapsed.Elapsed).Ticks / groupsLeft, TimeSpan.FromMilliseconds(200).Ticks, TimeSpan.FromSeconds(5).Ticks));
            foreach (var resource in running)
                await PublishWithChildrenAsync(resource, s => s with { State = KnownResourceStates.Stopping }).ConfigureAwait(false);
            await Task.WhenAll(running.Select(r => _processes[r].StopAsync(timeout))).ConfigureAwait(false);
        }

        // A process that started while we were stopping.
        await Task.WhenAll(_processes.Values.Where(p => !p.HasExited).Select(p => p.StopAsync(TimeSpan.FromMilliseconds(200)))).ConfigureAwait(false);
        Task[] lifecycles;
        lock (_lifecycles) lifecycles = [.. _lifecycles];
        try { await Task.WhenAll(lifecycles).WaitAsync(TimeSpan.FromSeconds(2), CancellationToken.None).ConfigureAwait(false); }
        catch (TimeoutException) { }

        state.DeleteScratch();
        if (_reporter is not null) await _reporter.DisposeAsync().ConfigureAwait(false);
        logger.LogInformation("Stopped {Count} process(es) in {Seconds:0.0} s.", _processes.Count, elapsed.Elapsed.TotalSeconds);
    }

    IEnumerable<IResource> ChildrenOf(IResource resource)
        => model.Resources.Where(r => r is IResourceWithParent child && ReferenceEquals(child.Parent, resource));

    async Task PublishWithChildrenAsync(IResource resource, Func<CustomResourceSnapshot, CustomResourceSnapshot> update)
    {
        await notifications.PublishUpdateAsync(resource, update).ConfigureAwait(false);
        // A database has no process: it mirrors its server's state (its health is its own check).
        foreach (var child in ChildrenOf(resource))
            await notifications.PublishUpdateAsync(child, s => update(s) with { Pid = null, Urls = s.Urls }).ConfigureAwait(false);
    }

    static System.Reflection.Assembly? TryLoad(string name)
    {
        try { return System.Reflection.Assembly.Load(name); }
        catch (IOException) { return null; }
    }
}
