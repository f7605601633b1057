using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Sessions.ServiceDefaults.Telemetry;

/// <summary>
/// Naming convention for the system's own telemetry: every ActivitySource and Meter is called
/// <c>Sessions.&lt;Component&gt;</c> (e.g. <c>Sessions.SessionApi</c>, <c>Sessions.Redis</c>), and ServiceDefaults
/// listens to <c>Sessions.*</c>, so a new source is exported without touching the telemetry set-up.
/// </summary>
public static class SessionsTelemetry
{
    public const string NamePrefix = "Sessions.";

    /// <summary>The wildcard ServiceDefaults subscribes to for traces and metrics.</summary>
    public const string AllSources = NamePrefix + "*";

    /// <summary><c>Sessions.&lt;component&gt;</c>; a name that already has the prefix is kept.</summary>
    public static string NameFor(string component)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(component);
        return component.StartsWith(NamePrefix, StringComparison.Ordinal) ? component : NamePrefix + component;
    }

    /// <summary>An ActivitySource named by the convention; keep it in a static field (one per component).</summary>
    public static ActivitySource CreateActivitySource(string component) => new(NameFor(component));

    /// <summary>A Meter named by the convention, owned (and disposed) by the host's <see cref="IMeterFactory"/>.</summary>
    public static Meter CreateMeter(this IMeterFactory meterFactory, string component)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        return meterFactory.Create(NameFor(component));
    }
}
