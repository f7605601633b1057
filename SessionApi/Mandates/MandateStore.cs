using System.Numerics;
using Npgsql;
using NpgsqlTypes;
using Sessions.Payments.Eip712;
using static Sessions.SessionApi.Mandates.MandateRows;
using static Sessions.SessionApi.Sessions.SessionRows;

namespace Sessions.SessionApi.Mandates;

public enum MandateStatus { Created, Replayed, NonceConflict, AgentHasMandate, AgentBound, NotFound, NotActive, Done, Conflict }

public sealed record MandateResult(MandateStatus Status, Mandate? Mandate = null, Spending? Spending = null, MandateApproval? Approval = null);

/// <summary>Creating, reading and revoking mandates, deciding approvals, and the charge endpoint's transaction.</summary>
public sealed class MandateStore(NpgsqlDataSource dataSource, TimeProvider time, ILogger<MandateStore> logger)
{
    public DateTimeOffset Now => time.GetUtcNow();

    /// <summary>Stores verified terms. Idempotent on the consent (nonce + digest): the same request again answers the same mandate.</summary>
    public async Task<MandateResult> CreateAsync(MandateTerms terms, string digest, string userSignature, string agentSignature, string? metadata,
        CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var user = terms.User.ToLowerHex();
        var agent = terms.Agent.ToLowerHex();
        var nonce = terms.Nonce.ToString();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var byNonce = Command($"SELECT {MandateColumns}, terms_digest FROM mandates WHERE nonce = $1", connection, transaction, nonce))
        await using (var reader = await byNonce.ExecuteReaderAsync(cancellationToken))
            if (await reader.ReadAsync(cancellationToken))
            {
                var existing = ReadMandate(reader);
                var sameConsent = reader.GetString(15) == digest;
                await reader.CloseAsync();
                return sameConsent
                    ? new MandateResult(MandateStatus.Replayed, existing, await SpendingAsync(connection, transaction, existing.Agent, now, cancellationToken))
                    : new MandateResult(MandateStatus.NonceConflict);
            }

        await MandateEvents.ExpiredAsync(connection, transaction, await ExpireDueAsync(connection, transaction, agent, null, now, cancellationToken),
            now, cancellationToken);
        // The agent's latest mandate, locked: one active at a time, and an agent stays with the user who first mandated it.
        await using (var latest = Command($"SELECT {MandateColumns} FROM mandates WHERE agent = $1 ORDER BY created_at DESC LIMIT 1 FOR UPDATE",
                         connection, transaction, agent))
            if (await ReadMandateAsync(latest, cancellationToken) is { } current)
            {
                if (current.User != user) { await transaction.CommitAsync(cancellationToken); return new MandateResult(MandateStatus.AgentBound, current); }
                if (current.State == MandateStates.Active)
                {
                    await transaction.CommitAsync(cancellationToken);
                    return new MandateResult(MandateStatus.AgentHasMandate, current);
                }
            }

