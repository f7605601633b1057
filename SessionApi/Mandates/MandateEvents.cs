using Npgsql;
using Sessions.SessionApi.Webhooks;

namespace Sessions.SessionApi.Mandates;

/// <summary>
/// Mandate webhooks through the transactional outbox, in the caller's transaction (the event exists exactly when the change
/// committed). Mandate-wide events go to endpoints registered for every organisation; charge events carry the organisation.
/// </summary>
internal static class MandateEvents
{
    public static Task Created(NpgsqlConnection c, NpgsqlTransaction t, Mandate m, DateTimeOffset now, CancellationToken ct) =>
        OutboxWriter.EnqueueAsync(c, t, WebhookEvents.AgentSessionCreated, Data(m), null, now, ct);

    public static Task Revoked(NpgsqlConnection c, NpgsqlTransaction t, Mandate m, DateTimeOffset now, CancellationToken ct) =>
        OutboxWriter.EnqueueAsync(c, t, WebhookEvents.AgentSessionRevoked, Data(m), null, now, ct);

    public static async Task ExpiredAsync(NpgsqlConnection c, NpgsqlTransaction t, IEnumerable<string> ids, DateTimeOffset now, CancellationToken ct)
    {
        foreach (var id in ids)
            await OutboxWriter.EnqueueAsync(c, t, WebhookEvents.AgentSessionExpired, new { mandateId = id, expiredAt = now }, null, now, ct);
    }

    public static Task LimitReached(NpgsqlConnection c, NpgsqlTransaction t, Mandate m, string organization, string limit, string amount,
        string? remaining, DateTimeOffset now, CancellationToken ct) =>
        OutboxWriter.EnqueueAsync(c, t, WebhookEvents.AgentSessionLimitReached,
            new { mandateId = m.Id, user = m.User, agent = m.Agent, organization, limit, amount, remaining }, organization, now, ct);

    public static Task ApprovalRequested(NpgsqlConnection c, NpgsqlTransaction t, Mandate m, MandateApproval a, DateTimeOffset now, CancellationToken ct) =>
        OutboxWriter.EnqueueAsync(c, t, WebhookEvents.ApprovalRequested,
            new { approvalId = a.Id, mandateId = m.Id, user = m.User, agent = m.Agent, organization = a.Organization, amount = a.Amount.ToString() },
            a.Organization, now, ct);

    static object Data(Mandate m) => new
    {
        mandateId = m.Id, user = m.User, agent = m.Agent, state = m.State, expiresAt = m.ExpiresAt, revokedAt = m.RevokedAt,
        maxPerTransaction = m.MaxPerTransaction?.ToString(), maxPerDay = m.MaxPerDay?.ToString(), maxPerWeek = m.MaxPerWeek?.ToString(),
        maxPerMonth = m.MaxPerMonth?.ToString(), requireApprovalAbove = m.RequireApprovalAbove?.ToString(), allowedMerchants = m.AllowedMerchants,
    };
}
