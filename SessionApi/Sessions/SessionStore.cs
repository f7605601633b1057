using System.Numerics;
using Npgsql;
using NpgsqlTypes;
using Microsoft.Extensions.Options;
using Sessions.SessionApi.Webhooks;
using Sessions.ServiceDefaults.Payers;
using static Sessions.SessionApi.Sessions.SessionRows;

namespace Sessions.SessionApi.Sessions;

public sealed record OpenSession(string Organization, string Payer, string Kind, BigInteger Deposit, string PaymentId, TimeSpan Ttl,
    BigInteger? PriceHint);

public enum OpenStatus { Created, Replayed, PaymentConflict }

/// <summary><see cref="Token"/>: the session's token, the same in every answer to its opening payment.</summary>
public sealed record OpenResult(OpenStatus Status, Session? Session, string? Token);

public enum ChangeStatus { Done, Replayed, NotFound, Expired, NotActive, PaymentConflict }

public sealed record ChangeResult(ChangeStatus Status, Session? Session);

/// <summary>
/// Opening, looking up, topping up and closing sessions in sessionsdb. Every change of money is one transaction
/// that updates the row (taking its lock) and writes the ledger row whose UNIQUE idempotency key makes a retry a no-op.
/// </summary>
public sealed class SessionStore(NpgsqlDataSource dataSource, TimeProvider time, IOptions<PayerContextOptions> keys, ILogger<SessionStore> logger)
{
    readonly Lazy<byte[]> _tokenKey = new(() => SessionTokens.TokenKey(keys.Value.SigningKey
        ?? throw new InvalidOperationException($"{PayerContextOptions.SectionName}:SigningKey is not set: sessions cannot be opened.")));

    public async Task<OpenResult> OpenAsync(OpenSession open, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var id = SessionTokens.NewSessionId();
        var token = SessionTokens.TokenOf(id, _tokenKey.Value);
        var isPass = open.Kind == SessionKinds.Pass;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using (var transaction = await connection.BeginTransactionAsync(cancellationToken))
        {
            // A pass is bought outright: its deposit is spent at once (balance 0), so the invariant holds from the start.
            await using var insert = Command($"""
                INSERT INTO sessions (id, token_hash, organization, payer, kind, opening_payment_id, deposit, spent, balance, state,
                                      price_hint, created_at, expires_at, updated_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'ACTIVE', $10, $11, $12, $11)
                ON CONFLICT (opening_payment_id) DO NOTHING
                RETURNING {Columns}
                """, connection, transaction, id, SessionTokens.Hash(token), open.Organization, open.Payer, open.Kind, open.PaymentId,
                open.Deposit, isPass ? open.Deposit : BigInteger.Zero, isPass ? BigInteger.Zero : open.Deposit);
            insert.Parameters.Add(open.PriceHint is { } hint ? Parameter(hint) : Null(NpgsqlDbType.Numeric));
            insert.Parameters.Add(Parameter(now));
            insert.Parameters.Add(Parameter(now + open.Ttl));
            var created = await ReadOneAsync(insert, cancellationToken);
            if (created is not null)
            {
                await InsertLedgerAsync(connection, transaction, id, "deposit", open.Deposit, "open:" + open.PaymentId, open.PaymentId,
                    open.Deposit, 0, now, cancellationToken);
                if (isPass)
                    await InsertLedgerAsync(connection, transaction, id, "debit", open.Deposit, "pass:" + id, open.PaymentId,
                        BigInteger.Zero, 0, now, cancellationToken);
                await SessionWebhooks.EnqueueAsync(connection, transaction, WebhookEvents.SessionOpened, created, now, cancellationToken);
                await transaction.CommitAsync(cancellationToken);
                SessionApiTelemetry.CountChange("opened");
                logger.LogInformation("Opened {Kind} session {SessionId} for {Payer} in {Organization}: deposit {Deposit}, expires {ExpiresAt}",
                    open.Kind, id, open.Payer, open.Organization, open.Deposit, created.ExpiresAt);
                return new OpenResult(OpenStatus.Created, created, token);
            }
        }
        return await ReplayOpenAsync(connection, open, cancellationToken);
    }

