using System.Numerics;
using Npgsql;
using Sessions.SessionApi.Mandates;
using Sessions.SessionApi.Sessions;
using Sessions.SessionApi.Webhooks;
using static Sessions.SessionApi.Sessions.SessionRows;

namespace Sessions.SessionApi.Ledger;

public enum DebitStatus { Debited, Replayed, NotFound, InsufficientBalance, Expired, NotActive, KeyConflict, MandateRefused }

/// <summary>What a debit left behind (or, for a replay, what the original debit left behind).</summary>
public sealed record DebitResult(DebitStatus Status, BigInteger Charged, BigInteger Balance, string State, long RequestCount, Session? Session)
{
    public static DebitResult Of(DebitStatus status, Session? session = null) =>
        new(status, BigInteger.Zero, session?.Balance ?? BigInteger.Zero, session?.State ?? "", session?.RequestCount ?? 0, session);

    /// <summary>With <see cref="DebitStatus.MandateRefused"/>: why the payer's agent mandate refused the debit.</summary>
    public ChargeResult? Mandate { get; init; }
}

public enum CreditStatus { Credited, AlreadyCredited, NotFound, DebitNotFound }

public sealed record CreditResult(CreditStatus Status, BigInteger Credited, Session? Session);

/// <summary>
/// Debits and credit-backs. A debit is one statement on the session row (check and subtract under the row lock, so
/// concurrent debits are linearizable and can never overspend) plus its ledger row in the same transaction; the ledger
/// row's UNIQUE idempotency key (the gate's request id) makes a retried debit answer the original result.
/// </summary>
public sealed class SessionLedger(NpgsqlDataSource dataSource, TimeProvider time, ILogger<SessionLedger> logger)
{
    public async Task<DebitResult> DebitAsync(string id, string payer, string organization, BigInteger price, string idempotencyKey,
        string? route, string? requestId, string? approvalId, CancellationToken cancellationToken)
    {
        using var activity = SessionApiTelemetry.ActivitySource.StartActivity("session.debit");
        activity?.SetTag("session.id", id);
        var key = "debit:" + idempotencyKey;
        var now = time.GetUtcNow();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var result = await FindDebitAsync(connection, key, id, payer, organization, cancellationToken);
        if (result is null)
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            // The payer's agent mandate first (its row lock, then the session's): a refused debit changes no session row.
            var mandate = await SessionMandates.ChargeDebitAsync(connection, transaction, id, payer, organization, price, idempotencyKey, approvalId,
                now, cancellationToken);
            if (mandate is { Allowed: false })
            {
                await transaction.CommitAsync(cancellationToken);   // keeps what the refusal recorded (approval request, events)
                SessionApiTelemetry.CountDebit(DebitStatus.MandateRefused.ToString());
                return DebitResult.Of(DebitStatus.MandateRefused) with { Mandate = mandate };
            }
            // A pass costs nothing per request: only its request count moves, and no money means no ledger row.
            await using var update = Command("""
                UPDATE sessions SET
                    balance = balance - CASE WHEN kind = 'pass' THEN 0 ELSE $4 END,
                    spent = spent + CASE WHEN kind = 'pass' THEN 0 ELSE $4 END,
                    request_count = request_count + 1,
                    state = CASE WHEN kind = 'prepaid' AND balance - $4 = 0 THEN 'DEPLETED' ELSE state END,
                    version = version + 1, updated_at = $5
                WHERE id = $1 AND payer = $2 AND organization = $3 AND state = 'ACTIVE' AND expires_at > $5
                  AND (kind = 'pass' OR balance >= $4)
                RETURNING kind, balance, state, request_count
                """, connection, transaction, id, payer, organization, price, now);
            (string Kind, BigInteger Balance, string State, long Count)? row = null;
            await using (var reader = await update.ExecuteReaderAsync(cancellationToken))
                if (await reader.ReadAsync(cancellationToken))
                    row = (reader.GetString(0), reader.GetFieldValue<BigInteger>(1), reader.GetString(2), reader.GetInt64(3));
            if (row is { } debited)
            {
                var charged = debited.Kind == SessionKinds.Pass ? BigInteger.Zero : price;
                if (charged.IsZero || await SessionStore.InsertLedgerAsync(connection, transaction, id, "debit", charged, key, null,
                        debited.Balance, debited.Count, now, cancellationToken, requestId, route))
                {
                    // This debit emptied the balance: the event goes with it (only the debit that changed the state gets here).
                    if (debited.State == SessionStates.Depleted)
                        await SessionWebhooks.EnqueueAsync(connection, transaction, WebhookEvents.SessionDepleted,
                            (await LoadOwnedAsync(connection, transaction, id, payer, organization, forUpdate: false, cancellationToken))!, now, cancellationToken);
                    await transaction.CommitAsync(cancellationToken);
                    result = new DebitResult(DebitStatus.Debited, charged, debited.Balance, debited.State, debited.Count, null);
                }
                else
                    await transaction.RollbackAsync(cancellationToken);   // the same key won concurrently: answer its result below
            }
            else
                await transaction.RollbackAsync(cancellationToken);
            // Not debited: a concurrent retry of this key may have committed meanwhile (it held the row lock we waited for).
            result ??= await FindDebitAsync(connection, key, id, payer, organization, cancellationToken)
                ?? await ExplainRefusalAsync(connection, id, payer, organization, price, now, cancellationToken);
        }
        SessionApiTelemetry.CountDebit(result.Status.ToString());
        activity?.SetTag("session.debit.outcome", result.Status.ToString());
        if (result.Status == DebitStatus.Debited && result.State == SessionStates.Depleted)
            logger.LogInformation("Session {SessionId} depleted after {RequestCount} requests", id, result.RequestCount);
        return result;
    }

    /// <summary>
    /// Gives a debit back (the upstream call failed, so the request was not served): once per debit. On a session closed
    /// meanwhile, the amount is added to the refund instead of the balance, so that it stays closed.
    /// </summary>
    public async Task<CreditResult> CreditAsync(string id, string payer, string organization, string debitIdempotencyKey,
        CancellationToken cancellationToken)
    {
        using var activity = SessionApiTelemetry.ActivitySource.StartActivity("session.credit");
        activity?.SetTag("session.id", id);
        var debitKey = "debit:" + debitIdempotencyKey;
        var creditKey = "credit:" + debitIdempotencyKey;
        var now = time.GetUtcNow();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var session = await LoadOwnedAsync(connection, null, id, payer, organization, forUpdate: false, cancellationToken);
        if (session is null) return new CreditResult(CreditStatus.NotFound, BigInteger.Zero, null);

        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        BigInteger amount;
        await using (var select = Command("SELECT amount FROM session_ledger WHERE idempotency_key = $1 AND session_id = $2 AND kind = 'debit'",
                         connection, transaction, debitKey, id))
        await using (var reader = await select.ExecuteReaderAsync(cancellationToken))
        {
            if (!await reader.ReadAsync(cancellationToken)) return new CreditResult(CreditStatus.DebitNotFound, BigInteger.Zero, session);
            amount = reader.GetFieldValue<BigInteger>(0);
        }
        // The state under the row lock: only a credit that itself turns DEPLETED into EXPIRED reports the expiry.
        var before = (await LoadOwnedAsync(connection, transaction, id, payer, organization, forUpdate: true, cancellationToken))!;
        // A repeat answers the first credit's result before touching the row: applying it again first (then rolling back)
        // could break the row's own checks (spent would go below zero once the only debit was given back).
        await using (var done = Command("SELECT EXISTS (SELECT 1 FROM session_ledger WHERE idempotency_key = $1 AND session_id = $2)",
                         connection, transaction, creditKey, id))
            if ((bool)(await done.ExecuteScalarAsync(cancellationToken))!)
            {
                await transaction.RollbackAsync(cancellationToken);
                return new CreditResult(CreditStatus.AlreadyCredited, amount, before);
            }
        await using var update = Command($"""
            UPDATE sessions SET
                balance = CASE WHEN state = 'REFUNDED' THEN balance ELSE balance + $2 END,
                refunded = CASE WHEN state = 'REFUNDED' THEN refunded + $2 ELSE refunded END,
                spent = spent - $2,
                request_count = request_count - 1,
                state = CASE WHEN state = 'DEPLETED' AND expires_at > $3 THEN 'ACTIVE'
                             WHEN state = 'DEPLETED' THEN 'EXPIRED' ELSE state END,
                version = version + 1, updated_at = $3
            WHERE id = $1 RETURNING {Columns}
            """, connection, transaction, id, amount, now);
        var credited = (await ReadOneAsync(update, cancellationToken))!;
        var first = await SessionStore.InsertLedgerAsync(connection, transaction, id, "credit", amount, creditKey, null,
            credited.State == SessionStates.Refunded ? credited.Balance + amount : credited.Balance, credited.RequestCount, now, cancellationToken);
        if (first && credited.State == SessionStates.Refunded)
            await SessionStore.InsertLedgerAsync(connection, transaction, id, "refund", amount, "refund-credit:" + debitIdempotencyKey, null,
                credited.Balance, credited.RequestCount, now, cancellationToken, refundMethod: credited.RefundMethod);
        if (first) await SessionMandates.ReleaseDebitAsync(connection, transaction, debitIdempotencyKey, now, cancellationToken);   // not served, not spent
        if (first && before.State == SessionStates.Depleted && credited.State == SessionStates.Expired)
            await SessionWebhooks.EnqueueAsync(connection, transaction, WebhookEvents.SessionExpired, credited, now, cancellationToken);
        if (!first)
        {
            await transaction.RollbackAsync(cancellationToken);
            var current = await LoadOwnedAsync(connection, null, id, payer, organization, forUpdate: false, cancellationToken);
            return new CreditResult(CreditStatus.AlreadyCredited, amount, current);
        }
        await transaction.CommitAsync(cancellationToken);
        logger.LogInformation("Credited {Amount} back to session {SessionId} for debit {Key}", amount, id, debitIdempotencyKey);
        return new CreditResult(CreditStatus.Credited, amount, credited);
    }

    /// <summary>The debit recorded under this key: its result again, a conflict when the key debited another session, or null.</summary>
    static async Task<DebitResult?> FindDebitAsync(NpgsqlConnection connection, string key, string id, string payer, string organization,
        CancellationToken cancellationToken)
    {
        await using var select = Command("""
            SELECT l.session_id, l.amount, l.balance_after, l.request_count_after, s.payer, s.organization
            FROM session_ledger l JOIN sessions s ON s.id = l.session_id
            WHERE l.idempotency_key = $1 AND l.kind = 'debit'
            """, connection, null, key);
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken)) return null;
        if (reader.GetString(0) != id || reader.GetString(4) != payer || reader.GetString(5) != organization)
            return DebitResult.Of(DebitStatus.KeyConflict);
        var balance = reader.GetFieldValue<BigInteger>(2);
        return new DebitResult(DebitStatus.Replayed, reader.GetFieldValue<BigInteger>(1), balance,
            balance.IsZero ? SessionStates.Depleted : SessionStates.Active, reader.GetInt64(3), null);
    }

    /// <summary>Why the conditional update matched nothing: no such session (for this payer), expired, too poor, or not active.</summary>
    static async Task<DebitResult> ExplainRefusalAsync(NpgsqlConnection connection, string id, string payer, string organization, BigInteger price,
        DateTimeOffset now, CancellationToken cancellationToken)
    {
        var session = await LoadOwnedAsync(connection, null, id, payer, organization, forUpdate: false, cancellationToken);
        if (session is null) return DebitResult.Of(DebitStatus.NotFound);
        if (session.IsDue(now)) session = await ExpireIfDueAsync(connection, id, now, cancellationToken) ?? session;
        return session.State switch
        {
            SessionStates.Expired => DebitResult.Of(DebitStatus.Expired, session),
            SessionStates.Depleted => DebitResult.Of(DebitStatus.InsufficientBalance, session),
            SessionStates.Active when session.Balance < price => DebitResult.Of(DebitStatus.InsufficientBalance, session),
            _ => DebitResult.Of(DebitStatus.NotActive, session),
        };
    }
}
