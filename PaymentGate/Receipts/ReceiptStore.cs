using System.Threading.Channels;
using Npgsql;
using NpgsqlTypes;
using Sessions.Payments.Receipts;

namespace Sessions.PaymentGate.Receipts;

/// <summary>A signed receipt with the columns it is listed by.</summary>
public sealed record StoredReceipt(Receipt Receipt, string Jws, DateTimeOffset At);

/// <summary>The receipts of one payer and organisation in one pass of the writer: a <c>receipt_batches</c> row.</summary>
/// <param name="Key">The row's id, fixed when the batch is made: written again after a failure, it is stored once.</param>
/// <param name="Receipts">In ascending id order.</param>
public sealed record ReceiptBatch(Guid Key, string Payer, string Organization, IReadOnlyList<StoredReceipt> Receipts)
{
    /// <summary>The receipts in batches, a batch per payer and organisation.</summary>
    public static List<ReceiptBatch> Of(IEnumerable<StoredReceipt> receipts) =>
        receipts.GroupBy(r => (r.Receipt.Payer, r.Receipt.Organization))
            .Select(g => new ReceiptBatch(Guid.CreateVersion7(), g.Key.Payer, g.Key.Organization,
                g.OrderBy(r => r.Receipt.Id, StringComparer.Ordinal).ToList()))
            .ToList();
}

/// <summary>
/// Receipts in gatedb (<c>receipt_batches</c>: a row per payer and organisation of each batch, docs/receipts.md), written
/// off the money path: <see cref="Enqueue"/> only queues (bounded), a background loop writes what is queued every
/// <see cref="BatchInterval"/> in one round trip, and stopping the gate drains the queue first, so a clean shutdown loses
/// none. A crash loses at most the last interval's receipts from the listing; the client still holds each one (signed,
/// verifiable), and the charge itself is in the payments row or the session debit stream as before.
/// </summary>
public sealed partial class ReceiptStore(IServiceProvider services, ILogger<ReceiptStore> logger) : BackgroundService
{
    public const int BatchSize = 500;
    public const int Capacity = 100_000;

    /// <summary>How long the loop gathers receipts before one write: one commit per interval, not per request.</summary>
    static readonly TimeSpan BatchInterval = TimeSpan.FromMilliseconds(100);

    readonly Channel<StoredReceipt> queue = Channel.CreateBounded<StoredReceipt>(
        new BoundedChannelOptions(Capacity) { FullMode = BoundedChannelFullMode.Wait });

    /// <summary>Batches whose write failed, written first on the next pass with the same keys. Only the writing pass
    /// touches it (the loop, a flush or the last drain: they do not overlap but for a test's flush, hence the lock).</summary>
    readonly List<ReceiptBatch> failed = [];
    readonly SemaphoreSlim writing = new(1, 1);

    NpgsqlDataSource Database => services.GetRequiredService<NpgsqlDataSource>();

    /// <summary>Queues a receipt; when the queue is full (gatedb down for long) it is dropped and logged rather than slowing paid requests.</summary>
    public void Enqueue(StoredReceipt receipt)
    {
        if (!queue.Writer.TryWrite(receipt))
            LogDropped(receipt.Receipt.Id);
    }

    /// <summary>Writes everything queued so far (tests; the loop does the same every pass).</summary>
    public Task FlushAsync(CancellationToken cancellationToken) => WriteQueuedAsync(cancellationToken);

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        // Requests still being answered while the host stops (the server may stop after this service) queue theirs later:
        // the last drain runs once everything has stopped.
        services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopped
            .Register(() => WriteQueuedAsync(CancellationToken.None).GetAwaiter().GetResult());
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (await queue.Reader.WaitToReadAsync(stoppingToken))
            {
                await Task.Delay(BatchInterval, stoppingToken);
                // Not the stopping token: a batch taken off the queue is written, never dropped by the stop. gatedb down:
                // a pause before the next try (outside the write's lock, so a flush or the last drain need not wait it out).
                if (!await WriteQueuedAsync(CancellationToken.None))
                    await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        // Not the host's stop token either: cancelled mid-write, it would lose the batch being written.
        await WriteQueuedAsync(CancellationToken.None);
    }

    /// <summary>Writes the failed batches and the queue; false when a write failed (its batches are kept for the next pass).</summary>
    async Task<bool> WriteQueuedAsync(CancellationToken cancellationToken)
    {
        await writing.WaitAsync(cancellationToken);
        try
        {
            var taken = new List<StoredReceipt>();
            while (true)
            {
                taken.Clear();
                while (taken.Count < BatchSize && queue.Reader.TryRead(out var next))
                    taken.Add(next);
                if (taken.Count == 0 && failed.Count == 0)
                    return true;
                // Failed batches first, as they were: their keys make a write whose commit did land (its answer lost) a no-op.
                var batches = failed.Concat(ReceiptBatch.Of(taken)).ToList();
                failed.Clear();
                try
                {
                    await WriteAsync(batches, cancellationToken);
                }
                catch (Exception exception) when (exception is not OperationCanceledException)
                {
                    // gatedb down (or not configured): kept for the next pass; the bounded queue keeps memory in check
                    // meanwhile. Never thrown on: a background service's exception would stop the gate.
                    failed.AddRange(batches);
                    LogWriteFailed(exception, batches.Sum(b => b.Receipts.Count));
                    return false;
                }
            }
        }
        finally
        {
            writing.Release();
        }
    }