    /// <summary>
    /// The payment already opened a session (the gate retried after a lost answer, or copies of one header raced): same terms,
    /// the same session and the same token, so a lost answer never strands a deposit and no copy gets a second token. Null
    /// token only if the token key changed since (the agent's token keeps working).
    /// </summary>
    async Task<OpenResult> ReplayOpenAsync(NpgsqlConnection connection, OpenSession open, CancellationToken cancellationToken)
    {
        await using var select = Command($"SELECT {Columns}, token_hash FROM sessions WHERE opening_payment_id = $1", connection, null, open.PaymentId);
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
            return new OpenResult(OpenStatus.PaymentConflict, null, null);
        var existing = Read(reader);
        if (!existing.BelongsTo(open.Payer, open.Organization) || existing.Kind != open.Kind || existing.Deposit != open.Deposit)
            return new OpenResult(OpenStatus.PaymentConflict, null, null);
        var token = SessionTokens.TokenOf(existing.Id, _tokenKey.Value);
        var same = SessionTokens.Hash(token) == reader.GetString(reader.GetOrdinal("token_hash"));
        logger.LogInformation("Replayed opening of session {SessionId} by payment {PaymentId}; token answered: {Token}", existing.Id, open.PaymentId, same);
        return new OpenResult(OpenStatus.Replayed, existing, same ? token : null);
    }

    /// <summary>The session of a bearer token in this organisation (expiring it first if it is due), or null.</summary>
    public async Task<Session?> ResolveAsync(string token, string organization, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var select = Command($"SELECT {Columns} FROM sessions WHERE token_hash = $1 AND organization = $2", connection, null,
            SessionTokens.Hash(token), organization);
        var session = await ReadOneAsync(select, cancellationToken);
        if (session is null || !session.IsDue(time.GetUtcNow())) return session;
        return await ExpireIfDueAsync(connection, session.Id, time.GetUtcNow(), cancellationToken) ?? session;
    }

    public async Task<Session?> GetAsync(string id, string payer, string organization, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var session = await LoadOwnedAsync(connection, null, id, payer, organization, forUpdate: false, cancellationToken);
        if (session is null || !session.IsDue(time.GetUtcNow())) return session;
        return await ExpireIfDueAsync(connection, session.Id, time.GetUtcNow(), cancellationToken) ?? session;
    }

    /// <summary>The payer's sessions in the organisation, newest first (at most <paramref name="limit"/>).</summary>
    public async Task<IReadOnlyList<Session>> ListAsync(string payer, string organization, string? state, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        // Due sessions are expired first (with their events) so that the state filter answers what a GET of each would answer.
        await SessionWebhooks.ExpireAsync(connection, "payer = $2 AND organization = $3", time.GetUtcNow(), cancellationToken, payer, organization);
        await using var select = Command($"""
            SELECT {Columns} FROM sessions WHERE payer = $1 AND organization = $2 AND ($3::text IS NULL OR state = $3)
            ORDER BY created_at DESC, id LIMIT $4
            """, connection, null, payer, organization);
        select.Parameters.Add(state is null ? Null(NpgsqlDbType.Text) : Parameter(state));
        select.Parameters.Add(Parameter(limit));
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        var sessions = new List<Session>();
        while (await reader.ReadAsync(cancellationToken))
            sessions.Add(Read(reader));
        return sessions;
    }

