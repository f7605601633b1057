using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Sessions.SessionApi.Ledger;
using Sessions.ServiceDefaults.Payers;
using Sessions.ServiceDefaults.Errors;

namespace Sessions.SessionApi.Webhooks;

/// <summary>An event another service reports (VaultApi's vault.*). <c>Key</c> names what happened, so a retry enqueues nothing new.</summary>
public sealed record ExternalEventRequest(string? Key, string? Event, JsonElement Data);

public sealed record ExternalEventAccepted(string EventId, bool Enqueued);

public sealed record RegisterWebhookRequest(string? Url, string[]? Events, string? Organization);

/// <summary>The registration answer: the only one that carries the secret.</summary>
public sealed record RegisteredWebhook(string Id, string Url, string Secret, IReadOnlyList<string> Events, string? Organization, bool Active,
    DateTimeOffset CreatedAt);

/// <summary>
/// <c>/admin/webhooks</c>: endpoint registration and the delivery log, for operators (header <c>X-Admin-Key</c>, the check
/// of <c>/admin/audit</c>).
/// </summary>
public static class WebhooksApi
{
    public const int MaxDeliveriesLimit = 200;

    public sealed record WebhookList(IReadOnlyList<WebhookEndpoint> Items);

    public sealed record DeliveryList(IReadOnlyList<WebhookDelivery> Items);

    public sealed record TestEvent(string EventId);

    public static RouteGroupBuilder MapWebhooksApi(this IEndpointRouteBuilder app)
    {
        var admin = app.MapGroup("/admin/webhooks");
        admin.AddEndpointFilter(LedgerAuditApi.RequireAdminKey);
        admin.MapPost("", RegisterAsync);
        admin.MapGet("", async Task<Ok<WebhookList>> (WebhookStore store, CancellationToken cancellationToken) =>
            TypedResults.Ok(new WebhookList(await store.ListAsync(cancellationToken))));
        admin.MapDelete("/{id}", async Task<Results<NoContent, ProblemHttpResult>> (string id, WebhookStore store, CancellationToken cancellationToken) =>
            await store.DeleteAsync(id, cancellationToken) ? TypedResults.NoContent() : NotFound(id));
        admin.MapGet("/{id}/deliveries", DeliveriesAsync);
        admin.MapPost("/{id}/test", async Task<Results<Accepted<TestEvent>, ProblemHttpResult>> (string id, WebhookStore store, CancellationToken cancellationToken) =>
            await store.SendTestAsync(id, cancellationToken) is { } eventId ? TypedResults.Accepted((string?)null, new TestEvent(eventId)) : NotFound(id));

        // Other services' events go through this outbox too (one delivery pipeline, one signature, one log). The caller signs a
        // payer context with the shared key (only services hold it); the event belongs to that context's organisation.
        app.MapGroup("/internal/webhooks").RequirePayer().MapPost("/events", EnqueueExternalAsync);
        return admin;
    }

    static async Task<Results<Accepted<ExternalEventAccepted>, ValidationProblem>> EnqueueExternalAsync(ExternalEventRequest request, HttpContext http,
        NpgsqlDataSource db, TimeProvider time, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        if (request.Key is not { Length: >= 1 and <= 200 })
            errors["key"] = ["Required: 1..200 characters naming what happened (e.g. \"vault.expired:vlt_…\"); the event id derives from it."];
        if (request.Event is null || !WebhookEvents.External.Contains(request.Event))
            errors["event"] = [$"One of {string.Join(", ", WebhookEvents.External.Order(StringComparer.Ordinal))}."];
        if (request.Data.ValueKind != JsonValueKind.Object)
            errors["data"] = ["Required: a JSON object (the envelope's data)."];
        if (errors.Count > 0) return Problems.Invalid(errors);

        var eventId = OutboxWriter.EventIdFor(request.Key!);
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var enqueued = await OutboxWriter.EnqueueOnceAsync(connection, transaction, eventId, request.Event!, request.Data,
            http.GetPayerContext()!.Organization, time.GetUtcNow(), endpointId: null, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return TypedResults.Accepted((string?)null, new ExternalEventAccepted(eventId, enqueued));
    }

    static async Task<Results<Created<RegisteredWebhook>, ValidationProblem>> RegisterAsync(RegisterWebhookRequest request, WebhookStore store,
        CancellationToken cancellationToken)
    {
        var errors = Validate(request, out var url, out var events);
        if (errors.Count > 0) return Problems.Invalid(errors);
        var (endpoint, secret) = await store.RegisterAsync(url!, events, request.Organization, cancellationToken);
        return TypedResults.Created($"/admin/webhooks/{endpoint.Id}",
            new RegisteredWebhook(endpoint.Id, endpoint.Url, secret, endpoint.Events, endpoint.Organization, endpoint.Active, endpoint.CreatedAt));
    }

    static async Task<Results<Ok<DeliveryList>, ValidationProblem, ProblemHttpResult>> DeliveriesAsync(string id, int? limit, WebhookStore store,
        CancellationToken cancellationToken)
    {
        if (limit is < 1 or > MaxDeliveriesLimit)
            return Problems.Invalid(new Dictionary<string, string[]> { ["limit"] = [$"Between 1 and {MaxDeliveriesLimit}."] });
        if (await store.GetAsync(id, cancellationToken) is null) return NotFound(id);
        return TypedResults.Ok(new DeliveryList(await store.DeliveriesAsync(id, limit ?? 50, cancellationToken)));
    }

    internal static Dictionary<string, string[]> Validate(RegisterWebhookRequest request, out string? url, out IReadOnlyList<string> events)
    {
        var errors = new Dictionary<string, string[]>();
        url = null;
        if (request.Url is null || request.Url.Length > 2000 || !Uri.TryCreate(request.Url, UriKind.Absolute, out var uri)
            || uri.Scheme is not ("http" or "https") || uri.UserInfo.Length > 0 || uri.Fragment.Length > 0)
            errors["url"] = ["Required: an absolute http or https URL without credentials or fragment, at most 2000 characters."];
        else
            url = uri.AbsoluteUri;
        var subscribable = WebhookEvents.All.Where(name => name != WebhookEvents.Test).Order(StringComparer.Ordinal).ToList();
        var requested = request.Events ?? [];
        var unknown = requested.Where(name => !subscribable.Contains(name)).ToList();
        if (unknown.Count > 0)
            errors["events"] = [$"Unknown events: {string.Join(", ", unknown)}. Known: {string.Join(", ", subscribable)}; none = all."];
        events = requested.Distinct(StringComparer.Ordinal).ToList();
        if (request.Organization is { } organization && (string.IsNullOrWhiteSpace(organization) || organization.Length > 100))
            errors["organization"] = ["At most 100 characters; omit it for every organisation."];
        return errors;
    }

    static ProblemHttpResult NotFound(string id) => Problems.Coded(StatusCodes.Status404NotFound, "webhook-not-found", "No such webhook endpoint",
        $"No active webhook endpoint '{id}'.");
}
