using Microsoft.Extensions.Options;

namespace Sessions.VaultApi.Vaults;

/// <summary>
/// Every <see cref="VaultApiOptions.SweepInterval"/>: stores the expired state of vaults past their session's expiry (reads
/// already derive it) and deletes vaults past retention with their documents and tokens. "Now" comes from the TimeProvider.
/// </summary>
public sealed class RetentionSweeper(IServiceProvider services, IOptions<VaultApiOptions> options, ILogger<RetentionSweeper> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.SweepInterval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await SweepAsync(stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(e, "Vault retention sweep failed");   // the next tick tries again
            }
        }
    }

    public async Task<(int Expired, int Deleted)> SweepAsync(CancellationToken cancellationToken)
    {
        // Resolved per sweep, not at construction: the data source is created on first use, not at start-up.
        var (expired, deleted) = await services.GetRequiredService<VaultStore>().SweepAsync(cancellationToken);
        if (expired.Count > 0) logger.LogInformation("Vaults expired: {VaultIds}", string.Join(", ", expired.Take(20)));
        if (deleted.Count > 0) logger.LogInformation("Vaults deleted after retention: {VaultIds}", string.Join(", ", deleted.Take(20)));
        return (expired.Count, deleted.Count);
    }
}
