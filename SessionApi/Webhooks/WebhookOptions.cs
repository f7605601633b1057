namespace Sessions.SessionApi.Webhooks;

/// <summary>Configuration section <c>SessionApi:Webhooks</c>.</summary>
public sealed class WebhookOptions
{
    public const string SectionName = "SessionApi:Webhooks";

    /// <summary>How often the dispatcher looks for due deliveries (wall clock; "due" is decided with the TimeProvider).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Deliveries claimed per round, sent in parallel.</summary>
    public int BatchSize { get; set; } = 32;

    /// <summary>One POST, connection included; a receiver slower than this counts as failed.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Delay after the first failure; doubles per failure (1 s, 2 s, 4 s, …) up to <see cref="MaxBackoff"/>.</summary>
    public TimeSpan BackoffBase { get; set; } = TimeSpan.FromSeconds(1);

    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Attempts per (event, endpoint) before the delivery is dead (with the defaults: about 3 hours of retries).</summary>
    public int MaxAttempts { get; set; } = 15;

    /// <summary>How long an event whose deliveries are all finished (delivered or given up) stays in the outbox and its log.</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(30);

    /// <summary>How often the <see cref="OutboxPruner"/> deletes events past <see cref="Retention"/>.</summary>
    public TimeSpan PruneInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>The delay before attempt <paramref name="failedAttempts"/> + 1, after that many failures.</summary>
    public TimeSpan BackoffAfter(int failedAttempts)
    {
        // Doubling stops at 2^30: beyond that the cap applies anyway and the multiplication would overflow.
        var factor = Math.Pow(2, Math.Min(Math.Max(failedAttempts - 1, 0), 30));
        var ticks = BackoffBase.Ticks * factor;   // double: no overflow before the cap
        return ticks >= MaxBackoff.Ticks ? MaxBackoff : TimeSpan.FromTicks((long)ticks);
    }
}