    /// <summary>Adds a paid top-up to a prepaid ACTIVE or DEPLETED session (DEPLETED becomes ACTIVE); once per payment.</summary>
    public async Task<ChangeResult> TopUpAsync(string id, string payer, string organization, BigInteger amount, string paymentId,
        CancellationToken cancellationToken)
    {
        var key = "topup:" + paymentId;
        var now = time.GetUtcNow();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        if (await ReplayAsync(connection, key, id, payer, organization, cancellationToken) is { } replay) return replay;
        // A payment pays for one thing: the one that opened a session cannot top one up as well.
        await using (var opened = Command("SELECT EXISTS (SELECT 1 FROM sessions WHERE opening_payment_id = $1)", connection, null, paymentId))
            if ((bool)(await opened.ExecuteScalarAsync(cancellationToken))!)
                return new ChangeResult(ChangeStatus.PaymentConflict, null);
        await using (var transaction = await connection.BeginTransactionAsync(cancellationToken))
        {
            await using var update = Command($"""
                UPDATE sessions SET balance = balance + $4, topped_up = topped_up + $4, state = 'ACTIVE', version = version + 1, updated_at = $5
                WHERE id = $1 AND payer = $2 AND organization = $3 AND kind = 'prepaid' AND state IN ('ACTIVE', 'DEPLETED') AND expires_at > $5
                RETURNING {Columns}
                """, connection, transaction, id, payer, organization, amount, now);
            var updated = await ReadOneAsync(update, cancellationToken);
            if (updated is not null
                && await InsertLedgerAsync(connection, transaction, id, "topup", amount, key, paymentId, updated.Balance, updated.RequestCount, now, cancellationToken))
            {
                await SessionWebhooks.EnqueueAsync(connection, transaction, WebhookEvents.SessionToppedUp, updated, now, cancellationToken, amount, paymentId);
                await transaction.CommitAsync(cancellationToken);
                SessionApiTelemetry.CountChange("topped_up");
                logger.LogInformation("Topped up session {SessionId} by {Amount} (payment {PaymentId}): balance {Balance}", id, amount, paymentId, updated.Balance);
                return new ChangeResult(ChangeStatus.Done, updated);
            }
        }
        // Not updated, or a concurrent retry of the same payment won: find out which.
        if (await ReplayAsync(connection, key, id, payer, organization, cancellationToken) is { } late) return late;
        var session = await LoadOwnedAsync(connection, null, id, payer, organization, forUpdate: false, cancellationToken);
        if (session is null) return new ChangeResult(ChangeStatus.NotFound, null);
        if (session.State == SessionStates.Expired || session.IsDue(now))
            return new ChangeResult(ChangeStatus.Expired, await ExpireIfDueAsync(connection, id, now, cancellationToken) ?? session);
        return new ChangeResult(ChangeStatus.NotActive, session);
    }

    /// <summary>
    /// Ends the session and refunds what is left (ACTIVE, DEPLETED or EXPIRED -> REFUNDED). Closing a closed session answers
    /// the same again. <paramref name="method"/> records how the gate pays it back.
    /// </summary>
    public async Task<ChangeResult> CloseAsync(string id, string payer, string organization, string method, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var session = await LoadOwnedAsync(connection, transaction, id, payer, organization, forUpdate: true, cancellationToken);
        if (session is null) return new ChangeResult(ChangeStatus.NotFound, null);
        if (session.State == SessionStates.Refunded) return new ChangeResult(ChangeStatus.Replayed, session);
        if (session.State == SessionStates.Pending) return new ChangeResult(ChangeStatus.NotActive, session);

        await using var update = Command($"""
            UPDATE sessions SET refunded = refunded + balance, balance = 0, state = 'REFUNDED', refund_method = $2, version = version + 1, updated_at = $3
            WHERE id = $1 RETURNING {Columns}
            """, connection, transaction, id, method, now);
        var closed = (await ReadOneAsync(update, cancellationToken))!;
        if (session.Balance > 0)
            await InsertLedgerAsync(connection, transaction, id, "refund", session.Balance, "refund:" + id, null, BigInteger.Zero,
                closed.RequestCount, now, cancellationToken, refundMethod: method);
        await SessionWebhooks.EnqueueAsync(connection, transaction, WebhookEvents.SessionClosed, closed, now, cancellationToken, amount: session.Balance);
        await transaction.CommitAsync(cancellationToken);
        SessionApiTelemetry.CountChange("closed");
        logger.LogInformation("Closed session {SessionId}: refund {Refund} by {Method}", id, session.Balance, method);
        // refunded = the balance at close: nothing else refunds before the close.
        return new ChangeResult(ChangeStatus.Done, closed);
    }

