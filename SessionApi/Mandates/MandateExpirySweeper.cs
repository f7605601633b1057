using Microsoft.Extensions.Options;
using Sessions.ServiceDefaults.Hosting;

namespace Sessions.SessionApi.Mandates;

/// <summary>
/// Marks mandates past their expiry <c>expired</c> every <see cref="SessionApiOptions.SweepInterval"/>, each with its
/// <c>agent.session.expired</c> event in the same transaction. Charges and creates already expire them lazily; the sweeper
/// makes the state (and the event) true for agents that stopped spending. "Now" comes from the TimeProvider.
/// </summary>
public sealed class MandateExpirySweeper(IServiceProvider services, IOptions<SessionApiOptions> options, ILogger<MandateExpirySweeper> logger)
    : PeriodicWorker(logger)
{
    protected override TimeSpan Interval => options.Value.SweepInterval;

    protected override string PassName => "Mandate expiry sweep";

    protected override Task RunPassAsync(CancellationToken cancellationToken) => SweepAsync(cancellationToken);

    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        using var activity = SessionApiTelemetry.ActivitySource.StartActivity("mandates.sweep");
        var expired = await services.GetRequiredService<MandateStore>().SweepExpiredAsync(cancellationToken);
        if (expired.Count > 0)
            logger.LogInformation("Expired {Count} mandates: {MandateIds}", expired.Count, string.Join(", ", expired.Take(20)));
        activity?.SetTag("mandates.expired", expired.Count);
        return expired.Count;
    }
}