        var id = MandateIds.NewMandateId();
        await using var insert = Command($"""
            INSERT INTO mandates (id, user_address, agent, max_per_transaction, max_per_day, max_per_week, max_per_month, require_approval_above,
                                  allowed_merchants, metadata, nonce, terms_digest, user_signature, agent_signature, state, created_at, expires_at, updated_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 'active', $15, $16, $15)
            RETURNING {MandateColumns}
            """, connection, transaction, id, user, agent);
        foreach (var limit in (BigInteger?[])[terms.MaxPerTransaction, terms.MaxPerDay, terms.MaxPerWeek, terms.MaxPerMonth, terms.RequireApprovalAbove])
            insert.Parameters.Add(limit is { } value ? Parameter(value) : Null(NpgsqlDbType.Numeric));
        insert.Parameters.Add(new NpgsqlParameter { Value = terms.AllowedMerchants.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        insert.Parameters.Add(metadata is null ? Null(NpgsqlDbType.Jsonb) : new NpgsqlParameter { Value = metadata, NpgsqlDbType = NpgsqlDbType.Jsonb });
        foreach (var value in (object[])[nonce, digest, userSignature, agentSignature, now, DateTimeOffset.FromUnixTimeSeconds(terms.ExpiresAt)])
            insert.Parameters.Add(Parameter(value));
        Mandate created;
        try
        {
            created = (await ReadMandateAsync(insert, cancellationToken))!;
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            // A concurrent create for the same agent or with the same nonce won: the caller retries and gets the precise answer.
            return new MandateResult(MandateStatus.Conflict);
        }
        await MandateEvents.Created(connection, transaction, created, now, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        logger.LogInformation("Mandate {MandateId}: user {User} authorised agent {Agent} until {ExpiresAt}", id, user, agent, created.ExpiresAt);
        return new MandateResult(MandateStatus.Created, created, Spending.None);
    }

    public async Task<(Mandate Mandate, Spending Spending)?> GetAsync(string id, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var mandate = await LoadAsync(connection, null, id, forUpdate: false, cancellationToken);
        if (mandate is null) return null;
        return (mandate, await SpendingAsync(connection, null, mandate.Agent, time.GetUtcNow(), cancellationToken));
    }

    public async Task<List<(Mandate Mandate, Spending Spending)>> ListAsync(string? user, string? agent, int limit, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var select = Command($"""
            SELECT {MandateColumns} FROM mandates WHERE ($1 = '' OR user_address = $1) AND ($2 = '' OR agent = $2)
            ORDER BY created_at DESC LIMIT $3
            """, connection, null, user ?? "", agent ?? "", limit);
        var mandates = await ReadAllAsync(select, ReadMandate, cancellationToken);
        var items = new List<(Mandate, Spending)>();
        foreach (var mandate in mandates)
            items.Add((mandate, await SpendingAsync(connection, null, mandate.Agent, now, cancellationToken)));
        return items;
    }

    /// <summary>Revokes at once (the row lock waits for charges in flight; every later charge sees it). Final: revoking again is a no-op.</summary>
    public async Task<MandateResult> RevokeAsync(string id, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var update = Command($"""
            UPDATE mandates SET state = 'revoked', revoked_at = $2, updated_at = $2 WHERE id = $1 AND state <> 'revoked'
            RETURNING {MandateColumns}
            """, connection, transaction, id, now);
        var revoked = await ReadMandateAsync(update, cancellationToken);
        if (revoked is null)
            return await LoadAsync(connection, transaction, id, false, cancellationToken) is { } already
                ? new MandateResult(MandateStatus.Replayed, already) : new MandateResult(MandateStatus.NotFound);
        await MandateEvents.Revoked(connection, transaction, revoked, now, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        logger.LogInformation("Mandate {MandateId} revoked by its user", id);
        return new MandateResult(MandateStatus.Done, revoked);
    }

    /// <summary>The sweeper's bulk expiry: every mandate past its expiry, with its event, in one transaction.</summary>
    public async Task<List<string>> SweepExpiredAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var update = Command("UPDATE mandates SET state = 'expired', updated_at = $1 WHERE state = 'active' AND expires_at <= $1 RETURNING id",
            connection, transaction, now);
        var expired = await ReadAllAsync(update, r => r.GetString(0), cancellationToken);
        await MandateEvents.ExpiredAsync(connection, transaction, expired, now, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return expired;
    }

    public async Task<List<MandateApproval>> ApprovalsAsync(string mandateId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var select = Command($"SELECT {ApprovalColumns} FROM mandate_approvals WHERE mandate_id = $1 ORDER BY created_at DESC, id",
            connection, null, mandateId);
        return await ReadAllAsync(select, ReadApproval, cancellationToken);
    }

    /// <summary>The approval with its mandate (whose user must sign the decision).</summary>
    public async Task<(MandateApproval Approval, Mandate Mandate)?> FindApprovalAsync(string approvalId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var select = Command($"SELECT {ApprovalColumns} FROM mandate_approvals WHERE id = $1", connection, null, approvalId);
        if ((await ReadAllAsync(select, ReadApproval, cancellationToken)).FirstOrDefault() is not { } approval) return null;
        return (approval, (await LoadAsync(connection, null, approval.MandateId, false, cancellationToken))!);
    }

    /// <summary>Approves or denies a pending request once; the same decision again is a no-op, the other one a conflict.</summary>
    public async Task<MandateResult> DecideAsync(string approvalId, bool approve, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var state = approve ? ApprovalStates.Approved : ApprovalStates.Denied;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var select = Command($"SELECT {ApprovalColumns} FROM mandate_approvals WHERE id = $1 FOR UPDATE", connection, transaction, approvalId);
        if ((await ReadAllAsync(select, ReadApproval, cancellationToken)).FirstOrDefault() is not { } approval)
            return new MandateResult(MandateStatus.NotFound);
        var mandate = (await LoadAsync(connection, transaction, approval.MandateId, false, cancellationToken))!;
        if (approval.State != ApprovalStates.Pending)
            return new MandateResult(approval.State == state || (approve && approval.State == ApprovalStates.Used)
                ? MandateStatus.Replayed : MandateStatus.Conflict, mandate, Approval: approval);
        if (approve && (mandate.State != MandateStates.Active || mandate.IsDue(now)))
            return new MandateResult(MandateStatus.NotActive, mandate, Approval: approval);
        await using var update = Command($"UPDATE mandate_approvals SET state = $2, decided_at = $3 WHERE id = $1 RETURNING {ApprovalColumns}",
            connection, transaction, approvalId, state, now);
        approval = (await ReadAllAsync(update, ReadApproval, cancellationToken))[0];
        await transaction.CommitAsync(cancellationToken);
        logger.LogInformation("Approval {ApprovalId} of mandate {MandateId}: {Decision}", approvalId, mandate.Id, state);
        return new MandateResult(MandateStatus.Done, mandate, Approval: approval);
    }

    /// <summary>Whether <paramref name="agent"/> has ever been given a mandate (once mandated, an agent stays bound).</summary>
    public async Task<bool> IsMandatedAsync(string agent, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var command = Command("SELECT EXISTS (SELECT 1 FROM mandates WHERE agent = $1)", connection, null, agent);
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>Every agent that has ever been given a mandate (once mandated, an agent stays bound), lowercase.</summary>
    public async Task<List<string>> AgentsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var command = Command("SELECT DISTINCT agent FROM mandates", connection, null);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var agents = new List<string>();
        while (await reader.ReadAsync(cancellationToken))
            agents.Add(reader.GetString(0));
        return agents;
    }

    /// <summary>The charge endpoint: one transaction around <see cref="MandateCharges.TryChargeAsync"/>, committed either way.</summary>
    public async Task<ChargeResult> ChargeAsync(string agent, string organization, BigInteger amount, string key, string? approvalId,
        CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var result = await MandateCharges.TryChargeAsync(connection, transaction, agent, organization, amount, ChargeKey(key), approvalId,
            time.GetUtcNow(), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return result;
    }

    public async Task<bool> ReleaseAsync(string agent, string key, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var released = await MandateCharges.ReleaseAsync(connection, transaction, ChargeKey(key), agent, time.GetUtcNow(), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return released;
    }

    /// <summary>Every charge comes through the endpoint: x402 payments (key: the payment id) and session debits (key: the gate's request id).</summary>
    static string ChargeKey(string key) => "payment:" + key;
}
