namespace Sessions.SessionApi.Webhooks;

/// <summary>
/// Event names (the envelope's <c>event</c> and the <c>Webhook-Event</c> header). An endpoint may subscribe to any of
/// <see cref="All"/>; the reserved names are emitted by the agent mandates (issue 5 item 4) and VaultApi (issue 6)
/// through <see cref="OutboxWriter"/>, so they can be subscribed to before their emitters exist.
/// </summary>
public static class WebhookEvents
{
    /// <summary>The envelope's <c>api_version</c>: changes only when the shape of an event changes incompatibly.</summary>
    public const string ApiVersion = "2026-11-30";

    public const string SessionOpened = "session.opened";
    public const string SessionToppedUp = "session.topped_up";
    public const string SessionDepleted = "session.depleted";
    public const string SessionExpired = "session.expired";
    public const string SessionClosed = "session.closed";
    /// <summary>A request of a session on offer terms broke its SLA (latency bound); <c>receiptId</c> names the request.</summary>
    public const string SessionSlaBreached = "session.sla_breached";
    /// <summary>The SLA credit of that request (<c>amount</c>), taken off its debit: in the balance now, in the refund at close.</summary>
    public const string SessionCredited = "session.credited";

    // Reserved: agent mandates.
    public const string AgentSessionCreated = "agent.session.created";
    public const string AgentSessionRevoked = "agent.session.revoked";
    public const string AgentSessionExpired = "agent.session.expired";
    public const string AgentSessionLimitReached = "agent.session.limit_reached";
    public const string ApprovalRequested = "approval.requested";

    // Vaults: reported by VaultApi's retention sweeper (VaultApi/README.md).
    public const string VaultExpiring = "vault.expiring";
    public const string VaultExpired = "vault.expired";

    /// <summary>Sent only by <c>POST /admin/webhooks/{id}/test</c>, only to that endpoint, whatever its filter.</summary>
    public const string Test = "webhook.test";

    /// <summary>Events other services report through <c>POST /internal/webhooks/events</c>.</summary>
    public static readonly IReadOnlySet<string> External = new HashSet<string>(StringComparer.Ordinal) { VaultExpiring, VaultExpired };

    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal)
    {
        SessionOpened, SessionToppedUp, SessionDepleted, SessionExpired, SessionClosed, SessionSlaBreached, SessionCredited,
        AgentSessionCreated, AgentSessionRevoked, AgentSessionExpired, AgentSessionLimitReached, ApprovalRequested,
        VaultExpiring, VaultExpired, Test,
    };
}
