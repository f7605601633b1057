using System.Diagnostics.Metrics;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using Sessions.ServiceDefaults.Hosting;
using Sessions.ServiceDefaults.Telemetry;

namespace Sessions.SessionApi.Webhooks;

/// <summary>
/// Delivers the outbox: every <see cref="WebhookOptions.PollInterval"/> it claims due deliveries with
/// <c>FOR UPDATE SKIP LOCKED</c> (several SessionApi instances share the work, none sends what another holds), POSTs them
/// in parallel, and in the same transaction records each attempt, schedules the retry (exponential back-off) or gives up
/// after <see cref="WebhookOptions.MaxAttempts"/>. A crash before the commit releases the claim: the attempt happens
/// again (at least once; receivers de-duplicate on <c>Webhook-Id</c>).
/// </summary>
public sealed class WebhookDispatcher(IServiceProvider services, IHttpClientFactory httpClients, TimeProvider time,
    IOptions<WebhookOptions> options, ILogger<WebhookDispatcher> logger) : PeriodicWorker(logger)
{
    /// <summary>The named HttpClient: no shared resilience handler (one failing receiver must not open a circuit for all, and
    /// the outbox owns the retries), no redirects.</summary>
    public const string HttpClientName = "webhooks";

    static readonly Meter Meter = new(SessionsTelemetry.NameFor("SessionApi"));
    static readonly Counter<long> Attempts = Meter.CreateCounter<long>("webhooks.attempts", description: "Webhook delivery attempts by outcome");

    sealed record Claim(string EventId, string EndpointId, int Attempts, string Event, byte[] Body, string Url, string Secret);

    sealed record Outcome(Claim Claim, int? StatusCode, string? Error, TimeSpan Duration, DateTimeOffset At)
    {
        public bool Succeeded => Error is null;
    }

    // First round after one interval (RunsAtStart false), and the data source resolved only then: start-up does no database
    // work beyond the migrations (the data source is created on first use). The interval is wall-clock, as documented on
    // the option; "due" is decided with the TimeProvider.
    protected override TimeSpan Interval => options.Value.PollInterval;

    protected override string PassName => "Webhook dispatch";

    protected override async Task RunPassAsync(CancellationToken cancellationToken)
    {
        // A full batch means more may be due: drain before waiting.
        while (await DispatchOnceAsync(cancellationToken) == options.Value.BatchSize) { }
    }

    /// <summary>One round: claims up to a batch of due deliveries, sends them, records the outcomes. Returns how many it claimed.</summary>
    public async Task<int> DispatchOnceAsync(CancellationToken cancellationToken)
    {
        await using var connection = await services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var claims = await ClaimAsync(connection, transaction, cancellationToken);
        if (claims.Count == 0) return 0;

        using var activity = SessionApiTelemetry.ActivitySource.StartActivity("webhooks.dispatch");
        activity?.SetTag("webhooks.claimed", claims.Count);
        // Sent while the claim (row locks) is held: a stop cancels the sends and the rollback leaves every delivery due.
        var outcomes = await Task.WhenAll(claims.Select(claim => SendAsync(claim, cancellationToken)));
        cancellationToken.ThrowIfCancellationRequested();
        await RecordAsync(connection, transaction, outcomes, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return claims.Count;
    }

    async Task<List<Claim>> ClaimAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        await using var select = new NpgsqlCommand("""
            SELECT d.outbox_id, d.endpoint_id, d.attempts, o.event, o.api_version, o.created_at, o.payload::text, e.url, e.secret
            FROM outbox_deliveries d
            JOIN outbox o ON o.id = d.outbox_id
            JOIN webhook_endpoints e ON e.id = d.endpoint_id
            WHERE d.delivered_at IS NULL AND NOT d.dead AND d.next_attempt_at <= $1
            ORDER BY d.next_attempt_at
            LIMIT $2
            FOR UPDATE OF d SKIP LOCKED
            """, connection, transaction);
        select.Parameters.Add(new NpgsqlParameter { Value = time.GetUtcNow().UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        select.Parameters.Add(new NpgsqlParameter { Value = options.Value.BatchSize });
        var claims = new List<Claim>();
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            claims.Add(new Claim(reader.GetString(0), reader.GetString(1), reader.GetInt32(2), reader.GetString(3),
                Envelope(reader.GetString(0), reader.GetString(3), reader.GetFieldValue<DateTimeOffset>(5), reader.GetString(4), reader.GetString(6)),
                reader.GetString(7), reader.GetString(8)));
        return claims;
    }

    /// <summary><c>{id, event, timestamp, api_version, data}</c>: built from the stored event only, so every attempt sends the same bytes.</summary>
    internal static byte[] Envelope(string id, string eventName, DateTimeOffset createdAt, string apiVersion, string data)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("id", id);
            writer.WriteString("event", eventName);
            writer.WriteString("timestamp", createdAt.ToUniversalTime());
            writer.WriteString("api_version", apiVersion);
            writer.WritePropertyName("data");
            writer.WriteRawValue(data);
            writer.WriteEndObject();
        }
        return buffer.ToArray();
    }

    async Task<Outcome> SendAsync(Claim claim, CancellationToken cancellationToken)
    {
        var at = time.GetUtcNow();
        var started = time.GetTimestamp();
        int? status = null;
        string? error;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Value.Timeout);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, claim.Url) { Content = new ByteArrayContent(claim.Body) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
            request.Headers.Add(WebhookSignature.IdHeader, claim.EventId);
            request.Headers.Add(WebhookSignature.EventHeader, claim.Event);
            request.Headers.Add(WebhookSignature.AttemptHeader, (claim.Attempts + 1).ToString(System.Globalization.CultureInfo.InvariantCulture));
            request.Headers.Add(WebhookSignature.SignatureHeader, WebhookSignature.Sign(claim.Secret, time.GetUtcNow().ToUnixTimeSeconds(), claim.Body));
            using var response = await httpClients.CreateClient(HttpClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            status = (int)response.StatusCode;
            // Only 2xx counts: a redirect is not followed (the registered URL is the contract) and is a failure like any other.
            error = response.IsSuccessStatusCode ? null : $"HTTP {status} {response.ReasonPhrase}".TrimEnd();
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            error = $"No answer within {options.Value.Timeout.TotalSeconds:0.###} s";
        }
        catch (Exception e) when (e is HttpRequestException or InvalidOperationException or UriFormatException)
        {
            error = e.InnerException is { } inner ? $"{e.Message} ({inner.Message})" : e.Message;
        }
        return new Outcome(claim, status, error, time.GetElapsedTime(started), at);
    }

    async Task RecordAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Outcome[] outcomes, CancellationToken cancellationToken)
    {
        var o = options.Value;
        var now = time.GetUtcNow();
        await using (var batch = new NpgsqlBatch(connection, transaction))
        {
            foreach (var outcome in outcomes)
            {
                var attempt = outcome.Claim.Attempts + 1;
                var dead = !outcome.Succeeded && attempt >= o.MaxAttempts;
                batch.BatchCommands.Add(Command("""
                    UPDATE outbox_deliveries SET attempts = $3, delivered_at = $4, dead = $5, next_attempt_at = $6, last_error = $7
                    WHERE outbox_id = $1 AND endpoint_id = $2
                    """, outcome.Claim.EventId, outcome.Claim.EndpointId, attempt, outcome.Succeeded ? now : null, dead,
                    outcome.Succeeded || dead ? now : now + o.BackoffAfter(attempt), outcome.Error));
                batch.BatchCommands.Add(Command("""
                    INSERT INTO webhook_deliveries (outbox_id, endpoint_id, attempt, status_code, succeeded, error, duration_ms, at)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                    """, outcome.Claim.EventId, outcome.Claim.EndpointId, attempt, outcome.StatusCode, outcome.Succeeded, outcome.Error,
                    (int)Math.Min(outcome.Duration.TotalMilliseconds, int.MaxValue), outcome.At));
                Attempts.Add(1, new KeyValuePair<string, object?>("outcome", outcome.Succeeded ? "delivered" : dead ? "dead" : "failed"));
                if (dead)
                    logger.LogWarning("Webhook {EventId} ({Event}) to endpoint {EndpointId} is dead after {Attempts} attempts: {Error}",
                        outcome.Claim.EventId, outcome.Claim.Event, outcome.Claim.EndpointId, attempt, outcome.Error);
                else if (!outcome.Succeeded)
                    logger.LogInformation("Webhook {EventId} ({Event}) to endpoint {EndpointId} failed (attempt {Attempt}): {Error}",
                        outcome.Claim.EventId, outcome.Claim.Event, outcome.Claim.EndpointId, attempt, outcome.Error);
            }
            await batch.ExecuteNonQueryAsync(cancellationToken);
        }
        await OutboxSummary.RefreshAsync(connection, transaction, outcomes.Select(x => x.Claim.EventId).Distinct().ToArray(), now, cancellationToken);
    }

    static NpgsqlBatchCommand Command(string sql, params object?[] values)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var value in values)
            command.Parameters.Add(OutboxSummary.Parameter(value));
        return command;
    }
}
