using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Sessions.Redis;

/// <summary>
/// The client's ActivitySource and Meter, both named <see cref="Name"/>. One Client span per command, created only
/// when a listener samples it; a <c>db.client.operation.duration</c> histogram (seconds) recorded only when enabled.
/// </summary>
public static class RedisTelemetry
{
    public const string Name = "Sessions.Redis";

    internal static readonly ActivitySource Source = new(Name, typeof(RedisTelemetry).Assembly.GetName().Version?.ToString());
    internal static readonly Meter Meter = new(Name, typeof(RedisTelemetry).Assembly.GetName().Version?.ToString());

    internal static readonly Histogram<double> OperationDuration = Meter.CreateHistogram<double>(
        "db.client.operation.duration", unit: "s", description: "Duration of Redis commands, from enqueue to reply.",
        tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0001, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 5] });

    internal static readonly Counter<long> ScriptReloads = Meter.CreateCounter<long>(
        "sessions.redis.script.reloads", unit: "{reload}", description: "Scripts re-sent with EVAL after a NOSCRIPT reply (server restart or SCRIPT FLUSH).");

    /// <summary>Starts a span for one command without making it <see cref="Activity.Current"/>: the caller's context must not change.</summary>
    internal static Activity? StartCommandActivity(string command, RedisEndpointInfo endpoint)
    {
        if (!Source.HasListeners()) return null;
        var previous = Activity.Current;
        var activity = Source.StartActivity(command, ActivityKind.Client);
        if (activity is null) return null;
        Activity.Current = previous;
        if (activity.IsAllDataRequested)
        {
            activity.SetTag("db.system", "redis");
            activity.SetTag("db.system.name", "redis");
            activity.SetTag("db.operation.name", command);
            activity.SetTag("db.namespace", endpoint.DatabaseText);
            activity.SetTag("server.address", endpoint.Host);
            activity.SetTag("server.port", endpoint.BoxedPort);
        }
        return activity;
    }

    internal static void StopCommandActivity(Activity activity, Exception? error)
    {
        if (error is not null)
        {
            activity.SetStatus(ActivityStatusCode.Error, error.Message);
            activity.SetTag("error.type", error is RedisServerException server ? server.ErrorCode : error.GetType().FullName);
        }
        activity.Stop();
    }

    internal static void RecordDuration(long startTimestamp, string command, RedisEndpointInfo endpoint, Exception? error)
    {
        var tags = new TagList
        {
            { "db.system.name", "redis" },
            { "db.operation.name", command },
            { "server.address", endpoint.Host },
            { "server.port", endpoint.BoxedPort },
        };
        if (error is not null) tags.Add("error.type", error is RedisServerException server ? server.ErrorCode : error.GetType().FullName);
        OperationDuration.Record(Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds, tags);
    }
}

/// <summary>Endpoint facts used for tags and messages, computed once per client (the boxed port avoids a box per command).</summary>
internal sealed class RedisEndpointInfo(string host, int port, int database)
{
    public string Host { get; } = host;
    public int Port { get; } = port;
    public object BoxedPort { get; } = port;
    public string DatabaseText { get; } = database.ToString(System.Globalization.CultureInfo.InvariantCulture);
    public string Endpoint { get; } = host.Contains(':') ? $"[{host}]:{port}" : $"{host}:{port}";
}
