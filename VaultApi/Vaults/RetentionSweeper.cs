using Microsoft.Extensions.Options;
using Sessions.ServiceDefaults.Hosting;

namespace Sessions.VaultApi.Vaults;

/// <summary>
/// Every <see cref="VaultApiOptions.SweepInterval"/>: stores the expired state of vaults past their session's expiry (reads
/// already derive it), reports <c>vault.expiring</c> <see cref="VaultApiOptions.ExpiringNotice"/> before a read-only vault's
/// deletion, and reports <c>vault.expired</c> then deletes vaults past retention with their documents and tokens.
/// "Now" comes from the TimeProvider.
/// </summary>
public sealed class RetentionSweeper(IServiceProvider services, IOptions<VaultApiOptions> options, ILogger<RetentionSweeper> logger)
    : PeriodicWorker(logger)
{
    protected override TimeSpan Interval => options.Value.SweepInterval;

    protected override string PassName => "Vault retention sweep";

    protected override Task RunPassAsync(CancellationToken cancellationToken) => SweepAsync(cancellationToken);

    public async Task<(int Expired, int Deleted)> SweepAsync(CancellationToken cancellationToken)
    {
        // Resolved per sweep, not at construction: the data source is created on first use, not at start-up.
        var store = services.GetRequiredService<VaultStore>();
        var events = services.GetRequiredService<VaultEvents>();
        var expired = await store.MarkExpiredAsync(cancellationToken);
        if (expired.Count > 0) logger.LogInformation("Vaults expired: {VaultIds}", string.Join(", ", expired.Take(20)));

        var deleted = new List<string>();
        foreach (var candidate in await store.SweepCandidatesAsync(options.Value.ExpiringNotice, options.Value.SweepBatchSize, cancellationToken))
        {
            var vault = candidate.Vault;
            // vault.expiring always precedes vault.expired, even when retention was shorter than the notice period.
            if (!candidate.ExpiringReported)
            {
                if (!await events.ReportAsync(VaultEvents.Expiring, vault, candidate.Documents, cancellationToken))
                    continue;   // SessionApi unavailable: this vault waits for the next sweep (it is never deleted unreported)
                await store.MarkExpiringReportedAsync(vault.Id, cancellationToken);
            }
            if (candidate.Due && await events.ReportAsync(VaultEvents.Expired, vault, candidate.Documents, cancellationToken)
                && await store.DeleteExpiredAsync(vault.Id, cancellationToken))
                deleted.Add(vault.Id);
        }
        if (deleted.Count > 0) logger.LogInformation("Vaults deleted after retention: {VaultIds}", string.Join(", ", deleted.Take(20)));
        return (expired.Count, deleted.Count);
    }
}
