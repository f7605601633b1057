using Microsoft.Extensions.Options;
using Sessions.ServiceDefaults.Hosting;

namespace Sessions.SessionApi.Sessions;

/// <summary>
/// Marks sessions past their expiry EXPIRED every <see cref="SessionApiOptions.SweepInterval"/>. Use already expires them
/// lazily (resolve, debit, top-up, GET); the sweeper makes the state true for sessions nobody touches. Both emit
/// session.expired in the expiring transaction (SessionWebhooks.ExpireAsync). "Now" comes from the TimeProvider; the
/// interval is wall-clock.
/// </summary>
public sealed class ExpirySweeper(IServiceProvider services, IOptions<SessionApiOptions> options, ILogger<ExpirySweeper> logger)
    : PeriodicWorker(logger)
{
    // First sweep after one interval (RunsAtStart false): start-up stays free of database work beyond the migrations.
    protected override TimeSpan Interval => options.Value.SweepInterval;

    protected override string PassName => "Expiry sweep";

    protected override Task RunPassAsync(CancellationToken cancellationToken) => SweepAsync(cancellationToken);

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
