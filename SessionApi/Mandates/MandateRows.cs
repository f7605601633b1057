using System.Numerics;
using Npgsql;
using static Sessions.SessionApi.Sessions.SessionRows;

namespace Sessions.SessionApi.Mandates;

/// <summary>Column lists and readers for <c>mandates</c> and <c>mandate_approvals</c>, and the window sums.</summary>
internal static class MandateRows
{
    public const string MandateColumns =
        "id, user_address, agent, max_per_transaction, max_per_day, max_per_week, max_per_month, require_approval_above, " +
        "allowed_merchants, metadata::text, nonce, state, created_at, expires_at, revoked_at";

    public const string ApprovalColumns = "id, mandate_id, organization, amount, state, created_at, decided_at";

    public static Mandate ReadMandate(NpgsqlDataReader r) => new(r.GetString(0), r.GetString(1), r.GetString(2), Amount(r, 3), Amount(r, 4),
        Amount(r, 5), Amount(r, 6), Amount(r, 7), r.GetFieldValue<string[]>(8), r.IsDBNull(9) ? null : r.GetString(9), r.GetString(10),
        r.GetString(11), r.GetFieldValue<DateTimeOffset>(12), r.GetFieldValue<DateTimeOffset>(13),
        r.IsDBNull(14) ? null : r.GetFieldValue<DateTimeOffset>(14));

    public static MandateApproval ReadApproval(NpgsqlDataReader r) => new(r.GetString(0), r.GetString(1), r.GetString(2),
        r.GetFieldValue<BigInteger>(3), r.GetString(4), r.GetFieldValue<DateTimeOffset>(5), r.IsDBNull(6) ? null : r.GetFieldValue<DateTimeOffset>(6));

    static BigInteger? Amount(NpgsqlDataReader r, int i) => r.IsDBNull(i) ? null : r.GetFieldValue<BigInteger>(i);

    public static async Task<List<T>> ReadAllAsync<T>(NpgsqlCommand command, Func<NpgsqlDataReader, T> read, CancellationToken cancellationToken)
    {
        var items = new List<T>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) items.Add(read(reader));
        return items;
    }

    public static async Task<Mandate?> ReadMandateAsync(NpgsqlCommand command, CancellationToken cancellationToken) =>
        (await ReadAllAsync(command, ReadMandate, cancellationToken)).FirstOrDefault();

    public static async Task<Mandate?> LoadAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string id, bool forUpdate,
        CancellationToken cancellationToken)
    {
        await using var command = Command($"SELECT {MandateColumns} FROM mandates WHERE id = $1" + (forUpdate ? " FOR UPDATE" : ""), connection, transaction, id);
        return await ReadMandateAsync(command, cancellationToken);
    }

    /// <summary>
    /// Sums of the agent's unreleased charges in the rolling windows (now − 24 h, now − 7 d, now − 30 d], across its mandates:
    /// a mandate lasts at most 168 hours, so a month limit only means something over its renewals (always by the same user).
    /// </summary>
    public static async Task<Spending> SpendingAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string agent, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        await using var command = Command("""
            SELECT coalesce(sum(amount) FILTER (WHERE created_at > $2), 0),
                   coalesce(sum(amount) FILTER (WHERE created_at > $3), 0),
                   coalesce(sum(amount), 0)
            FROM mandate_charges
            WHERE agent = $1 AND released_at IS NULL AND created_at > $4 AND created_at <= $5
            """, connection, transaction, agent, now - Spending.Day, now - Spending.Week, now - Spending.Month, now);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new Spending(reader.GetFieldValue<BigInteger>(0), reader.GetFieldValue<BigInteger>(1), reader.GetFieldValue<BigInteger>(2));
    }

    /// <summary>Lazy expiry of one agent's (or one) due mandates; returns the ids it expired so the caller can emit their events.</summary>
    public static async Task<List<string>> ExpireDueAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string? agent, string? id,
        DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = Command("""
            UPDATE mandates SET state = 'expired', updated_at = $3
            WHERE state = 'active' AND expires_at <= $3 AND (agent = $1 OR id = $2)
            RETURNING id
            """, connection, transaction, agent ?? "", id ?? "", now);
        return await ReadAllAsync(command, r => r.GetString(0), cancellationToken);
    }
}
