using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Sessions.Hosting.ApplicationModel;

/// <summary>Aspire's resource state names.</summary>
public static class KnownResourceStates
{
    public const string NotStarted = "NotStarted";
    public const string Waiting = "Waiting";
    public const string Starting = "Starting";
    public const string Running = "Running";
    /// <summary>Aspire: the container runtime is unhealthy. Not produced here (there is no container runtime).</summary>
    public const string RuntimeUnhealthy = "RuntimeUnhealthy";
    public const string Stopping = "Stopping";
    public const string Exited = "Exited";
    public const string Finished = "Finished";
    public const string FailedToStart = "FailedToStart";

    public static readonly IReadOnlyList<string> TerminalStates = [Finished, FailedToStart, Exited];

    public static bool IsTerminal(string? state) => state is Finished or FailedToStart or Exited;
}

/// <summary>The observable state of one resource, as the dashboard would show it.</summary>
public sealed record CustomResourceSnapshot
{
    public required string ResourceType { get; init; }
    public string State { get; init; } = KnownResourceStates.NotStarted;
    /// <summary>Null unless Running; Healthy when the resource has no health checks.</summary>
    public HealthStatus? HealthStatus { get; init; }
    public int? ExitCode { get; init; }
    public int? Pid { get; init; }
    public ImmutableArray<string> Urls { get; init; } = [];
    public DateTime? StartTimeStamp { get; init; }
    public DateTime? StopTimeStamp { get; init; }
}

public sealed record ResourceEvent(IResource Resource, string ResourceId, CustomResourceSnapshot Snapshot);

public enum WaitBehavior
{
    /// <summary>Keep waiting when the resource fails (it may be restarted).</summary>
    WaitOnResourceUnavailable,
    /// <summary>Throw as soon as the resource reaches a terminal state (headless runs and tests).</summary>
    StopOnResourceUnavailable,
}

/// <summary>Publishes resource snapshots and lets callers watch them or wait for a state.</summary>
public sealed class ResourceNotificationService
{
    readonly Lock _lock = new();
    readonly Dictionary<string, ResourceEvent> _current = [];
    readonly List<Channel<ResourceEvent>> _watchers = [];
    readonly HashSet<string> _knownNames;

    public ResourceNotificationService(DistributedApplicationModel model, WaitBehavior defaultWaitBehavior = WaitBehavior.StopOnResourceUnavailable)
    {
        _knownNames = model.Resources.Select(r => r.Name).ToHashSet(StringComparer.Ordinal);
        DefaultWaitBehavior = defaultWaitBehavior;
    }

    public WaitBehavior DefaultWaitBehavior { get; }

    public Task PublishUpdateAsync(IResource resource, Func<CustomResourceSnapshot, CustomResourceSnapshot> update)
    {
        lock (_lock)
        {
            var previous = _current.TryGetValue(resource.Name, out var existing)
                ? existing.Snapshot
                : new CustomResourceSnapshot { ResourceType = ResourceTypeName(resource) };
            var resourceEvent = new ResourceEvent(resource, resource.Name, update(previous));
            _current[resource.Name] = resourceEvent;
            foreach (var watcher in _watchers) watcher.Writer.TryWrite(resourceEvent);
        }
        return Task.CompletedTask;
    }

    public bool TryGetCurrentState(string resourceName, out ResourceEvent resourceEvent)
    {
        lock (_lock) return _current.TryGetValue(resourceName, out resourceEvent!);
    }

    public IReadOnlyList<ResourceEvent> GetCurrentStates()
    {
        lock (_lock) return _current.Values.ToArray();
    }

    /// <summary>The current state of every resource, then every update, until cancelled.</summary>
    public async IAsyncEnumerable<ResourceEvent> WatchAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var channel = Channel.CreateUnbounded<ResourceEvent>(new UnboundedChannelOptions { SingleReader = true });
        lock (_lock)
        {
            foreach (var current in _current.Values) channel.Writer.TryWrite(current);
            _watchers.Add(channel);
        }
        try
        {
            await foreach (var resourceEvent in channel.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
                yield return resourceEvent;
        }
        finally
        {
            lock (_lock) _watchers.Remove(channel);
        }
    }

