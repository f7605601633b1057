using System.Numerics;
using Npgsql;
using NpgsqlTypes;
using Sessions.Payments.Receipts;
using Sessions.SessionApi.Sessions;
using Sessions.SessionApi.Webhooks;
using static Sessions.SessionApi.Sessions.SessionRows;

namespace Sessions.SessionApi.Ledger;

/// <summary>A debit the gate decided and made durable in Redis (docs/design/session-debits.md), on its way to the ledger.</summary>
/// <param name="Key">The gate's request id: the ledger row's idempotency key is <c>debit:&lt;key&gt;</c>.</param>
/// <param name="SlaCredit">Taken off the price by the session's SLA: kept on the row, reported by <c>session.sla_breached</c> and <c>session.credited</c>.</param>
public sealed record FoldedDebit(string SessionId, string Key, BigInteger Amount, string? Route, DateTimeOffset At, BigInteger SlaCredit = default);

/// <param name="Applied">New ledger rows (a pass's requests have rows of 0).</param>
/// <param name="Replayed">Debits the ledger had already (a batch sent again after a lost answer).</param>
/// <param name="Refused">Debits that cannot be applied (unknown session, another payer's, closed, more than its balance):
/// by construction the gate never sends one; each is logged as an error.</param>
public sealed record FoldResult(int Applied, int Replayed, IReadOnlyList<string> Refused);

/// <summary>
/// Writes a batch of the gate's session debits in <b>one transaction</b> of five statements whatever its size (lock the
/// sessions in id order, find the keys already there, insert the new ledger rows, update each session once, commit):
/// one commit per batch instead of one per request. Each row keeps the balance and request count after it, as the rows of
/// open, top-up and close do, for the ledger audit.
/// </summary>
public sealed class DebitFold(NpgsqlDataSource dataSource, TimeProvider time, ILogger<DebitFold> logger)
{
    public const int MaxBatch = 1000;

    sealed record Row(string Id, string Kind, string State, BigInteger Balance, BigInteger Spent, long RequestCount)
    {
        public BigInteger Balance { get; set; } = Balance;
        public BigInteger Spent { get; set; } = Spent;
        public long RequestCount { get; set; } = RequestCount;
        public string State { get; set; } = State;
        public bool Changed { get; set; }
        /// <summary>The key of the debit that emptied the balance in this batch: its receipt goes with <c>session.depleted</c>.</summary>
        public string? DepletedBy { get; set; }
    }

