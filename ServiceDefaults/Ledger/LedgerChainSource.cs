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
/// <param name="Content">The row's canonical content: the columns the movement fixes, each a key and the SQL of its value as
/// text (amounts <c>::text</c>, times through <c>ledger_chain_time</c>); the content is the text Postgres gives for
/// <c>jsonb_build_object(key, value, ...)::text</c> (<see cref="LedgerChainContent"/>), built here rather than by Postgres.</param>
/// <param name="VersionXidColumn">For rows the application moves on to a later movement (a mandate charge released, then
/// charged again under its key): the column that holds the latest version's transaction. An entry older than it is
/// superseded, not changed. Null: the row never changes after its movement.</param>
public sealed record LedgerChainSource(string Name, string Table, string IdColumn, string IdType, string XidColumn, string KindSql,
    IReadOnlyList<LedgerChainField> Content, string? VersionXidColumn = null)
{
    /// <summary>The content's keys in jsonb's order (<see cref="LedgerChainContent"/>).</summary>
    internal int[] KeyOrder { get; } = LedgerChainContent.KeyOrder(Content);

    /// <summary>The content of the row under <paramref name="reader"/>, whose values are its columns from <paramref name="first"/> on.</summary>
    internal string ContentOf(Npgsql.NpgsqlDataReader reader, int first)
    {
        var values = new string?[Content.Count];
        for (var i = 0; i < values.Length; i++)
            values[i] = reader.IsDBNull(first + i) ? null : reader.GetString(first + i);
        return LedgerChainContent.Build(Content, KeyOrder, values);
    }

    string ContentColumns => string.Join(", ", Content.Select((column, i) => $"{column.Sql} AS chain_c{i}"));

    /// <summary>Rows not chained yet, committed below the snapshot's xmin, after the cursor: ($1 xmin, $2 cursor xid, $3 cursor id, $4 limit).
    /// The output columns are renamed: <c>id::text</c> would be called <c>id</c>, and ORDER BY would sort that text ("10" before "9").</summary>
    internal string PendingSql => $"""
        SELECT {IdColumn}::text AS chain_row_id, {XidColumn}::text AS chain_row_xid, {KindSql} AS chain_kind, {ContentColumns}
        FROM {Table}
        WHERE {XidColumn} < $1::text::xid8 AND ({XidColumn}, {IdColumn}) > ($2::text::xid8, $3::text::{IdType})
        ORDER BY {XidColumn}, {IdColumn} LIMIT $4
        """;

    /// <summary>Rows written after the cursor, committed or not yet: the chain's lag ($1 cursor xid, $2 cursor id).</summary>
    internal string UnchainedSql => $"""
        SELECT count(*) FROM {Table} WHERE ({XidColumn}, {IdColumn}) > ($1::text::xid8, $2::text::{IdType})
        """;

    /// <summary>The current content's values (and version) of the rows with these ids ($1 text[]).</summary>
    internal string CurrentSql => $"""
        SELECT {IdColumn}::text, {(VersionXidColumn is null ? "NULL" : VersionXidColumn + "::text")}, {ContentColumns}
        FROM {Table} WHERE {IdColumn} = ANY($1::text[]::{IdType}[])
        """;
}

/// <summary>A key of a movement's content and the SQL of its value as text (SQL NULL: JSON null).</summary>
/// <param name="OmitWhenNull">Left out of the content when NULL instead of <c>null</c>: a column added later, whose rows chained
/// before it keep their hash (the SQL makes its default value NULL, e.g. <c>NULLIF(sla_credit, 0)::text</c>).</param>
public sealed record LedgerChainField(string Key, string Sql, bool OmitWhenNull = false);

/// <summary>The chain of one database: its name in checkpoints ("sessions", "gate") and its sources.</summary>
public sealed record LedgerChainOptions(string Ledger, IReadOnlyList<LedgerChainSource> Sources)
{
    /// <summary>Time between chainer passes: how far the chain may lag behind the ledger.</summary>
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Rows per source per pass.</summary>
    public int BatchSize { get; init; } = 2000;
}
