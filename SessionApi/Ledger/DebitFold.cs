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
/// <param name="Void">Not a debit but its void (the gate answered 503 without knowing whether Redis made the debit): the debit
/// of <paramref name="Key"/> is credited back, or never applied if it comes later (table <c>debit_voids</c>).</param>
public sealed record FoldedDebit(string SessionId, string Key, BigInteger Amount, string? Route, DateTimeOffset At, BigInteger SlaCredit = default,
    bool Void = false);

/// <param name="Applied">New ledger rows (a pass's requests have rows of 0).</param>
/// <param name="Replayed">Debits the ledger had already (a batch sent again after a lost answer).</param>
/// <param name="Refused">Debits that cannot be applied (unknown session, another payer's, closed, more than its balance):
/// by construction the gate never sends one; each is logged as an error.</param>
/// <param name="Credited">Per void's key, what was credited back (0: there was no debit); a replayed void answers the same.</param>
/// <param name="Voided">Debits not applied because their void came first.</param>
public sealed record FoldResult(int Applied, int Replayed, IReadOnlyList<string> Refused, IReadOnlyDictionary<string, BigInteger> Credited,
    IReadOnlyList<string> Voided);

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

        // "debit:<key>" → its amount, "void:<key>" → what its void credited back. Voids are rare: their table (empty nearly
        // always) is probed in the same round trip.
        var known = new Dictionary<string, BigInteger>(StringComparer.Ordinal);
        await using (var select = Command("""
            SELECT idempotency_key, amount FROM session_ledger WHERE idempotency_key = ANY($1)
            UNION ALL SELECT 'void:' || key, credited FROM debit_voids WHERE key = ANY($2)
            """, connection, transaction))
        {
            select.Parameters.Add(Parameter(debits.Select(d => "debit:" + d.Key).ToArray()));
            select.Parameters.Add(Parameter(debits.Select(d => d.Key).ToArray()));
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
                known[reader.GetString(0)] = reader.GetFieldValue<BigInteger>(1);
        }

        var ledger = new List<(FoldedDebit Debit, BigInteger BalanceAfter, long CountAfter)>();
        var voids = new List<(FoldedDebit Void, BigInteger Credited, BigInteger BalanceAfter, long CountAfter)>();
        var credited = new Dictionary<string, BigInteger>(StringComparer.Ordinal);
        var voided = new List<string>();
        var refused = new List<string>();
        var replayed = 0;
        foreach (var debit in debits)
        {
            if (debit.Void)
            {
                if (known.TryGetValue("void:" + debit.Key, out var before))
                {
                    (credited[debit.Key], replayed) = (before, replayed + 1);
                    continue;
                }
                if (!rows.TryGetValue(debit.SessionId, out var voidRow) || voidRow.State == SessionStates.Refunded)
                {
                    refused.Add(debit.Key);
                    logger.LogError("Void of debit {Key} of session {SessionId} cannot be applied: {Why}; reconcile by hand", debit.Key, debit.SessionId,
                        voidRow is null ? "no such session of this payer" : "the session is closed");
                    continue;
                }
                if (known.TryGetValue("debit:" + debit.Key, out var back))
                {
                    // The request was not served: its price back and it no longer counts.
                    voidRow.Balance += back;
                    voidRow.Spent -= back;
                    voidRow.RequestCount--;
                    voidRow.Changed = true;
                    if (voidRow.State == SessionStates.Depleted && voidRow.Balance > 0)
                        (voidRow.State, voidRow.DepletedBy) = (SessionStates.Active, null);
                }
                known["void:" + debit.Key] = credited[debit.Key] = back;
                voids.Add((debit, back, voidRow.Balance, voidRow.RequestCount));
                continue;
            }
            if (known.ContainsKey("debit:" + debit.Key))
            {
                replayed++;
                continue;
            }
            if (known.ContainsKey("void:" + debit.Key))
            {
                voided.Add(debit.Key);
                logger.LogWarning("Debit {Key} of session {SessionId} not applied: its void came first (the gate answered 503)", debit.Key, debit.SessionId);
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
            known["debit:" + debit.Key] = debit.Amount;   // the same key twice in one batch counts once
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
        if (voids.Count > 0)
            await WriteVoidsAsync(connection, transaction, voids, now, cancellationToken);
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
            // A void's credit-back: no receipt was issued (its answer was withheld), so none is named.
            foreach (var credit in voids.Where(v => v.Credited > 0))
                await SessionWebhooks.EnqueueAsync(connection, transaction, WebhookEvents.SessionCredited, updated[credit.Void.SessionId], now, cancellationToken,
                    amount: credit.Credited);
            // Only the batch that emptied a balance gets here with it DEPLETED now and ACTIVE before.
            foreach (var session in depleted)
                await SessionWebhooks.EnqueueAsync(connection, transaction, WebhookEvents.SessionDepleted, session, now, cancellationToken,
                    receiptId: rows[session.Id].DepletedBy is { } key ? ReceiptIds.For(key) : null);
        }
        await transaction.CommitAsync(cancellationToken);
        SessionApiTelemetry.CountDebit("Folded", ledger.Count);
        if (refused.Count > 0) SessionApiTelemetry.CountDebit("FoldRefused", refused.Count);
        return new FoldResult(ledger.Count, replayed, refused, credited, voided);
    }

    /// <summary>Each void's row, and the credit row of each that found its debit (a pass's debit of 0 has none to credit).</summary>
    static async Task WriteVoidsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction,
        List<(FoldedDebit Void, BigInteger Credited, BigInteger BalanceAfter, long CountAfter)> voids, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using (var insert = Command("""
            INSERT INTO debit_voids (key, session_id, credited, created_at)
            SELECT k, s, c, $4 FROM unnest($1::text[], $2::text[], $3::numeric[]) AS v(k, s, c)
            """, connection, transaction))
        {
            insert.Parameters.Add(Parameter(voids.Select(v => v.Void.Key).ToArray()));
            insert.Parameters.Add(Parameter(voids.Select(v => v.Void.SessionId).ToArray()));
            insert.Parameters.Add(Array(voids.Select(v => v.Credited)));
            insert.Parameters.Add(Parameter(now));
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }
        var credits = voids.Where(v => v.Credited > 0).ToList();
        if (credits.Count == 0)
            return;
        await using var credit = Command("""
            INSERT INTO session_ledger (session_id, kind, amount, idempotency_key, request_id, route, balance_after, request_count_after, created_at)
            SELECT s, 'credit', a, 'credit:' || k, k, r, b, c, $7 FROM unnest($1::text[], $2::numeric[], $3::text[], $4::text[], $5::numeric[], $6::bigint[])
                AS d(s, a, k, r, b, c)
            """, connection, transaction);
        credit.Parameters.Add(Parameter(credits.Select(v => v.Void.SessionId).ToArray()));
        credit.Parameters.Add(Array(credits.Select(v => v.Credited)));
        credit.Parameters.Add(Parameter(credits.Select(v => v.Void.Key).ToArray()));
        credit.Parameters.Add(new NpgsqlParameter { Value = credits.Select(v => (object?)v.Void.Route ?? DBNull.Value).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        credit.Parameters.Add(Array(credits.Select(v => v.BalanceAfter)));
        credit.Parameters.Add(Parameter(credits.Select(v => v.CountAfter).ToArray()));
        credit.Parameters.Add(Parameter(now));
        await credit.ExecuteNonQueryAsync(cancellationToken);
    }

    static NpgsqlParameter Array(IEnumerable<BigInteger> amounts) =>
        new() { Value = amounts.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Numeric };
}
