namespace Sessions.SessionApi;

/// <summary>Configuration section <c>SessionApi</c>.</summary>
public sealed class SessionApiOptions
{
    public const string SectionName = "SessionApi";

    /// <summary>Value of the <c>X-Admin-Key</c> header for <c>/admin/*</c>; unset = admin endpoints always answer 401.</summary>
    public string? AdminKey { get; set; }

    /// <summary>How often the sweeper marks sessions past their expiry EXPIRED (lazy expiry on use does not wait for it).</summary>
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Lifetime of a prepaid session when the gate asks for none.</summary>
    public TimeSpan DefaultPrepaidTtl { get; set; } = TimeSpan.FromHours(24);
}
