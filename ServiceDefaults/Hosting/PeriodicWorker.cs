using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Sessions.ServiceDefaults.Hosting;

/// <summary>
/// A background loop that runs one pass every <see cref="Interval"/> (wall-clock). A failed pass is logged as a warning and
/// the next tick tries again: the database or a peer service may be down for a while, and the loop must outlive that.
/// Passes are public on the derived classes so tests can run one directly instead of waiting for a tick.
/// </summary>
public abstract class PeriodicWorker(ILogger logger) : BackgroundService
{
    /// <summary>Time between passes.</summary>
    protected abstract TimeSpan Interval { get; }

    /// <summary>What a pass does, for the log line of a failed one ("Vault retention sweep").</summary>
    protected abstract string PassName { get; }

    /// <summary>
    /// True: the first pass runs at start (work left by an earlier process is picked up at once). False: after one interval,
    /// so start-up stays free of database work beyond the migrations.
    /// </summary>
    protected virtual bool RunsAtStart => false;

    /// <summary>False: the loop never runs (e.g. the peer service it calls is not configured); the derived class logs why.</summary>
    protected virtual bool Enabled => true;

    protected abstract Task RunPassAsync(CancellationToken cancellationToken);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!Enabled)
            return;
        using var timer = new PeriodicTimer(Interval);
        if (!RunsAtStart && !await timer.WaitForNextTickAsync(stoppingToken))
            return;
        do
        {
            try
            {
                await RunPassAsync(stoppingToken);
            }
            catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(exception, "{Pass} failed; the next pass in {Interval} tries again", PassName, Interval);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
