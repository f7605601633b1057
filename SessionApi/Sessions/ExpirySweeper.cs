using Microsoft.Extensions.Options;

namespace Sessions.SessionApi.Sessions;

/// <summary>
/// Marks sessions past their expiry EXPIRED every <see cref="SessionApiOptions.SweepInterval"/>. Use already expires them
/// lazily (resolve, debit, top-up, GET); the sweeper makes the state true for sessions nobody touches. Both emit
/// session.expired in the expiring transaction (SessionWebhooks.ExpireAsync). "Now" comes from the TimeProvider; the
/// interval is wall-clock.
/// </summary>
public sealed class ExpirySweeper(IServiceProvider services, IOptions<SessionApiOptions> options, ILogger<ExpirySweeper> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // First sweep after one interval: start-up stays free of database work beyond the migrations.
        using var timer = new PeriodicTimer(options.Value.SweepInterval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await SweepAsync(stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                // The database may be down for a while; the next tick tries again.
                logger.LogWarning(e, "Expiry sweep failed");
            }
        }
    }

    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        using var activity = SessionApiTelemetry.ActivitySource.StartActivity("sessions.sweep");
        var expired = await services.GetRequiredService<SessionStore>().ExpireDueAsync(cancellationToken);
        if (expired.Count > 0)
            logger.LogInformation("Expired {Count} sessions: {SessionIds}", expired.Count, string.Join(", ", expired.Take(20)));
        activity?.SetTag("sessions.expired", expired.Count);
        return expired.Count;
    }
}
