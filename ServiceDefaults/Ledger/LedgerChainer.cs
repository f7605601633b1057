using System.Data;
using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;
using Sessions.Payments.Ledger;
using Sessions.ServiceDefaults.Hosting;

namespace Sessions.ServiceDefaults.Ledger;

/// <summary>The chain's last entry: what a checkpoint signs. Position -1 and the genesis hash for an empty chain.</summary>
public sealed record LedgerChainHead(string Ledger, long Position, string Head);

/// <summary>
/// Appends committed ledger rows to the chain in batches, off the money path (docs/ledger-chain.md). A pass is one
/// REPEATABLE READ transaction: its snapshot's xmin is the oldest transaction still running, so every row stamped with a
/// lower xid is committed (or rolled back, then invisible) and no row can appear below it later. Rows are taken in
/// (xid, id) order above each source's cursor and below that xmin; a row whose transaction is still in flight waits for
/// a later pass, whatever its id. One chainer per database at a time (advisory lock): a second replica's waits its turn.
/// </summary>
public sealed class LedgerChainer(NpgsqlDataSource dataSource, LedgerChainOptions options, TimeProvider time, ILogger<LedgerChainer> logger)
{
    const long LockKey = 0x4c_65_64_67_65_72;   // "Ledger"

    public LedgerChainOptions Options => options;

    /// <summary>Chains everything committed so far, in passes of at most <see cref="LedgerChainOptions.BatchSize"/> rows per source.
    /// Returns the number of entries appended.</summary>
    public async Task<int> ChainAsync(CancellationToken cancellationToken)
    {
        var total = 0;
        while (true)
        {
            var (appended, more) = await PassAsync(cancellationToken);
            total += appended;
            if (!more) return total;
        }
    }

