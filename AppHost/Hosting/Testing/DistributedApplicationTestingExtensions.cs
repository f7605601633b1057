using Microsoft.Extensions.DependencyInjection;
using Sessions.Hosting.ApplicationModel;
using Sessions.Hosting.Orchestration;

namespace Sessions.Hosting.Testing;

/// <summary>What a test asks of a started application (Aspire.Hosting.Testing's extension methods).</summary>
public static class DistributedApplicationTestingExtensions
{
    /// <summary>An HttpClient whose BaseAddress is the resource's endpoint (the first HTTP one by default).</summary>
    public static HttpClient CreateHttpClient(this DistributedApplication app, string resourceName, string? endpointName = null)
        => new() { BaseAddress = app.GetEndpoint(resourceName, endpointName) };

    public static Uri GetEndpoint(this DistributedApplication app, string resourceName, string? endpointName = null)
    {
        var resource = app.GetResource(resourceName);
        var endpoints = resource.GetEndpointAnnotations().ToArray();
        var endpoint = endpointName is null
            ? endpoints.FirstOrDefault(e => e.UriScheme is "http" or "https") ?? endpoints.FirstOrDefault()
            : endpoints.FirstOrDefault(e => e.Name == endpointName);
        if (endpoint?.AllocatedEndpoint is not { } allocated)
            throw new ArgumentException($"Resource '{resourceName}' has no allocated endpoint{(endpointName is null ? "" : $" named '{endpointName}'")}; is the application started?");
        return new Uri(allocated.UriString);
    }

    public static async ValueTask<string?> GetConnectionStringAsync(this DistributedApplication app, string resourceName, CancellationToken cancellationToken = default)
        => app.GetResource(resourceName) is IResourceWithConnectionString resource
            ? await resource.GetConnectionStringAsync(cancellationToken).ConfigureAwait(false)
            : throw new ArgumentException($"Resource '{resourceName}' has no connection string.", nameof(resourceName));

    /// <summary>The environment the resource's process gets (run mode) or the manifest gives it (publish mode).</summary>
    public static Task<Dictionary<string, string>> GetEnvironmentVariableValuesAsync(this DistributedApplication app, string resourceName, CancellationToken cancellationToken = default)
        => app.Services.GetRequiredService<ResourceEnvironment>().GetEnvironmentValuesAsync(app.GetResource(resourceName), cancellationToken);

    /// <summary>
    /// Waits until the resource is Running and Healthy. Fails fast, with the failing resource's last output,
    /// as soon as any resource fails to start or exits, and after <paramref name="timeout"/>.
    /// </summary>
    public static async Task<ResourceEvent> WaitForResourceHealthyAsync(this DistributedApplication app, string resourceName, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        app.GetResource(resourceName);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            await foreach (var resourceEvent in app.ResourceNotifications.WatchAsync(deadline.Token).ConfigureAwait(false))
            {
                if (resourceEvent.ResourceId == resourceName && ResourceNotificationService.IsRunningAndHealthy(resourceEvent.Snapshot))
                    return resourceEvent;
                if (KnownResourceStates.IsTerminal(resourceEvent.Snapshot.State))
                    throw new DistributedApplicationException(
                        $"Stopped waiting for '{resourceName}': resource '{resourceEvent.ResourceId}' is {ResourceNotificationService.DescribeState(resourceEvent.Snapshot)}.{app.TailOfLogs(resourceEvent.ResourceId)}");
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
        }
        app.ResourceNotifications.TryGetCurrentState(resourceName, out var current);
        throw new TimeoutException(
            $"'{resourceName}' was not Running and Healthy within {timeout.TotalSeconds:0} s (state {current?.Snapshot.State}, health {current?.Snapshot.HealthStatus}).{app.TailOfLogs(resourceName)}");
    }

    /// <summary>The last lines of a resource's output, for failure messages.</summary>
    public static string TailOfLogs(this DistributedApplication app, string resourceName, int lines = 30)
    {
        var tail = app.ResourceLogs.GetLines(resourceName).TakeLast(lines).Select(l => $"  {resourceName} | {l.Content}");
        return $"{Environment.NewLine}Last output of '{resourceName}':{Environment.NewLine}{string.Join(Environment.NewLine, tail)}";
    }

    public static IResource GetResource(this DistributedApplication app, string resourceName)
        => app.Model.Find(resourceName) ?? throw new ArgumentException($"There is no resource named '{resourceName}'.", nameof(resourceName));
}
