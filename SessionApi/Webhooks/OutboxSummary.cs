using Npgsql;
using NpgsqlTypes;

namespace Sessions.SessionApi.Webhooks;

/// <summary>Keeps the summary columns of <c>outbox</c> (attempts, next attempt, delivered, dead) equal to what its deliveries say.</summary>
internal static class OutboxSummary
{
    public static async Task RefreshAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string[] eventIds, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        if (eventIds.Length == 0) return;
        // Lock first, in id order (two instances finishing deliveries of one event never deadlock), then recompute in a
        // new statement: under READ COMMITTED it sees every delivery committed by whoever held the lock before us.
        await using (var lockRows = new NpgsqlCommand("SELECT id FROM outbox WHERE id = ANY ($1) ORDER BY id FOR UPDATE", connection, transaction))
        {
            lockRows.Parameters.Add(Parameter(eventIds));
            await lockRows.ExecuteNonQueryAsync(cancellationToken);
        }
        await using var update = new NpgsqlCommand("""
            UPDATE outbox o SET
                attempts = s.attempts,
                next_attempt_at = s.next_attempt_at,
                dead = s.dead,
                delivered_at = CASE WHEN s.pending OR s.dead THEN NULL ELSE coalesce(o.delivered_at, $2) END
            FROM (SELECT outbox_id, sum(attempts)::int AS attempts,
                         min(next_attempt_at) FILTER (WHERE delivered_at IS NULL AND NOT dead) AS next_attempt_at,
                         bool_or(dead) AS dead, bool_or(delivered_at IS NULL AND NOT dead) AS pending
                  FROM outbox_deliveries WHERE outbox_id = ANY ($1) GROUP BY outbox_id) s
            WHERE o.id = s.outbox_id
            """, connection, transaction);
        update.Parameters.Add(Parameter(eventIds));
        update.Parameters.Add(Parameter(now));
        await update.ExecuteNonQueryAsync(cancellationToken);
    }

    public static NpgsqlParameter Parameter(object? value) => value switch
    {
        DateTimeOffset time => new() { Value = time.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz },
        string[] texts => new() { Value = texts, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text },
        string text => new() { Value = text, NpgsqlDbType = NpgsqlDbType.Text },
        int number => new() { Value = number, NpgsqlDbType = NpgsqlDbType.Integer },
        bool flag => new() { Value = flag, NpgsqlDbType = NpgsqlDbType.Boolean },
        null => new() { Value = DBNull.Value },
        _ => new() { Value = value },
    };
}
