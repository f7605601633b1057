using System.Security.Cryptography;
using Npgsql;
using NpgsqlTypes;

namespace Sessions.SessionApi.Webhooks;

public sealed record WebhookEndpoint(string Id, string Url, IReadOnlyList<string> Events, string? Organization, bool Active,
    DateTimeOffset CreatedAt);

public sealed record WebhookDelivery(string EventId, string Event, int Attempt, int? StatusCode, bool Succeeded, string? Error, int DurationMs,
    DateTimeOffset At);

/// <summary>Registered endpoints and their delivery log (the admin API's storage).</summary>
public sealed class WebhookStore(NpgsqlDataSource dataSource, TimeProvider time, ILogger<WebhookStore> logger)
{
    const string Columns = "id, url, events, organization, active, created_at";

    /// <summary>Registers an endpoint; the secret is returned here and never again.</summary>
    public async Task<(WebhookEndpoint Endpoint, string Secret)> RegisterAsync(string url, IReadOnlyList<string> events, string? organization,
        CancellationToken cancellationToken)
    {
        var id = "whe_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var secret = WebhookSignature.NewSecret();
        await using var insert = dataSource.CreateCommand($"""
            INSERT INTO webhook_endpoints (id, url, secret, events, organization, created_at) VALUES ($1, $2, $3, $4, $5, $6)
            RETURNING {Columns}
            """);
        foreach (var value in (object?[])[id, url, secret, events.ToArray(), organization, time.GetUtcNow()])
            insert.Parameters.Add(OutboxSummary.Parameter(value));
        insert.Parameters[4].NpgsqlDbType = NpgsqlDbType.Text;
        await using var reader = await insert.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var endpoint = Read(reader);
        logger.LogInformation("Registered webhook endpoint {EndpointId} for {Url} (events: {Events}; organization: {Organization})",
            id, url, events.Count == 0 ? "all" : string.Join(", ", events), organization ?? "all");
        return (endpoint, secret);
    }

    public async Task<IReadOnlyList<WebhookEndpoint>> ListAsync(CancellationToken cancellationToken)
    {
        await using var select = dataSource.CreateCommand($"SELECT {Columns} FROM webhook_endpoints WHERE active ORDER BY created_at, id");
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        var endpoints = new List<WebhookEndpoint>();
        while (await reader.ReadAsync(cancellationToken))
            endpoints.Add(Read(reader));
        return endpoints;
    }

    /// <summary>Also a deleted endpoint (its delivery log stays readable).</summary>
    public async Task<WebhookEndpoint?> GetAsync(string id, CancellationToken cancellationToken)
    {
        await using var select = dataSource.CreateCommand($"SELECT {Columns} FROM webhook_endpoints WHERE id = $1");
        select.Parameters.Add(OutboxSummary.Parameter(id));
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    /// <summary>
    /// Deactivates the endpoint and gives up its pending deliveries (they become dead with the reason): new events no
    /// longer reach it. False when there is no active endpoint with this id.
    /// </summary>
    public async Task<bool> DeleteAsync(string id, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var update = new NpgsqlCommand(
            "UPDATE webhook_endpoints SET active = false, deleted_at = $2 WHERE id = $1 AND active", connection, transaction))
        {
            update.Parameters.Add(OutboxSummary.Parameter(id));
            update.Parameters.Add(OutboxSummary.Parameter(now));
            if (await update.ExecuteNonQueryAsync(cancellationToken) == 0) return false;
        }
        var eventIds = new List<string>();
        await using (var cancel = new NpgsqlCommand("""
            UPDATE outbox_deliveries SET dead = true, last_error = 'endpoint deleted'
            WHERE endpoint_id = $1 AND delivered_at IS NULL AND NOT dead
            RETURNING outbox_id
            """, connection, transaction))
        {
            cancel.Parameters.Add(OutboxSummary.Parameter(id));
            await using var reader = await cancel.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
                eventIds.Add(reader.GetString(0));
        }
        await OutboxSummary.RefreshAsync(connection, transaction, [.. eventIds], now, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        logger.LogInformation("Deleted webhook endpoint {EndpointId}; {Count} pending deliveries given up", id, eventIds.Count);
        return true;
    }

    /// <summary>The endpoint's delivery attempts, newest first.</summary>
    public async Task<IReadOnlyList<WebhookDelivery>> DeliveriesAsync(string endpointId, int limit, CancellationToken cancellationToken)
    {
        await using var select = dataSource.CreateCommand("""
            SELECT d.outbox_id, o.event, d.attempt, d.status_code, d.succeeded, d.error, d.duration_ms, d.at
            FROM webhook_deliveries d JOIN outbox o ON o.id = d.outbox_id
            WHERE d.endpoint_id = $1 ORDER BY d.id DESC LIMIT $2
            """);
        select.Parameters.Add(OutboxSummary.Parameter(endpointId));
        select.Parameters.Add(OutboxSummary.Parameter(limit));
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        var deliveries = new List<WebhookDelivery>();
        while (await reader.ReadAsync(cancellationToken))
            deliveries.Add(new WebhookDelivery(reader.GetString(0), reader.GetString(1), reader.GetInt32(2),
                reader.IsDBNull(3) ? null : reader.GetInt32(3), reader.GetBoolean(4), reader.IsDBNull(5) ? null : reader.GetString(5),
                reader.GetInt32(6), reader.GetFieldValue<DateTimeOffset>(7)));
        return deliveries;
    }

    /// <summary>Queues a <c>webhook.test</c> event for this endpoint only; null when it is not active.</summary>
    public async Task<string?> SendTestAsync(string endpointId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var select = new NpgsqlCommand("SELECT 1 FROM webhook_endpoints WHERE id = $1 AND active FOR SHARE", connection, transaction))
        {
            select.Parameters.Add(OutboxSummary.Parameter(endpointId));
            if (await select.ExecuteScalarAsync(cancellationToken) is null) return null;
        }
        var eventId = await OutboxWriter.EnqueueAsync(connection, transaction, WebhookEvents.Test,
            new { endpointId, message = "A test event sent from POST /admin/webhooks/{id}/test." }, organization: null, now, endpointId, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return eventId;
    }

    static WebhookEndpoint Read(NpgsqlDataReader reader) => new(reader.GetString(0), reader.GetString(1), reader.GetFieldValue<string[]>(2),
        reader.IsDBNull(3) ? null : reader.GetString(3), reader.GetBoolean(4), reader.GetFieldValue<DateTimeOffset>(5));
}
