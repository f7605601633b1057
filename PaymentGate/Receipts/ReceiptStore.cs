using System.Threading.Channels;
using Npgsql;
using NpgsqlTypes;
using Sessions.Payments.Receipts;

namespace Sessions.PaymentGate.Receipts;

/// <summary>A signed receipt with the columns it is listed by.</summary>
public sealed record StoredReceipt(Receipt Receipt, string Jws, DateTimeOffset At);

/// <summary>
/// Receipts in gatedb (<c>receipts</c>), written off the money path: <see cref="Enqueue"/> only queues (bounded), a background
/// loop inserts what is queued in one statement per batch, and stopping the gate drains the queue first, so a clean shutdown
/// loses none. A crash loses at most the last batch interval's receipts from the listing; the client still holds each one
/// (signed, verifiable), and the charge itself is in the payments row or the session debit stream as before.
/// </summary>
public sealed partial class ReceiptStore(IServiceProvider services, ILogger<ReceiptStore> logger) : BackgroundService
{
    public const int BatchSize = 500;
    public const int Capacity = 100_000;

    /// <summary>How long the loop gathers receipts before one insert: one commit per interval, not per request.</summary>
    static readonly TimeSpan BatchInterval = TimeSpan.FromMilliseconds(100);

    readonly Channel<StoredReceipt> queue = Channel.CreateBounded<StoredReceipt>(
        new BoundedChannelOptions(Capacity) { FullMode = BoundedChannelFullMode.Wait });

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
                // Not the stopping token: a batch taken off the queue is written, never dropped by the stop.
                await WriteQueuedAsync(CancellationToken.None);
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

    async Task WriteQueuedAsync(CancellationToken cancellationToken)
    {
        var batch = new List<StoredReceipt>();
        try
        {
            while (true)
            {
                batch.Clear();
                while (batch.Count < BatchSize && queue.Reader.TryRead(out var next))
                    batch.Add(next);
                if (batch.Count == 0)
                    return;
                await WriteAsync(batch, cancellationToken);
            }
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            // gatedb down (or not configured): put the batch back and retry after a pause; the bounded queue keeps memory in
            // check meanwhile. Never thrown on: a background service's exception would stop the gate.
            LogWriteFailed(exception, batch.Count);
            foreach (var receipt in batch)
                queue.Writer.TryWrite(receipt);
            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
        }
    }

    async Task WriteAsync(IReadOnlyList<StoredReceipt> batch, CancellationToken cancellationToken)
    {
        // Unflushed (synchronous_commit off for this transaction): no WAL flush wait per batch; a crash of Postgres can lose the
        // last batches, which a crash of the gate could anyway (see the class).
        await using var insert = Paywall.PaymentStore.Unflushed(Database, unflushed: true, """
            INSERT INTO receipts (id, payer, organization, created_at, jws)
            SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::text[])
            ON CONFLICT (id) DO NOTHING
            """);
        var command = insert.BatchCommands[^1];
        Add(command, batch.Select(r => r.Receipt.Id));
        Add(command, batch.Select(r => r.Receipt.Payer));
        Add(command, batch.Select(r => r.Receipt.Organization));
        command.Parameters.Add(new NpgsqlParameter
        {
            Value = batch.Select(r => r.At.UtcDateTime).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz,
        });
        Add(command, batch.Select(r => r.Jws));
        await insert.ExecuteNonQueryAsync(cancellationToken);

        static void Add(NpgsqlBatchCommand command, IEnumerable<string> values) => command.Parameters.Add(new NpgsqlParameter
        {
            Value = values.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text,
        });
    }

    /// <summary>A page of receipts, newest first, of one payer or one organisation; <paramref name="before"/>: the last id of the previous page.</summary>
    public async Task<IReadOnlyList<StoredReceipt>> ListAsync(string? payer, string? organization, int limit, string? before,
        CancellationToken cancellationToken)
    {
        await using var command = Database.CreateCommand("""
            SELECT jws, created_at FROM receipts
            WHERE ($1::text IS NULL OR payer = $1) AND ($2::text IS NULL OR organization = $2)
              AND ($3::text IS NULL OR (created_at, id) < (SELECT created_at, id FROM receipts WHERE id = $3))
            ORDER BY created_at DESC, id DESC LIMIT $4
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)payer ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)organization ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)before ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = limit });
        var page = new List<StoredReceipt>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var jws = reader.GetString(0);
            page.Add(new StoredReceipt(Receipt.TryParse(Jws.PayloadOf(jws))!, jws, reader.GetFieldValue<DateTimeOffset>(1)));
        }
        return page;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Receipt queue full: receipt {ReceiptId} was not stored (its client holds it)")]
    partial void LogDropped(string receiptId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Writing {Count} receipts to gatedb failed; retrying")]
    partial void LogWriteFailed(Exception exception, int count);
}
