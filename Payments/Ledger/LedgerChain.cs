using System.Security.Cryptography;
using System.Text;

namespace Sessions.Payments.Ledger;

/// <summary>
/// One entry of a tamper-evident ledger chain (docs/ledger-chain.md): the canonical content of one money movement (a ledger
/// row, or one transition of a row) as it was when chained, committed to by <see cref="RowHash"/>, linked to the entry
/// before it by <see cref="PrevHash"/>.
/// </summary>
/// <param name="Position">0, 1, 2… without gaps.</param>
/// <param name="Source">Which rows the entry covers ("session_ledger", "payment_settlement", …).</param>
/// <param name="Kind">The movement ("deposit", "debit", "settlement", …).</param>
/// <param name="RowId">The covered row's primary key, as text.</param>
/// <param name="RowXid">The transaction that wrote the movement (Postgres xid8, as text): orders the chain; not hashed.</param>
/// <param name="Content">The row's canonical encoding when chained (a JSON object, see the docs).</param>
public sealed record LedgerChainEntry(long Position, string Source, string Kind, string RowId, string RowXid, string Content,
    string RowHash, string PrevHash, string EntryHash, DateTimeOffset ChainedAt)
{
    /// <summary>The previous hash of entry 0.</summary>
    public static readonly string Genesis = new('0', 64);

    /// <summary>Lowercase hex SHA-256 of the UTF-8 content.</summary>
    public static string HashContent(string content) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(content)));

    /// <summary>
    /// Lowercase hex SHA-256 of <c>sessions-ledger-chain/v1\n{position}\n{source}\n{kind}\n{rowId}\n{rowHash}\n{prevHash}</c>
    /// (UTF-8): the entry's place, what it covers and the entry before it.
    /// </summary>
    public static string HashEntry(long position, string source, string kind, string rowId, string rowHash, string prevHash) =>
        HashContent($"sessions-ledger-chain/v1\n{position}\n{source}\n{kind}\n{rowId}\n{rowHash}\n{prevHash}");

    /// <summary>The entry that follows <paramref name="prevHash"/> at <paramref name="position"/>.</summary>
    public static LedgerChainEntry Create(long position, string prevHash, string source, string kind, string rowId, string rowXid,
        string content, DateTimeOffset chainedAt)
    {
        var rowHash = HashContent(content);
        return new LedgerChainEntry(position, source, kind, rowId, rowXid, content, rowHash, prevHash,
            HashEntry(position, source, kind, rowId, rowHash, prevHash), chainedAt);
    }
}

/// <summary>What the covered row looks like now, next to its chain entry.</summary>
public enum LedgerRowState
{
    /// <summary>Its canonical content is the chained content.</summary>
    Unchanged,
    /// <summary>Its content differs from the chained content.</summary>
    Changed,
    /// <summary>No such row any more.</summary>
    Deleted,
    /// <summary>The application moved the row on to a later movement that has its own entry (a mandate charged again).</summary>
    Superseded,
}

/// <summary>A chain entry with the current state of the row it covers: one line of an export, one step of a walk.</summary>
/// <param name="Current">The row's canonical content now; null when deleted.</param>
public sealed record LedgerChainRecord(LedgerChainEntry Entry, string? Current, LedgerRowState State);

/// <summary>A signed statement of the chain's head: after entry <see cref="Position"/>, the chain's hash was <see cref="Head"/>.</summary>
/// <param name="Ledger">"sessions" (SessionApi's database) or "gate" (the gate's).</param>
public sealed record LedgerCheckpoint(string Ledger, long Position, string Head, DateTimeOffset At);

/// <summary>The first problem of a walk.</summary>
/// <param name="Problem">changed | deleted | reordered | entry-altered | checkpoint-mismatch | checkpoint-beyond-chain |
/// checkpoint-signature</param>
public sealed record LedgerChainProblem(long Position, string Problem, string Detail, string? Source = null, string? Kind = null, string? RowId = null);

public sealed record LedgerChainReport(bool Valid, long Entries, string Head, int CheckpointsVerified, int Problems,
    LedgerChainProblem? FirstProblem, DateTimeOffset CheckedAt);

/// <summary>
/// Walks a chain in position order (from the database, or an export offline) and finds the first entry that was changed,
/// deleted or reordered: each entry must sit at the next position, link to the hash of the one before, hash to what it
/// says, and cover a row whose content is still the chained one. Checkpoints must each land on an entry whose hash is
/// their head. Their signatures are checked by the caller (the key system's verifier) and reported with
/// <see cref="CheckpointSignatureFailed"/>.
/// </summary>
public sealed class LedgerChainWalker
{
    readonly Dictionary<long, List<LedgerCheckpoint>> _checkpoints = [];
    readonly List<LedgerChainProblem> _signatureProblems = [];
    long _next;
    string _head = LedgerChainEntry.Genesis;
    int _problems;
    int _checkpointsVerified;
    LedgerChainProblem? _first;

