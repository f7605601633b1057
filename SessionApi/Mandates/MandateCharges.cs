using System.Numerics;
using Npgsql;
using static Sessions.SessionApi.Mandates.MandateRows;
using static Sessions.SessionApi.Sessions.SessionRows;

namespace Sessions.SessionApi.Mandates;

public enum ChargeStatus
{
    NoMandate, Charged, Replayed, KeyConflict, MandateRevoked, MandateExpired, MerchantNotAllowed, LimitExceeded,
    ApprovalRequired, ApprovalDenied, ApprovalNotFound, ApprovalMismatch, ApprovalUsed,
}

/// <summary>A charge's outcome. <see cref="Limit"/> names the limit that refused it (maxPerTransaction, maxPerDay, ...).</summary>
public sealed record ChargeResult(ChargeStatus Status, Mandate? Mandate = null, Spending? Spending = null, string? Limit = null,
    BigInteger? LimitAmount = null, string? ApprovalId = null)
{
    public bool Allowed => Status is ChargeStatus.NoMandate or ChargeStatus.Charged or ChargeStatus.Replayed;
}

/// <summary>
/// Charging an agent's spending against its mandate. Everything happens in the caller's transaction under the mandate's row
/// lock (<c>FOR UPDATE</c>): the window sums and the new charge row are one critical section, so concurrent charges are
/// linearizable and never overshoot a limit; the UNIQUE idempotency key makes a retry a replay.
/// <para>Contract for callers: call it <b>first</b> in the transaction. When <see cref="ChargeResult.Allowed"/>, do the rest
/// (a rollback takes the charge away too). When refused, <b>commit</b> without writing anything else: a refusal may have
/// recorded an approval request, a lazy expiry or a webhook event that must survive.</para>
/// </summary>
public static class MandateCharges
{
    /// <summary>Charges <paramref name="amount"/> spent by <paramref name="agent"/> at <paramref name="organization"/>.</summary>
    /// <param name="key">Idempotency key, namespaced by the caller ("payment:…").</param>
    public static async Task<ChargeResult> TryChargeAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string agent,
        string organization, BigInteger amount, string key, string? approvalId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        // The agent's current mandate: the active one, else the latest. An agent once mandated stays bound: after revocation
        // or expiry it may spend nothing until its user signs a new mandate (otherwise revoking would lift every limit).
        await using var select = Command($"""
            SELECT {MandateColumns} FROM mandates WHERE agent = $1
            ORDER BY (state = 'active') DESC, created_at DESC LIMIT 1 FOR UPDATE
            """, connection, transaction, agent);
        var mandate = await ReadMandateAsync(select, cancellationToken);
        if (mandate is null) return new ChargeResult(ChargeStatus.NoMandate);

        // Under the lock, so a concurrent retry of this key has either committed (seen here) or not started its charge.
        // A released charge retried under its key is charged again (checks and all), reusing its row.
        var recharge = false;
        await using (var existing = Command("SELECT mandate_id, released_at IS NOT NULL FROM mandate_charges WHERE idempotency_key = $1",
                         connection, transaction, key))
        await using (var reader = await existing.ExecuteReaderAsync(cancellationToken))
            if (await reader.ReadAsync(cancellationToken))
            {
                if (reader.GetString(0) != mandate.Id) return new ChargeResult(ChargeStatus.KeyConflict, mandate);
                recharge = reader.GetBoolean(1);
            }
        if (!recharge && await ChargedAsync(connection, transaction, key, cancellationToken))
            return new ChargeResult(ChargeStatus.Replayed, mandate, await SpendingAsync(connection, transaction, mandate.Agent, now, cancellationToken));

        if (mandate.IsDue(now))
        {
            await MandateEvents.ExpiredAsync(connection, transaction, await ExpireDueAsync(connection, transaction, null, mandate.Id, now, cancellationToken),
                now, cancellationToken);
            mandate = mandate with { State = MandateStates.Expired };
        }
        if (mandate.State == MandateStates.Revoked) return new ChargeResult(ChargeStatus.MandateRevoked, mandate);
        if (mandate.State == MandateStates.Expired) return new ChargeResult(ChargeStatus.MandateExpired, mandate);
        if (!mandate.AllowsMerchant(organization)) return new ChargeResult(ChargeStatus.MerchantNotAllowed, mandate);

        var spending = await SpendingAsync(connection, transaction, mandate.Agent, now, cancellationToken);
        var limit = ExceededLimit(mandate, spending, amount);
        if (limit is { } exceeded)
        {
            await MandateEvents.LimitReached(connection, transaction, mandate, organization, exceeded.Name, amount.ToString(),
                exceeded.Remaining?.ToString(), now, cancellationToken);
            return new ChargeResult(ChargeStatus.LimitExceeded, mandate, spending, exceeded.Name, exceeded.Limit);
        }

        string? usedApproval = null;
        if (mandate.RequireApprovalAbove is { } threshold && amount > threshold)
        {
            var approval = await ApprovalForAsync(connection, transaction, mandate, organization, amount, key, approvalId, now, cancellationToken);
            if (approval.Status != ChargeStatus.Charged) return approval with { Spending = spending };
            usedApproval = approval.ApprovalId;
        }

