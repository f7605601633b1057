using System.Diagnostics;
using OpenTelemetry;

namespace Sessions.ServiceDefaults.Telemetry;

/// <summary>
/// Drops the traces of <c>/health</c> and <c>/alive</c> requests (the AppHost polls them every few seconds).
/// Clearing the Recorded flag when the server span starts also drops its children (the database check's
/// query): the parent-based sampler does not record children of an unrecorded parent, and the export
/// processors skip unrecorded spans.
/// </summary>
internal sealed class HealthProbeTraceFilter : BaseProcessor<Activity>
{
    const string AspNetCoreSource = "Microsoft.AspNetCore";

    public override void OnStart(Activity activity) => DropIfProbe(activity);

    // The path tag may only be known at the end on some hosts; the span itself is dropped then.
    public override void OnEnd(Activity activity) => DropIfProbe(activity);

    static void DropIfProbe(Activity activity)
    {
        if (activity.Source.Name != AspNetCoreSource || activity.Kind != ActivityKind.Server)
            return;
        if (IsProbePath(activity.GetTagItem("url.path") as string)
            || IsProbePath(activity.GetTagItem("http.route") as string))
        {
            activity.ActivityTraceFlags &= ~ActivityTraceFlags.Recorded;
            activity.IsAllDataRequested = false;
        }
    }

    internal static bool IsProbePath(string? path) =>
        path is not null
        && (IsPath(path, Microsoft.Extensions.Hosting.Extensions.HealthEndpointPath)
            || IsPath(path, Microsoft.Extensions.Hosting.Extensions.AlivenessEndpointPath));

    static bool IsPath(string path, string probe) =>
        path.StartsWith(probe, StringComparison.OrdinalIgnoreCase)
        && (path.Length == probe.Length || path[probe.Length] == '/');
}
