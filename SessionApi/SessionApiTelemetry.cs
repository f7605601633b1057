using System.Diagnostics;
using System.Diagnostics.Metrics;
using Sessions.ServiceDefaults.Telemetry;

namespace Sessions.SessionApi;

/// <summary>SessionApi's spans and metrics ("Sessions.SessionApi", exported by ServiceDefaults with every "Sessions.*" source).</summary>
public static class SessionApiTelemetry
{
    public static readonly ActivitySource ActivitySource = SessionsTelemetry.CreateActivitySource("SessionApi");

    static readonly Meter Meter = new(SessionsTelemetry.NameFor("SessionApi"));

    /// <summary>Debits by outcome: debited, replayed, insufficient, expired, not_active, not_found.</summary>
    static readonly Counter<long> Debits = Meter.CreateCounter<long>("sessions.debits", description: "Session debits by outcome");

    /// <summary>Sessions opened, topped up, closed, expired, by kind of change.</summary>
    static readonly Counter<long> Changes = Meter.CreateCounter<long>("sessions.changes", description: "Session lifecycle changes");

    public static void CountDebit(string outcome, long count = 1) => Debits.Add(count, new KeyValuePair<string, object?>("outcome", outcome));

    public static void CountChange(string change, long count = 1) => Changes.Add(count, new KeyValuePair<string, object?>("change", change));
}