        await using var insert = Command("""
            INSERT INTO mandate_charges (mandate_id, idempotency_key, organization, amount, approval_id, created_at, agent)
            VALUES ($1, $2, $3, $4, $5, $6, $7)
            ON CONFLICT (idempotency_key) DO UPDATE SET organization = $3, amount = $4, approval_id = $5, created_at = $6,
                released_at = NULL
            WHERE mandate_charges.mandate_id = $1 AND mandate_charges.released_at IS NOT NULL
            """, connection, transaction, mandate.Id, key, organization, amount, usedApproval, now, mandate.Agent);
        // Nothing written: the key was charged concurrently under another agent's mandate (keys are global).
        if (await insert.ExecuteNonQueryAsync(cancellationToken) == 0) return new ChargeResult(ChargeStatus.KeyConflict, mandate);
        if (usedApproval is not null)
        {
            await using var use = Command("UPDATE mandate_approvals SET state = 'used', used_by = $2 WHERE id = $1", connection, transaction,
                usedApproval, key);
            await use.ExecuteNonQueryAsync(cancellationToken);
        }
        return new ChargeResult(ChargeStatus.Charged, mandate,
            new Spending(spending.Today + amount, spending.ThisWeek + amount, spending.ThisMonth + amount), ApprovalId: usedApproval);
    }

    /// <summary>
    /// Undoes a charge whose payment or debit failed: it stops counting, and an approval it consumed can be used again.
    /// Returns false for an unknown key (or one of another agent); releasing twice is a no-op.
    /// </summary>
    public static async Task<bool> ReleaseAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string key, string? agent,
        DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var update = Command("""
            UPDATE mandate_charges c SET released_at = coalesce(c.released_at, $3)
            FROM mandates m
            WHERE c.idempotency_key = $1 AND m.id = c.mandate_id AND ($2 = '' OR m.agent = $2)
            RETURNING c.approval_id, c.released_at = $3
            """, connection, transaction, key, agent ?? "", now);
        string? approval = null;
        await using (var reader = await update.ExecuteReaderAsync(cancellationToken))
        {
            if (!await reader.ReadAsync(cancellationToken)) return false;
            approval = reader.IsDBNull(0) ? null : reader.GetString(0);
        }
        if (approval is not null)
        {
            await using var restore = Command("UPDATE mandate_approvals SET state = 'approved', used_by = NULL WHERE id = $1 AND used_by = $2",
                connection, transaction, approval, key);
            await restore.ExecuteNonQueryAsync(cancellationToken);
        }
        return true;
    }

    static async Task<bool> ChargedAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string key, CancellationToken cancellationToken)
    {
        await using var command = Command("SELECT 1 FROM mandate_charges WHERE idempotency_key = $1", connection, transaction, key);
        return await command.ExecuteScalarAsync(cancellationToken) is not null;
    }

    /// <summary>The first limit the charge would break, in the order per transaction, day, week, month; null when it fits.</summary>
    public static (string Name, BigInteger Limit, BigInteger? Remaining)? ExceededLimit(Mandate mandate, Spending spending, BigInteger amount)
    {
        if (mandate.MaxPerTransaction is { } perTx && amount > perTx) return ("maxPerTransaction", perTx, perTx);
        if (mandate.MaxPerDay is { } day && spending.Today + amount > day) return ("maxPerDay", day, Spending.Remaining(day, spending.Today));
        if (mandate.MaxPerWeek is { } week && spending.ThisWeek + amount > week) return ("maxPerWeek", week, Spending.Remaining(week, spending.ThisWeek));
        if (mandate.MaxPerMonth is { } month && spending.ThisMonth + amount > month)
            return ("maxPerMonth", month, Spending.Remaining(month, spending.ThisMonth));
        return null;
    }

    /// <summary>
    /// Above the approval threshold: the approval named by the agent, or the one this charge's key asked for earlier
    /// (status Charged = usable), else a new pending request (ApprovalRequired; <c>approval.requested</c> is emitted once).
    /// </summary>
    static async Task<ChargeResult> ApprovalForAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Mandate mandate, string organization,
        BigInteger amount, string key, string? approvalId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var select = approvalId is null
            ? Command($"SELECT {ApprovalColumns} FROM mandate_approvals WHERE mandate_id = $1 AND request_key = $2 FOR UPDATE",
                connection, transaction, mandate.Id, key)
            : Command($"SELECT {ApprovalColumns} FROM mandate_approvals WHERE mandate_id = $1 AND id = $2 FOR UPDATE",
                connection, transaction, mandate.Id, approvalId);
        var found = await ReadAllAsync(select, ReadApproval, cancellationToken);
        if (found.FirstOrDefault() is not { } approval)
        {
            if (approvalId is not null) return new ChargeResult(ChargeStatus.ApprovalNotFound, mandate, ApprovalId: approvalId);
            approval = new MandateApproval(MandateIds.NewApprovalId(), mandate.Id, organization, amount, ApprovalStates.Pending, now, null);
            await using var insert = Command("""
                INSERT INTO mandate_approvals (id, mandate_id, organization, amount, request_key, state, created_at)
                VALUES ($1, $2, $3, $4, $5, 'pending', $6)
                """, connection, transaction, approval.Id, mandate.Id, organization, amount, key, now);
            await insert.ExecuteNonQueryAsync(cancellationToken);
            await MandateEvents.ApprovalRequested(connection, transaction, mandate, approval, now, cancellationToken);
            return new ChargeResult(ChargeStatus.ApprovalRequired, mandate, ApprovalId: approval.Id);
        }
        // An approval covers its organisation and up to its amount, once.
        if (approval.Organization != organization || amount > approval.Amount)
            return new ChargeResult(ChargeStatus.ApprovalMismatch, mandate, ApprovalId: approval.Id);
        return approval.State switch
        {
            ApprovalStates.Approved => new ChargeResult(ChargeStatus.Charged, mandate, ApprovalId: approval.Id),
            ApprovalStates.Denied => new ChargeResult(ChargeStatus.ApprovalDenied, mandate, ApprovalId: approval.Id),
            ApprovalStates.Used => new ChargeResult(ChargeStatus.ApprovalUsed, mandate, ApprovalId: approval.Id),
            _ => new ChargeResult(ChargeStatus.ApprovalRequired, mandate, ApprovalId: approval.Id),
        };
    }
}
