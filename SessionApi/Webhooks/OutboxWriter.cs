using System.Security.Cryptography;
using System.Text.Json;
using Npgsql;
using NpgsqlTypes;

namespace Sessions.SessionApi.Webhooks;

/// <summary>
/// Writes a webhook event into the transactional outbox, in the caller's transaction: the event exists exactly when the
/// change it reports committed (a rollback takes it away too). In the same statement it creates one delivery per active
/// endpoint whose filters match (events, organisation); the dispatcher delivers them after the commit.
/// </summary>
/// <example>
/// <code>
/// await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
/// // ... the change ...
/// await OutboxWriter.EnqueueAsync(connection, transaction, WebhookEvents.AgentSessionRevoked,
///     new { mandateId, agent, revokedAt }, organization, time.GetUtcNow(), cancellationToken);
/// await transaction.CommitAsync(cancellationToken);
/// </code>
/// </example>
public static class OutboxWriter
{
    /// <summary>
    /// Enqueues <paramref name="eventName"/> (one of <see cref="WebhookEvents.All"/>) with <paramref name="data"/> as the
    /// envelope's <c>data</c> (serialized with the web defaults: camelCase; amounts belong in strings). Returns the event
    /// id (<c>evt_</c> + 32 hex), which receivers see as <c>Webhook-Id</c>. <paramref name="organization"/> null reaches
    /// only endpoints registered for every organisation.
    /// </summary>
    public static Task<string> EnqueueAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string eventName, object data,
        string? organization, DateTimeOffset now, CancellationToken cancellationToken) =>
        EnqueueAsync(connection, transaction, eventName, data, organization, now, endpointId: null, cancellationToken);

    /// <summary>With <paramref name="endpointId"/>: only to that endpoint, whatever its filters (the test event).</summary>
    internal static async Task<string> EnqueueAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string eventName, object data,
        string? organization, DateTimeOffset now, string? endpointId, CancellationToken cancellationToken)
    {
        var id = NewEventId();
        await EnqueueOnceAsync(connection, transaction, id, eventName, data, organization, now, endpointId, cancellationToken);
        return id;
    }

    /// <summary>
    /// Enqueues the event under the caller's <paramref name="eventId"/> unless it is already in the outbox: a producer in
    /// another service derives the id from what happened (<see cref="EventIdFor"/>), so its retries enqueue the event once.
    /// True when this call enqueued it.
    /// </summary>
    public static async Task<bool> EnqueueOnceAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string eventId, string eventName,
        object data, string? organization, DateTimeOffset now, string? endpointId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(transaction);   // outside a transaction the event could outlive a failed change
        ArgumentNullException.ThrowIfNull(data);
        if (!WebhookEvents.All.Contains(eventName))
            throw new ArgumentException($"Unknown webhook event '{eventName}': add it to {nameof(WebhookEvents)}.{nameof(WebhookEvents.All)}.", nameof(eventName));

        // One statement, one snapshot of the endpoints: the deliveries and the summary agree on who gets the event.
        await using var command = new NpgsqlCommand("""
            WITH targets AS (
                SELECT e.id FROM webhook_endpoints e
                WHERE e.active AND CASE WHEN $7::text IS NOT NULL THEN e.id = $7
                                        ELSE (cardinality(e.events) = 0 OR $2 = ANY (e.events))
                                             AND (e.organization IS NULL OR e.organization = $5) END
            ), event AS (
                INSERT INTO outbox (id, event, api_version, payload, organization, created_at, next_attempt_at, delivered_at)
                SELECT $1, $2, $3, $4, $5, $6,
                       CASE WHEN EXISTS (SELECT 1 FROM targets) THEN $6 END,
                       CASE WHEN EXISTS (SELECT 1 FROM targets) THEN NULL ELSE $6 END
                ON CONFLICT (id) DO NOTHING
                RETURNING id
            ), deliveries AS (
                INSERT INTO outbox_deliveries (outbox_id, endpoint_id, next_attempt_at)
                SELECT e.id, t.id, $6 FROM event e CROSS JOIN targets t
            )
            SELECT count(*) FROM event
            """, connection, transaction);
        command.Parameters.Add(new NpgsqlParameter { Value = eventId });
        command.Parameters.Add(new NpgsqlParameter { Value = eventName });
        command.Parameters.Add(new NpgsqlParameter { Value = WebhookEvents.ApiVersion });
        command.Parameters.Add(new NpgsqlParameter { Value = JsonSerializer.Serialize(data, data.GetType(), JsonSerializerOptions.Web), NpgsqlDbType = NpgsqlDbType.Jsonb });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)organization ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = now.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)endpointId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        return (long)(await command.ExecuteScalarAsync(cancellationToken))! == 1;
    }

    /// <summary>A stable event id for <paramref name="key"/> (e.g. <c>vault.expired:vlt_…</c>): <c>evt_</c> + 32 hex of its SHA-256.</summary>
    public static string EventIdFor(string key) =>
        "evt_" + Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key)))[..32];

    public static string NewEventId() => "evt_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
}