    /// <summary>The sweeper's pass: every ACTIVE or DEPLETED session past its expiry becomes EXPIRED. Returns their ids.</summary>
    public async Task<IReadOnlyList<string>> ExpireDueAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var ids = (await SessionWebhooks.ExpireAsync(connection, "true", time.GetUtcNow(), cancellationToken)).Select(session => session.Id).ToList();
        if (ids.Count > 0) SessionApiTelemetry.CountChange("expired", ids.Count);
        return ids;
    }

    /// <summary>
    /// The top-up of this key already happened: for this session, the session as that top-up left it (its ledger row keeps the
    /// balance and request count after it), so every answer to one payment is the same; for another session, a conflict.
    /// </summary>
    static async Task<ChangeResult?> ReplayAsync(NpgsqlConnection connection, string key, string id, string payer, string organization,
        CancellationToken cancellationToken)
    {
        await using var select = Command("""
            SELECT l.session_id, l.balance_after, l.request_count_after,
                   (SELECT sum(t.amount) FROM session_ledger t WHERE t.session_id = l.session_id AND t.kind = 'topup' AND t.id <= l.id)
              FROM session_ledger l WHERE l.idempotency_key = $1
            """, connection, null, key);
        string sessionId;
        BigInteger balance, toppedUp;
        long requestCount;
        await using (var reader = await select.ExecuteReaderAsync(cancellationToken))
        {
            if (!await reader.ReadAsync(cancellationToken)) return null;
            (sessionId, balance, requestCount, toppedUp) = (reader.GetString(0), reader.GetFieldValue<BigInteger>(1), reader.GetInt64(2),
                reader.GetFieldValue<BigInteger>(3));
        }
        if (sessionId != id) return new ChangeResult(ChangeStatus.PaymentConflict, null);
        var session = await LoadOwnedAsync(connection, null, id, payer, organization, forUpdate: false, cancellationToken);
        // A top-up leaves the session ACTIVE, with nothing refunded yet (only a close refunds, and it ends top-ups).
        return session is null ? new ChangeResult(ChangeStatus.NotFound, null) : new ChangeResult(ChangeStatus.Replayed, session with
        {
            ToppedUp = toppedUp, Balance = balance, Spent = session.Deposit + toppedUp - balance, Refunded = BigInteger.Zero, RefundMethod = null,
            State = SessionStates.Active, RequestCount = requestCount,
        });
    }

    /// <summary>Inserts a ledger row; false when its idempotency key exists already (the caller rolls back).</summary>
    internal static async Task<bool> InsertLedgerAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sessionId, string kind,
        BigInteger amount, string idempotencyKey, string? paymentId, BigInteger balanceAfter, long requestCountAfter, DateTimeOffset now,
        CancellationToken cancellationToken, string? refundMethod = null)
    {
        // Request debits are not written here: DebitFold inserts them in batches (with their request id and route).
        await using var insert = Command("""
            INSERT INTO session_ledger (session_id, kind, amount, idempotency_key, payment_id, refund_method,
                                        balance_after, request_count_after, created_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
            ON CONFLICT (idempotency_key) DO NOTHING
            """, connection, transaction, sessionId, kind, amount, idempotencyKey);
        foreach (var text in (string?[])[paymentId, refundMethod])
            insert.Parameters.Add(text is null ? Null(NpgsqlDbType.Text) : Parameter(text));
        insert.Parameters.Add(Parameter(balanceAfter));
        insert.Parameters.Add(Parameter(requestCountAfter));
        insert.Parameters.Add(Parameter(now));
        return await insert.ExecuteNonQueryAsync(cancellationToken) == 1;
    }
}