    /// <summary>Writes <paramref name="batches"/> in one round trip; a batch already stored (its key) is skipped.</summary>
    public async Task WriteAsync(IReadOnlyList<ReceiptBatch> batches, CancellationToken cancellationToken)
    {
        if (batches.Count == 0)
            return;
        // Unflushed (synchronous_commit off for this transaction): no WAL flush wait per pass; a crash of Postgres can lose the
        // last batches, which a crash of the gate could anyway (see the class).
        const string Insert = """
            INSERT INTO receipt_batches (id, payer, organization, first_id, last_id, created_at, ids, jws)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
            ON CONFLICT (id) DO NOTHING
            """;
        await using var write = Paywall.PaymentStore.Unflushed(Database, unflushed: true, Insert);
        for (var i = 0; i < batches.Count; i++)
        {
            var batch = batches[i];
            var command = write.BatchCommands[^1];
            if (i > 0)
                write.BatchCommands.Add(command = new NpgsqlBatchCommand(Insert));
            command.Parameters.Add(new NpgsqlParameter { Value = batch.Key });
            command.Parameters.Add(new NpgsqlParameter { Value = batch.Payer });
            command.Parameters.Add(new NpgsqlParameter { Value = batch.Organization });
            command.Parameters.Add(new NpgsqlParameter { Value = batch.Receipts[0].Receipt.Id });
            command.Parameters.Add(new NpgsqlParameter { Value = batch.Receipts[^1].Receipt.Id });
            command.Parameters.Add(new NpgsqlParameter { Value = batch.Receipts[^1].At.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            command.Parameters.Add(new NpgsqlParameter { Value = batch.Receipts.Select(r => r.Receipt.Id).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
            command.Parameters.Add(new NpgsqlParameter { Value = batch.Receipts.Select(r => r.Jws).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        }
        await write.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// A page of receipts, newest (highest id) first, of one payer or one organisation (or both, or all);
    /// <paramref name="before"/>: the last id of the previous page. Batches are read newest last id first, a few at a
    /// time, until no batch left can hold an id above the page's lowest.
    /// </summary>
    public async Task<IReadOnlyList<StoredReceipt>> ListAsync(string? payer, string? organization, int limit, string? before,
        CancellationToken cancellationToken)
    {
        const int BatchesPerRead = 8;
        // The page's candidates by id, highest first; only those kept are parsed, at the end.
        var page = new List<(string Id, string Jws, DateTimeOffset At)>();
        (string LastId, Guid Key)? after = null;
        while (true)
        {
            await using var command = Database.CreateCommand("""
                SELECT id, last_id, ids, jws, created_at FROM receipt_batches
                WHERE ($1::text IS NULL OR payer = $1) AND ($2::text IS NULL OR organization = $2)
                  AND ($3::text IS NULL OR first_id < $3)
                  AND ($4::text IS NULL OR (last_id, id) < ($4, $5))
                ORDER BY last_id DESC, id DESC LIMIT $6
                """);
            command.Parameters.Add(new NpgsqlParameter { Value = (object?)payer ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            command.Parameters.Add(new NpgsqlParameter { Value = (object?)organization ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            command.Parameters.Add(new NpgsqlParameter { Value = (object?)before ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            command.Parameters.Add(new NpgsqlParameter { Value = (object?)after?.LastId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            command.Parameters.Add(new NpgsqlParameter { Value = after?.Key ?? Guid.Empty });
            command.Parameters.Add(new NpgsqlParameter { Value = BatchesPerRead });
            var read = 0;
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
                while (await reader.ReadAsync(cancellationToken))
                {
                    read++;
                    after = (reader.GetString(1), reader.GetGuid(0));
                    // The page is full and this batch (and every later one) holds no id above its lowest: done.
                    if (page.Count >= limit && string.CompareOrdinal(after.Value.LastId, page[^1].Id) < 0)
                        return Parsed(page);
                    var (ids, jws, at) = (reader.GetFieldValue<string[]>(2), reader.GetFieldValue<string[]>(3), reader.GetFieldValue<DateTimeOffset>(4));
                    for (var i = 0; i < ids.Length; i++)
                        if (before is null || string.CompareOrdinal(ids[i], before) < 0)
                            page.Add((ids[i], jws[i], at));
                    page.Sort((x, y) => string.CompareOrdinal(y.Id, x.Id));
                    if (page.Count > limit)
                        page.RemoveRange(limit, page.Count - limit);
                }
            if (read < BatchesPerRead)
                return Parsed(page);
        }

        static List<StoredReceipt> Parsed(List<(string Id, string Jws, DateTimeOffset At)> page) =>
            page.Select(r => new StoredReceipt(Receipt.TryParse(Jws.PayloadOf(r.Jws))!, r.Jws, r.At)).ToList();
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Receipt queue full: receipt {ReceiptId} was not stored (its client holds it)")]
    partial void LogDropped(string receiptId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Writing {Count} receipts to gatedb failed; retrying")]
    partial void LogWriteFailed(Exception exception, int count);
}