    public async Task<FoldResult> ApplyAsync(string payer, string organization, IReadOnlyList<FoldedDebit> debits, CancellationToken cancellationToken)
    {
        using var activity = SessionApiTelemetry.ActivitySource.StartActivity("session.debit.fold");
        activity?.SetTag("session.debit.batch", debits.Count);
        var now = time.GetUtcNow();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        // In id order, so two folds touching the same sessions cannot deadlock.
        var rows = new Dictionary<string, Row>(StringComparer.Ordinal);
        await using (var select = Command("""
            SELECT id, kind, state, balance, spent, request_count FROM sessions
            WHERE id = ANY($1) AND payer = $2 AND organization = $3 ORDER BY id FOR UPDATE
            """, connection, transaction, debits.Select(d => d.SessionId).Distinct().ToArray(), payer, organization))
        await using (var reader = await select.ExecuteReaderAsync(cancellationToken))
            while (await reader.ReadAsync(cancellationToken))
                rows[reader.GetString(0)] = new Row(reader.GetString(0), reader.GetString(1), reader.GetString(2),
                    reader.GetFieldValue<BigInteger>(3), reader.GetFieldValue<BigInteger>(4), reader.GetInt64(5));

        var known = new HashSet<string>(StringComparer.Ordinal);
        await using (var select = Command("SELECT idempotency_key FROM session_ledger WHERE idempotency_key = ANY($1)", connection, transaction))
        {
            select.Parameters.Add(Parameter(debits.Select(d => "debit:" + d.Key).ToArray()));
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
                known.Add(reader.GetString(0));
        }

        var ledger = new List<(FoldedDebit Debit, BigInteger BalanceAfter, long CountAfter)>();
        var refused = new List<string>();
        var replayed = 0;
        foreach (var debit in debits)
        {
            if (known.Contains("debit:" + debit.Key))
            {
                replayed++;
                continue;
            }
            if (!rows.TryGetValue(debit.SessionId, out var row) || row.State == SessionStates.Refunded || debit.Amount > row.Balance
                || (debit.Amount.IsZero != (row.Kind == SessionKinds.Pass)))
            {
                refused.Add(debit.Key);
                logger.LogError("Debit {Key} of session {SessionId} ({Amount}) cannot be folded: {Why}", debit.Key, debit.SessionId, debit.Amount,
                    row is null ? "no such session of this payer" : row.State == SessionStates.Refunded ? "the session is closed" : "more than its balance");
                continue;
            }
            known.Add("debit:" + debit.Key);   // the same key twice in one batch counts once
            row.Balance -= debit.Amount;
            row.Spent += debit.Amount;
            row.RequestCount++;
            row.Changed = true;
            if (row.Kind == SessionKinds.Prepaid && row.Balance.IsZero && row.State == SessionStates.Active)
                (row.State, row.DepletedBy) = (SessionStates.Depleted, debit.Key);
            // A pass costs nothing per request: its row carries 0, and its key makes a batch sent again count it once.
            ledger.Add((debit, row.Balance, row.RequestCount));
        }

        if (ledger.Count > 0)
        {
            await using var insert = Command("""
                INSERT INTO session_ledger (session_id, kind, amount, idempotency_key, request_id, route, balance_after, request_count_after, created_at, sla_credit)
                SELECT s, 'debit', a, 'debit:' || k, k, r, b, c, t, x FROM unnest($1::text[], $2::numeric[], $3::text[], $4::text[], $5::numeric[], $6::bigint[], $7::timestamptz[], $8::numeric[])
                    AS d(s, a, k, r, b, c, t, x)
                """, connection, transaction);
            insert.Parameters.Add(Parameter(ledger.Select(l => l.Debit.SessionId).ToArray()));
            insert.Parameters.Add(Array(ledger.Select(l => l.Debit.Amount)));
            insert.Parameters.Add(Parameter(ledger.Select(l => l.Debit.Key).ToArray()));
            insert.Parameters.Add(new NpgsqlParameter { Value = ledger.Select(l => (object?)l.Debit.Route ?? DBNull.Value).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
            insert.Parameters.Add(Array(ledger.Select(l => l.BalanceAfter)));
            insert.Parameters.Add(Parameter(ledger.Select(l => l.CountAfter).ToArray()));
            insert.Parameters.Add(new NpgsqlParameter { Value = ledger.Select(l => l.Debit.At.UtcDateTime).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
            insert.Parameters.Add(Array(ledger.Select(l => l.Debit.SlaCredit)));
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }
        var changed = rows.Values.Where(r => r.Changed).ToList();
        if (changed.Count > 0)
        {
            await using var update = Command($"""
                UPDATE sessions SET balance = u.b, spent = u.s, request_count = u.c, state = u.st, version = version + 1, updated_at = $5
                FROM unnest($1::text[], $2::numeric[], $3::numeric[], $4::bigint[], $6::text[]) AS u(id, b, s, c, st)
                WHERE sessions.id = u.id
                RETURNING {string.Join(", ", Columns.Split(", ").Select(c => "sessions." + c))}
                """, connection, transaction);
            update.Parameters.Add(Parameter(changed.Select(r => r.Id).ToArray()));
            update.Parameters.Add(Array(changed.Select(r => r.Balance)));
            update.Parameters.Add(Array(changed.Select(r => r.Spent)));
            update.Parameters.Add(Parameter(changed.Select(r => r.RequestCount).ToArray()));
            update.Parameters.Add(Parameter(now));
            update.Parameters.Add(Parameter(changed.Select(r => r.State).ToArray()));
            var depleted = new List<Session>();
            var updated = new Dictionary<string, Session>(StringComparer.Ordinal);
            await using (var reader = await update.ExecuteReaderAsync(cancellationToken))
                while (await reader.ReadAsync(cancellationToken))
                    if ((updated[reader.GetString(0)] = Read(reader)) is { State: SessionStates.Depleted } session)
                        depleted.Add(session);
            // Only rows new to the ledger get here (a debit sent again is replayed above): one pair of events per credited request.
            foreach (var (debit, _, _) in ledger.Where(l => l.Debit.SlaCredit > 0))
            {
                var receiptId = ReceiptIds.For(debit.Key);
                await SessionWebhooks.EnqueueAsync(connection, transaction, WebhookEvents.SessionSlaBreached, updated[debit.SessionId], now, cancellationToken,
                    receiptId: receiptId);
                await SessionWebhooks.EnqueueAsync(connection, transaction, WebhookEvents.SessionCredited, updated[debit.SessionId], now, cancellationToken,
                    amount: debit.SlaCredit, receiptId: receiptId);
            }
            // Only the batch that emptied a balance gets here with it DEPLETED now and ACTIVE before.
            foreach (var session in depleted)
                await SessionWebhooks.EnqueueAsync(connection, transaction, WebhookEvents.SessionDepleted, session, now, cancellationToken,
                    receiptId: rows[session.Id].DepletedBy is { } key ? ReceiptIds.For(key) : null);
        }
        await transaction.CommitAsync(cancellationToken);
        SessionApiTelemetry.CountDebit("Folded", ledger.Count);
        if (refused.Count > 0) SessionApiTelemetry.CountDebit("FoldRefused", refused.Count);
        return new FoldResult(ledger.Count, replayed, refused);
    }

    static NpgsqlParameter Array(IEnumerable<BigInteger> amounts) =>
        new() { Value = amounts.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Numeric };
}