    public async Task<ResourceEvent> WaitForResourceAsync(string resourceName, Func<ResourceEvent, bool> predicate, CancellationToken cancellationToken = default)
    {
        EnsureKnown(resourceName);
        await foreach (var resourceEvent in WatchAsync(cancellationToken).ConfigureAwait(false))
            if (resourceEvent.ResourceId == resourceName && predicate(resourceEvent))
                return resourceEvent;
        throw new OperationCanceledException(cancellationToken);
    }

    /// <summary>Waits until the resource is in <paramref name="targetState"/> (Running by default).</summary>
    public async Task<string> WaitForResourceAsync(string resourceName, string? targetState = null, CancellationToken cancellationToken = default)
    {
        targetState ??= KnownResourceStates.Running;
        var resourceEvent = await WaitForResourceAsync(resourceName, e => e.Snapshot.State == targetState, cancellationToken).ConfigureAwait(false);
        return resourceEvent.Snapshot.State;
    }

    public Task<ResourceEvent> WaitForResourceHealthyAsync(string resourceName, CancellationToken cancellationToken = default)
        => WaitForResourceHealthyAsync(resourceName, DefaultWaitBehavior, cancellationToken);

    /// <summary>Waits until the resource is Running and Healthy; with StopOnResourceUnavailable, throws if it fails.</summary>
    public async Task<ResourceEvent> WaitForResourceHealthyAsync(string resourceName, WaitBehavior waitBehavior, CancellationToken cancellationToken = default)
    {
        var resourceEvent = await WaitForResourceAsync(resourceName, e =>
            IsRunningAndHealthy(e.Snapshot)
            || waitBehavior == WaitBehavior.StopOnResourceUnavailable && KnownResourceStates.IsTerminal(e.Snapshot.State),
            cancellationToken).ConfigureAwait(false);
        if (!IsRunningAndHealthy(resourceEvent.Snapshot))
            throw new DistributedApplicationException(
                $"Stopped waiting for resource '{resourceName}' to become healthy because it failed to start (state {DescribeState(resourceEvent.Snapshot)}).");
        return resourceEvent;
    }

    public static bool IsRunningAndHealthy(CustomResourceSnapshot snapshot)
        => snapshot.State == KnownResourceStates.Running && snapshot.HealthStatus == HealthStatus.Healthy;

    public static string DescribeState(CustomResourceSnapshot snapshot)
        => snapshot.ExitCode is { } code && snapshot.State is KnownResourceStates.Exited or KnownResourceStates.Finished
            ? $"{snapshot.State} ({code})"
            : snapshot.State;

    /// <summary>What the resource table shows as TYPE.</summary>
    public static string ResourceTypeName(IResource resource) => resource switch
    {
        ProjectResource => "Project",
        ParameterResource => "Parameter",
        _ => resource.GetType().Name is var name && name.EndsWith("Resource", StringComparison.Ordinal) ? name[..^"Resource".Length] : resource.GetType().Name,
    };

    void EnsureKnown(string resourceName)
    {
        if (!_knownNames.Contains(resourceName))
            throw new ArgumentException($"There is no resource named '{resourceName}'.", nameof(resourceName));
    }
}

public sealed record LogLine(DateTime Timestamp, string ResourceName, string Content, bool IsError);

/// <summary>Each resource's console output (and the AppHost's messages about it), kept for tests and diagnostics.</summary>
public sealed class ResourceLoggerService
{
    const int LinesKeptPerResource = 2000;
    readonly Lock _lock = new();
    readonly Dictionary<string, Queue<LogLine>> _lines = [];

    /// <summary>Raised for every line, on the thread that wrote it.</summary>
    public event Action<LogLine>? LineWritten;

    public void Log(string resourceName, string content, bool isError = false)
    {
        var line = new LogLine(DateTime.UtcNow, resourceName, content, isError);
        lock (_lock)
        {
            if (!_lines.TryGetValue(resourceName, out var queue)) _lines[resourceName] = queue = new Queue<LogLine>();
            if (queue.Count == LinesKeptPerResource) queue.Dequeue();
            queue.Enqueue(line);
        }
        LineWritten?.Invoke(line);
    }

    public IReadOnlyList<LogLine> GetLines(string resourceName)
    {
        lock (_lock) return _lines.TryGetValue(resourceName, out var queue) ? queue.ToArray() : [];
    }
}
