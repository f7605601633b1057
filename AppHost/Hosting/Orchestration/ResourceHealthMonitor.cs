using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Sessions.Hosting.ApplicationModel;

namespace Sessions.Hosting.Orchestration;

/// <summary>
/// Runs a Running resource's health checks and publishes its health: quickly until it is first healthy,
/// then every 30 s while healthy and every 1 s x min(5, failures) while not, as Aspire does.
/// </summary>
internal sealed class ResourceHealthMonitor(IServiceProvider services, ResourceNotificationService notifications, ResourceLoggerService logs)
{
    static readonly TimeSpan StartupInterval = TimeSpan.FromMilliseconds(200);
    static readonly TimeSpan HealthyInterval = TimeSpan.FromSeconds(30);
    const int StartupAttempts = 150;

    public static bool HasHealthChecks(IResource resource) => resource.OfAnnotation<HealthCheckAnnotation>().Any();

    public async Task MonitorAsync(IResource resource, CancellationToken cancellationToken)
    {
        var checks = ResolveChecks(resource);
        if (checks.Count == 0)
        {
            await PublishAsync(resource, HealthStatus.Healthy).ConfigureAwait(false);
            return;
        }

        var everHealthy = false;
        var failures = 0;
        HealthStatus? last = null;
        while (!cancellationToken.IsCancellationRequested)
        {
            var (status, reason) = await CheckAsync(checks, cancellationToken).ConfigureAwait(false);
            if (cancellationToken.IsCancellationRequested) return;
            if (status != last)
            {
                if (status != HealthStatus.Healthy && everHealthy) logs.Log(resource.Name, $"Health: {status}: {reason}", isError: true);
                await PublishAsync(resource, status).ConfigureAwait(false);
                last = status;
            }

            TimeSpan delay;
            if (status == HealthStatus.Healthy)
            {
                (everHealthy, failures, delay) = (true, 0, HealthyInterval);
            }
            else
            {
                failures++;
                delay = !everHealthy && failures <= StartupAttempts ? StartupInterval : TimeSpan.FromSeconds(Math.Min(5, failures));
                if (!everHealthy && failures == StartupAttempts) logs.Log(resource.Name, $"Still not healthy: {reason}", isError: true);
            }
            try { await Task.Delay(delay, cancellationToken).ConfigureAwait(false); }
            catch (OperationCanceledException) { return; }
        }
    }

    List<(string Key, IHealthCheck Check)> ResolveChecks(IResource resource)
    {
        var registrations = services.GetRequiredService<IOptions<HealthCheckServiceOptions>>().Value.Registrations;
        var checks = new List<(string, IHealthCheck)>();
        foreach (var annotation in resource.OfAnnotation<HealthCheckAnnotation>())
        {
            var registration = registrations.FirstOrDefault(r => r.Name == annotation.Key)
                ?? throw new DistributedApplicationException($"Resource '{resource.Name}' uses health check '{annotation.Key}', which is not registered.");
            checks.Add((annotation.Key, registration.Factory(services)));
        }
        return checks;
    }

    static async Task<(HealthStatus, string?)> CheckAsync(List<(string Key, IHealthCheck Check)> checks, CancellationToken cancellationToken)
    {
        var worst = HealthStatus.Healthy;
        string? reason = null;
        foreach (var (key, check) in checks)
        {
            HealthCheckResult result;
            try
            {
                result = await check.CheckHealthAsync(new HealthCheckContext
                {
                    Registration = new HealthCheckRegistration(key, check, failureStatus: null, tags: null),
                }, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                result = HealthCheckResult.Unhealthy(e.Message, e);
            }
            if (result.Status < worst)
            {
                worst = result.Status;
                reason = result.Description ?? result.Exception?.Message;
            }
        }
        return (worst, reason);
    }

    Task PublishAsync(IResource resource, HealthStatus status)
        => notifications.PublishUpdateAsync(resource, s => s.State == KnownResourceStates.Running ? s with { HealthStatus = status } : s);
}
