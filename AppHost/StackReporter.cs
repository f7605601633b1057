using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Sessions.AppHost.Servers;

namespace Sessions.AppHost;

/// <summary>
/// The console side of the dashboard: which servers run (containers or local processes, and why), then, once every
/// resource is Running and healthy, the resource table, <c>Stack is up in N s</c> (counted from the AppHost's start) and
/// the gate's URL. tests/Benchmarks/gate-benchmark.sh reads these lines.
/// </summary>
public static class StackReporter
{
    public static IDistributedApplicationBuilder AddStackReporter(this IDistributedApplicationBuilder builder, string entryPoint)
    {
        if (!builder.ExecutionContext.IsRunMode) return builder;
        var mode = ServerMode.Of(builder);
        // Every resource's output on the console too, prefixed with its name (AppHost:EchoLogs=false turns it off).
        var echoLogs = builder.Configuration["AppHost:EchoLogs"] != "false";
        var width = 12;
        builder.Eventing.Subscribe<BeforeStartEvent>((e, ct) =>
        {
            var logger = e.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Sessions.AppHost");
            logger.LogInformation("Redis and Postgres run as {Mode}: {Reason}.", mode.UseContainers ? "containers" : "local processes", mode.Reason);
            var stopping = e.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
            _ = ReportWhenUpAsync(e.Services.GetRequiredService<ResourceNotificationService>(), entryPoint, stopping);
            if (echoLogs)
                foreach (var resource in e.Model.Resources.Where(r => r is not ParameterResource))
                    _ = EchoLogsAsync(e.Services.GetRequiredService<ResourceLoggerService>(), resource, width, stopping);
            return Task.CompletedTask;
        });
        return builder;
    }

    static async Task ReportWhenUpAsync(ResourceNotificationService notifications, string entryPoint, CancellationToken cancellationToken)
    {
        var latest = new Dictionary<string, CustomResourceSnapshot>();
        try
        {
            await foreach (var change in notifications.WatchAsync(cancellationToken))
            {
                // Parameters have no process; hidden resources (the dashboard, rebuilders) are not the stack.
                if (change.Snapshot.ResourceType == "Parameter" || change.Snapshot.IsHidden) continue;
                latest[change.Resource.Name] = change.Snapshot;
                if (latest.Values.All(s => s.State?.Text == KnownResourceStates.Running && s.HealthStatus == Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy)
                    && latest.ContainsKey(entryPoint))
                {
                    var elapsed = DateTime.Now - Process.GetCurrentProcess().StartTime;
                    Console.WriteLine(Table(latest));
                    Console.WriteLine($"Stack is up in {elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s: {latest.Count} resources running and healthy.");
                    Console.WriteLine($"  ==> {entryPoint}: {Url(latest[entryPoint])}");
                    return;
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
        {
            // the AppHost is stopping
        }
    }

    static async Task EchoLogsAsync(ResourceLoggerService logs, IResource resource, int width, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var batch in logs.WatchAsync(resource).WithCancellation(cancellationToken))
                foreach (var line in batch)
                    Console.WriteLine($"{resource.Name.PadRight(width)}| {line.Content}");
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
        {
            // the AppHost is stopping
        }
    }

    static string Url(CustomResourceSnapshot snapshot) => snapshot.Urls.FirstOrDefault(u => !u.IsInternal)?.Url ?? "-";

    static string Table(Dictionary<string, CustomResourceSnapshot> resources)
    {
        var rows = resources.Select(r => new[]
        {
            r.Key, r.Value.ResourceType, r.Value.State?.Text ?? "-", r.Value.HealthStatus?.ToString() ?? "-", Url(r.Value),
            r.Value.Properties.FirstOrDefault(p => p.Name == "executable.pid")?.Value?.ToString() ?? "-",
        }).Prepend(["NAME", "TYPE", "STATE", "HEALTH", "ENDPOINT", "PID"]).ToList();
        var widths = Enumerable.Range(0, 6).Select(c => rows.Max(r => r[c].Length)).ToArray();
        var lines = rows.Select(r => "  " + string.Join("  ", r.Select((cell, c) => cell.PadRight(widths[c]))).TrimEnd());
        return $"Resources ({DateTime.Now:HH:mm:ss}){Environment.NewLine}{string.Join(Environment.NewLine, lines)}";
    }
}