    public LedgerChainWalker(IEnumerable<LedgerCheckpoint>? checkpoints = null)
    {
        foreach (var checkpoint in checkpoints ?? [])
        {
            if (!_checkpoints.TryGetValue(checkpoint.Position, out var list)) _checkpoints[checkpoint.Position] = list = [];
            list.Add(checkpoint);
        }
    }

    /// <summary>A checkpoint whose signature does not verify with the published keys.</summary>
    public void CheckpointSignatureFailed(long position, string detail) =>
        _signatureProblems.Add(new LedgerChainProblem(position, "checkpoint-signature", detail));

    public void Add(LedgerChainRecord record)
    {
        var entry = record.Entry;
        if (entry.Position != _next)
            Report(new(_next, "deleted", $"the chain has no entry at position {_next} (next is {entry.Position}): entries were deleted from it"), entry);
        else if (entry.PrevHash != _head)
            Report(new(entry.Position, "reordered", "the entry does not link to the hash of the entry before it"), entry);
        else if (LedgerChainEntry.HashContent(entry.Content) != entry.RowHash
                 || LedgerChainEntry.HashEntry(entry.Position, entry.Source, entry.Kind, entry.RowId, entry.RowHash, entry.PrevHash) != entry.EntryHash)
            Report(new(entry.Position, "entry-altered", "the entry does not hash to its recorded hash"), entry);
        else if (record.State == LedgerRowState.Deleted)
            Report(new(entry.Position, "deleted", "the row this entry covers is gone"), entry);
        else if (record.State == LedgerRowState.Changed)
            Report(new(entry.Position, "changed", $"chained {entry.Content}, now {record.Current}"), entry);

        if (_checkpoints.Remove(entry.Position, out var landing))
            foreach (var checkpoint in landing)
            {
                if (checkpoint.Head == entry.EntryHash) _checkpointsVerified++;
                else Report(new(entry.Position, "checkpoint-mismatch",
                    $"the checkpoint of {checkpoint.At:O} signed head {checkpoint.Head}, the chain has {entry.EntryHash}: entries up to here were rewritten"), entry);
            }
        _next = entry.Position + 1;
        _head = entry.EntryHash;
    }

    public LedgerChainReport Finish(DateTimeOffset now)
    {
        foreach (var checkpoint in _checkpoints.Values.SelectMany(c => c).OrderBy(c => c.Position))
            Report(new(checkpoint.Position, "checkpoint-beyond-chain",
                $"the checkpoint of {checkpoint.At:O} covers position {checkpoint.Position}, the chain ends before it: entries were deleted"), null);
        _checkpoints.Clear();
        foreach (var problem in _signatureProblems)
            Report(problem, null);
        _signatureProblems.Clear();
        return new LedgerChainReport(_problems == 0, _next, _head, _checkpointsVerified, _problems, _first, now);
    }

    void Report(LedgerChainProblem problem, LedgerChainEntry? entry)
    {
        _problems++;
        if (entry is not null) problem = problem with { Source = entry.Source, Kind = entry.Kind, RowId = entry.RowId };
        if (_first is null || problem.Position < _first.Position) _first = problem;
    }
}

/// <summary>
/// One line of <c>GET /admin/ledger/export</c> (JSON Lines, web JSON names): the entry, and the covered row as it is now
/// (<see cref="Current"/> null when deleted; <see cref="State"/> unchanged | changed | deleted | superseded). An auditor
/// re-walks it offline with <see cref="LedgerChainWalker"/> (or by the algorithm in docs/ledger-chain.md).
/// </summary>
public sealed record LedgerExportLine(long Position, string Source, string Kind, string RowId, string RowXid, string Content,
    string RowHash, string PrevHash, string EntryHash, DateTimeOffset ChainedAt, string? Current, string State)
{
    public static LedgerExportLine From(LedgerChainRecord record)
    {
        var e = record.Entry;
        return new(e.Position, e.Source, e.Kind, e.RowId, e.RowXid, e.Content, e.RowHash, e.PrevHash, e.EntryHash, e.ChainedAt,
            record.Current, record.State.ToString().ToLowerInvariant());
    }

    /// <summary>Back to a record; the state is re-derived from the two contents, except a superseded row (the server knows its version).</summary>
    public LedgerChainRecord ToRecord() => new(
        new LedgerChainEntry(Position, Source, Kind, RowId, RowXid, Content, RowHash, PrevHash, EntryHash, ChainedAt),
        Current,
        Current is null ? LedgerRowState.Deleted
        : Current == Content ? LedgerRowState.Unchanged
        : State == "superseded" ? LedgerRowState.Superseded
        : LedgerRowState.Changed);
}
