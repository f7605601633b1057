using System.Data;
using System.Runtime.CompilerServices;
using Npgsql;
using Sessions.Payments.Ledger;

namespace Sessions.ServiceDefaults.Ledger;

/// <summary>
/// Reads the chain in position order with the current content of each covered row, in one REPEATABLE READ snapshot (the
/// chainer appending meanwhile cannot make a row look changed): what verification walks and what an export writes.
/// </summary>
public sealed class LedgerChainReader(NpgsqlDataSource dataSource, LedgerChainOptions options, TimeProvider time)
{
    const int Page = 2000;

    public string Ledger => options.Ledger;

    /// <summary>Walks the whole chain; <paramref name="checkpoints"/> (signatures already checked) must land on its entries.</summary>
    public async Task<LedgerChainReport> VerifyAsync(LedgerChainWalker walker, CancellationToken cancellationToken)
    {
        await foreach (var record in ReadAsync(cancellationToken))
            walker.Add(record);
        return walker.Finish(time.GetUtcNow());
    }

    public async IAsyncEnumerable<LedgerChainRecord> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var sources = options.Sources.ToDictionary(s => s.Name, StringComparer.Ordinal);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);
        var after = -1L;
        while (true)
        {
            var entries = new List<LedgerChainEntry>();
            await using (var select = new NpgsqlCommand("""
                SELECT position, source, kind, row_id, row_xid::text, content, row_hash, prev_hash, entry_hash, chained_at
                FROM ledger_chain WHERE position > $1 ORDER BY position LIMIT $2
                """, connection, transaction))
            {
                select.Parameters.Add(new NpgsqlParameter { Value = after });
                select.Parameters.Add(new NpgsqlParameter { Value = Page });
                await using var reader = await select.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                    entries.Add(new LedgerChainEntry(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3),
                        reader.GetString(4), reader.GetString(5), reader.GetString(6), reader.GetString(7), reader.GetString(8),
                        reader.GetFieldValue<DateTimeOffset>(9)));
            }
            if (entries.Count == 0) yield break;

            var current = new Dictionary<(string Source, string Id), (string Content, string? VersionXid)>();
            foreach (var group in entries.GroupBy(e => e.Source))
            {
                if (!sources.TryGetValue(group.Key, out var source)) continue;   // an unknown source: its rows count as deleted
                await using var select = new NpgsqlCommand(source.CurrentSql, connection, transaction);
                select.Parameters.Add(new NpgsqlParameter { Value = group.Select(e => e.RowId).Distinct().ToArray() });
                await using var reader = await select.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                    current[(group.Key, reader.GetString(0))] = (source.ContentOf(reader, first: 2), reader.IsDBNull(1) ? null : reader.GetString(1));
            }
            foreach (var entry in entries)
                yield return current.TryGetValue((entry.Source, entry.RowId), out var row)
                    ? new LedgerChainRecord(entry, row.Content, StateOf(entry, row.Content, row.VersionXid))
                    : new LedgerChainRecord(entry, null, LedgerRowState.Deleted);
            after = entries[^1].Position;
        }
    }

    static LedgerRowState StateOf(LedgerChainEntry entry, string content, string? versionXid) =>
        content == entry.Content ? LedgerRowState.Unchanged
        : versionXid is not null && ulong.Parse(versionXid) > ulong.Parse(entry.RowXid) ? LedgerRowState.Superseded
        : LedgerRowState.Changed;
}
