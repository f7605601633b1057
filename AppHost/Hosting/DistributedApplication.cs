using System.Runtime.InteropServices;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Sessions.Hosting.ApplicationModel;

namespace Sessions.Hosting;

/// <summary>
/// The running application: a generic host whose hosted service starts the resources (run mode) or writes
/// the manifest (publish mode). Ctrl+C, SIGTERM and SIGHUP stop it; stopping stops every resource.
/// </summary>
public sealed class DistributedApplication : IHost, IAsyncDisposable
{
    readonly IHost _host;
    int _disposed;

    internal DistributedApplication(IHost host) => _host = host;

    public static IDistributedApplicationBuilder CreateBuilder(string[] args)
        => new DistributedApplicationBuilder(new DistributedApplicationOptions { Args = args });

    public static IDistributedApplicationBuilder CreateBuilder(DistributedApplicationOptions options)
        => new DistributedApplicationBuilder(options);

    public IServiceProvider Services => _host.Services;

    public ResourceNotificationService ResourceNotifications => Services.GetRequiredService<ResourceNotificationService>();

    public ResourceLoggerService ResourceLogs => Services.GetRequiredService<ResourceLoggerService>();

    public DistributedApplicationModel Model => Services.GetRequiredService<DistributedApplicationModel>();

    /// <summary>Stop, start and restart resources while the application runs (Aspire's <c>ResourceCommands</c>).</summary>
    public ResourceCommandService ResourceCommands => Services.GetRequiredService<ResourceCommandService>();

    public Task StartAsync(CancellationToken cancellationToken = default) => _host.StartAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken = default) => _host.StopAsync(cancellationToken);

    public async Task RunAsync(CancellationToken cancellationToken = default)
    {
        // A closed terminal must stop the children too (ConsoleLifetime handles SIGINT, SIGQUIT and SIGTERM).
        var lifetime = Services.GetRequiredService<IHostApplicationLifetime>();
        using var hangup = OperatingSystem.IsWindows() ? null
            : PosixSignalRegistration.Create(PosixSignal.SIGHUP, context => { context.Cancel = true; lifetime.StopApplication(); });
        // RunAsync stops and disposes the host.
        Interlocked.Exchange(ref _disposed, 1);
        await _host.RunAsync(cancellationToken).ConfigureAwait(false);
    }

    public void Run() => RunAsync().GetAwaiter().GetResult();

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        try
        {
            await _host.StopAsync().ConfigureAwait(false);
        }
        finally
        {
            if (_host is IAsyncDisposable asyncDisposable) await asyncDisposable.DisposeAsync().ConfigureAwait(false);
            else _host.Dispose();
        }
    }
}