    async Task<(int Appended, bool More)> PassAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        // Taken before the transaction, so that its snapshot (below) sees what the chainer that held the lock appended.
        await Execute(connection, "SELECT pg_advisory_lock($1)", cancellationToken);
        try
        {
            return await PassLockedAsync(connection, cancellationToken);
        }
        finally
        {
            if (connection.State == ConnectionState.Open)   // a broken connection's session, and its lock, are gone already
                await Execute(connection, "SELECT pg_advisory_unlock($1)", CancellationToken.None);
        }
    }

    static async Task Execute(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.Add(new NpgsqlParameter { Value = LockKey });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    async Task<(int Appended, bool More)> PassLockedAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);
        // The first statement fixes the transaction's snapshot: the xmin read here is that snapshot's.
        string xmin;
        await using (var start = new NpgsqlCommand("SELECT pg_snapshot_xmin(pg_current_snapshot())::text", connection, transaction))
            xmin = (string)(await start.ExecuteScalarAsync(cancellationToken))!;
        var head = await HeadAsync(connection, transaction, cancellationToken);
        var cursors = await CursorsAsync(connection, transaction, cancellationToken);

        var now = time.GetUtcNow();
        var entries = new List<LedgerChainEntry>();
        var more = false;
        foreach (var source in options.Sources)
        {
            var (cursorXid, cursorId) = cursors.GetValueOrDefault(source.Name, Start(source));
            var rows = 0;
            await using (var select = new NpgsqlCommand(source.PendingSql, connection, transaction))
            {
                select.Parameters.Add(new NpgsqlParameter { Value = xmin });
                select.Parameters.Add(new NpgsqlParameter { Value = cursorXid });
                select.Parameters.Add(new NpgsqlParameter { Value = cursorId });
                select.Parameters.Add(new NpgsqlParameter { Value = options.BatchSize });
                await using var reader = await select.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    var entry = LedgerChainEntry.Create(head.Position + 1, head.Head, source.Name, reader.GetString(2), reader.GetString(0),
                        reader.GetString(1), source.ContentOf(reader, first: 3), now);
                    entries.Add(entry);
                    head = head with { Position = entry.Position, Head = entry.EntryHash };
                    (cursorXid, cursorId) = (entry.RowXid, entry.RowId);
                    rows++;
                }
            }
            if (rows == 0) continue;
            more |= rows == options.BatchSize;
            await using var cursor = new NpgsqlCommand("""
                INSERT INTO ledger_chain_cursors (source, xid, row_id) VALUES ($1, $2::text::xid8, $3)
                ON CONFLICT (source) DO UPDATE SET xid = EXCLUDED.xid, row_id = EXCLUDED.row_id
                """, connection, transaction);
            cursor.Parameters.Add(new NpgsqlParameter { Value = source.Name });
            cursor.Parameters.Add(new NpgsqlParameter { Value = cursorXid });
            cursor.Parameters.Add(new NpgsqlParameter { Value = cursorId });
            await cursor.ExecuteNonQueryAsync(cancellationToken);
        }
        if (entries.Count == 0) return (0, false);

        // Binary COPY rather than an INSERT of unnested arrays: about 1 µs less of Postgres per entry (no array to build, send
        // and unnest per column), on a cost issue 19's benchmark rule counts per session debit (docs/benchmarks.md).
        await using (var copy = await connection.BeginBinaryImportAsync("""
            COPY ledger_chain (position, source, kind, row_id, row_xid, content, row_hash, prev_hash, entry_hash, chained_at)
            FROM STDIN (FORMAT BINARY)
            """, cancellationToken))
        {
            foreach (var entry in entries)
            {
                await copy.StartRowAsync(cancellationToken);
                await copy.WriteAsync(entry.Position, NpgsqlDbType.Bigint, cancellationToken);
                await copy.WriteAsync(entry.Source, NpgsqlDbType.Text, cancellationToken);
                await copy.WriteAsync(entry.Kind, NpgsqlDbType.Text, cancellationToken);
                await copy.WriteAsync(entry.RowId, NpgsqlDbType.Text, cancellationToken);
                await copy.WriteAsync(ulong.Parse(entry.RowXid, CultureInfo.InvariantCulture), NpgsqlDbType.Xid8, cancellationToken);
                await copy.WriteAsync(entry.Content, NpgsqlDbType.Text, cancellationToken);
                await copy.WriteAsync(entry.RowHash, NpgsqlDbType.Text, cancellationToken);
                await copy.WriteAsync(entry.PrevHash, NpgsqlDbType.Text, cancellationToken);
                await copy.WriteAsync(entry.EntryHash, NpgsqlDbType.Text, cancellationToken);
                await copy.WriteAsync(now.UtcDateTime, NpgsqlDbType.TimestampTz, cancellationToken);
            }
            await copy.CompleteAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
        logger.LogDebug("Chained {Count} ledger movements of {Ledger}, head at {Position}", entries.Count, options.Ledger, head.Position);
        return (entries.Count, more);
    }

    /// <summary>Before the first row of a source: xid 0 is never a transaction's.</summary>
    static (string Xid, string Id) Start(LedgerChainSource source) => ("0", source.IdType == "text" ? "" : "0");

    static async Task<Dictionary<string, (string Xid, string Id)>> CursorsAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction,
        CancellationToken cancellationToken)
    {
        var cursors = new Dictionary<string, (string Xid, string Id)>(StringComparer.Ordinal);
        await using var select = new NpgsqlCommand("SELECT source, xid::text, row_id FROM ledger_chain_cursors", connection, transaction);
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            cursors[reader.GetString(0)] = (reader.GetString(1), reader.GetString(2));
        return cursors;
    }

    /// <summary>
    /// Movements written but not chained yet (the chain's lag). The chainer waits for the oldest running transaction of the
    /// whole Postgres cluster (xids are cluster-wide), so a long transaction in another database delays the chain too.
    /// </summary>
    public async Task<long> UnchainedAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var cursors = await CursorsAsync(connection, null, cancellationToken);
        var total = 0L;
        foreach (var source in options.Sources)
        {
            var (xid, id) = cursors.GetValueOrDefault(source.Name, Start(source));
            await using var count = new NpgsqlCommand(source.UnchainedSql, connection);
            count.Parameters.Add(new NpgsqlParameter { Value = xid });
            count.Parameters.Add(new NpgsqlParameter { Value = id });
            total += (long)(await count.ExecuteScalarAsync(cancellationToken))!;
        }
        return total;
    }

    /// <summary>The chain's head now.</summary>
    public async Task<LedgerChainHead> HeadAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await HeadAsync(connection, null, cancellationToken);
    }

    async Task<LedgerChainHead> HeadAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, CancellationToken cancellationToken)
    {
        await using var select = new NpgsqlCommand("SELECT position, entry_hash FROM ledger_chain ORDER BY position DESC LIMIT 1", connection, transaction);
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new LedgerChainHead(options.Ledger, reader.GetInt64(0), reader.GetString(1))
            : new LedgerChainHead(options.Ledger, -1, LedgerChainEntry.Genesis);
    }
}

/// <summary>
/// Runs the chainer every <see cref="LedgerChainOptions.Interval"/>, in the background: the money path never waits for it.
/// <c>Ledger:Chain:Enabled</c> false (for measuring the chain's cost, or an operator who does not want it): it does not run in
/// this service; rows keep their xid stamps, so turning it back on chains everything written meanwhile, in order.
/// </summary>
public sealed class LedgerChainWorker(LedgerChainer chainer, IConfiguration configuration, ILogger<LedgerChainWorker> logger) : PeriodicWorker(logger)
{
    public const string EnabledKey = "Ledger:Chain:Enabled";

    protected override TimeSpan Interval => chainer.Options.Interval;
    protected override string PassName => "Ledger chaining";
    protected override bool RunsAtStart => true;

    protected override bool Enabled
    {
        get
        {
            if (configuration.GetValue(EnabledKey, true))
                return true;
            logger.LogWarning("{Key} is false: movements of the {Ledger} ledger are not chained; audit verify covers only what was chained before",
                EnabledKey, chainer.Options.Ledger);
            return false;
        }
    }

    protected override Task RunPassAsync(CancellationToken cancellationToken) => chainer.ChainAsync(cancellationToken);
}
