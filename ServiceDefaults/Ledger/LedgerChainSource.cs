namespace Sessions.ServiceDefaults.Ledger;

/// <summary>
/// Rows of one table that the chainer appends to the ledger chain (docs/ledger-chain.md). Each movement is a row version
/// stamped with the transaction that wrote it (<see cref="XidColumn"/>, an <c>xid8</c> column the migration adds with
/// <c>DEFAULT pg_current_xact_id()</c>, or a trigger sets on a transition): the chainer takes rows in (xid, id) order
/// below the oldest transaction still running, so a row whose transaction commits late is never skipped.
/// </summary>
/// <param name="Name">The entry's source ("session_ledger"); also the chainer's cursor key.</param>
/// <param name="Table">The table read.</param>
/// <param name="IdColumn">Its primary key.</param>
/// <param name="IdType">The key's SQL type ("bigint", "text"): ids travel as text and are cast back, so the index serves.</param>
/// <param name="XidColumn">The movement's transaction (null rows are not movements yet).</param>
/// <param name="KindSql">SQL for the movement kind of a row ("kind", "'settlement'").</param>
/// <param name="ContentSql">SQL for the row's canonical content: a <c>jsonb_build_object(...)::text</c> of the columns the
/// movement fixes, amounts as text and times through <c>ledger_chain_time</c>.</param>
/// <param name="VersionXidColumn">For rows the application moves on to a later movement (a mandate charge released, then
/// charged again under its key): the column that holds the latest version's transaction. An entry older than it is
/// superseded, not changed. Null: the row never changes after its movement.</param>
public sealed record LedgerChainSource(string Name, string Table, string IdColumn, string IdType, string XidColumn, string KindSql,
    string ContentSql, string? VersionXidColumn = null)
{
    /// <summary>Rows not chained yet, committed below the snapshot's xmin, after the cursor: ($1 xmin, $2 cursor xid, $3 cursor id, $4 limit).
    /// The output columns are renamed: <c>id::text</c> would be called <c>id</c>, and ORDER BY would sort that text ("10" before "9").</summary>
    internal string PendingSql => $"""
        SELECT {IdColumn}::text AS chain_row_id, {XidColumn}::text AS chain_row_xid, {KindSql} AS chain_kind, {ContentSql} AS chain_content
        FROM {Table}
        WHERE {XidColumn} < $1::text::xid8 AND ({XidColumn}, {IdColumn}) > ($2::text::xid8, $3::text::{IdType})
        ORDER BY {XidColumn}, {IdColumn} LIMIT $4
        """;

    /// <summary>Rows written after the cursor, committed or not yet: the chain's lag ($1 cursor xid, $2 cursor id).</summary>
    internal string UnchainedSql => $"""
        SELECT count(*) FROM {Table} WHERE ({XidColumn}, {IdColumn}) > ($1::text::xid8, $2::text::{IdType})
        """;

    /// <summary>The current content (and version) of the rows with these ids ($1 text[]).</summary>
    internal string CurrentSql => $"""
        SELECT {IdColumn}::text, {ContentSql}, {(VersionXidColumn is null ? "NULL" : VersionXidColumn + "::text")}
        FROM {Table} WHERE {IdColumn} = ANY($1::text[]::{IdType}[])
        """;
}

/// <summary>The chain of one database: its name in checkpoints ("sessions", "gate") and its sources.</summary>
public sealed record LedgerChainOptions(string Ledger, IReadOnlyList<LedgerChainSource> Sources)
{
    /// <summary>Time between chainer passes: how far the chain may lag behind the ledger.</summary>
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Rows per source per pass.</summary>
    public int BatchSize { get; init; } = 2000;
}
