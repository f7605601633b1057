using Microsoft.Extensions.Options;
using Sessions.ServiceDefaults.Hosting;
using Npgsql;

namespace Sessions.SessionApi.Webhooks;

/// <summary>
/// Keeps the outbox from growing forever: every <see cref="WebhookOptions.PruneInterval"/> it deletes events older than
/// <see cref="WebhookOptions.Retention"/> that have nothing left to deliver (every endpoint got them, or gave up), with their
/// delivery states and attempt log. Pending events are never pruned, whatever their age. "Now" comes from the TimeProvider.
/// </summary>
public sealed class OutboxPruner(IServiceProvider services, TimeProvider time, IOptions<WebhookOptions> options, ILogger<OutboxPruner> logger)
    : PeriodicWorker(logger)
{
    const int BatchSize = 1000;

    protected override TimeSpan Interval => options.Value.PruneInterval;

    protected override string PassName => "Webhook outbox pruning";

    protected override Task RunPassAsync(CancellationToken cancellationToken) => PruneAsync(cancellationToken);

    /// <summary>Deletes every prunable event (in batches of 1,000, one transaction each); returns how many.</summary>
    public async Task<int> PruneAsync(CancellationToken cancellationToken)
    {
        var cutoff = time.GetUtcNow() - options.Value.Retention;
        await using var connection = await services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(cancellationToken);
        var total = 0;
        while (true)
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            var ids = new List<string>();
            await using (var select = new NpgsqlCommand("""
                SELECT id FROM outbox WHERE created_at < $1 AND next_attempt_at IS NULL
                ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED
                """, connection, transaction))
            {
                select.Parameters.Add(new NpgsqlParameter { Value = cutoff });
                select.Parameters.Add(new NpgsqlParameter { Value = BatchSize });
                await using var reader = await select.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken)) ids.Add(reader.GetString(0));
            }
            foreach (var sql in (string[])["DELETE FROM webhook_deliveries WHERE outbox_id = ANY($1)",
                         "DELETE FROM outbox_deliveries WHERE outbox_id = ANY($1)", "DELETE FROM outbox WHERE id = ANY($1)"])
            {
                await using var delete = new NpgsqlCommand(sql, connection, transaction);
                delete.Parameters.Add(new NpgsqlParameter { Value = ids.ToArray() });
                await delete.ExecuteNonQueryAsync(cancellationToken);
            }
            await transaction.CommitAsync(cancellationToken);
            total += ids.Count;
            if (ids.Count < BatchSize)
                break;
        }
        if (total > 0) logger.LogInformation("Pruned {Count} webhook events older than {Retention}", total, options.Value.Retention);
        return total;
    }
}
