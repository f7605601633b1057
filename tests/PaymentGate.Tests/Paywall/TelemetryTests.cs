using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using PaymentGate.Tests.Facilitator;
using Sessions.PaymentGate.Paywall;
using Sessions.Testing;

namespace PaymentGate.Tests.Paywall;

// Spans for verify and settle, counters for 402s, verifications, settlements and revenue (static meter: other tests run in
// parallel, so measurements are matched by this test's payer or route rather than counted exactly).
public sealed class TelemetryTests(InfrastructureFixture infrastructure)
{
    [Fact]
    public async Task Paid_request_emits_spans_and_counters()
    {
        var measurements = new ConcurrentQueue<(string Instrument, long Value, Dictionary<string, object?> Tags)>();
        using var meters = new MeterListener();
        meters.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == PaywallTelemetry.MeterName)
                listener.EnableMeasurementEvents(instrument);
        };
        meters.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
            measurements.Enqueue((instrument.Name, value, tags.ToArray().ToDictionary(t => t.Key, t => t.Value))));
        meters.Start();
        var spans = new ConcurrentQueue<Activity>();
        using var activities = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Sessions.PaymentGate",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        ActivitySource.AddActivityListener(activities);

        await using var gate = await PaywallHarness.StartAsync(infrastructure);
        var payer = new TestPayer();
        await gate.FundAsync(payer);
        var header = await gate.PayV2Async(payer, HttpMethod.Put, "/api/content/telemetry");
        using var paid = await gate.SendAsync(HttpMethod.Put, "/api/content/telemetry", header);
        Assert.Equal(HttpStatusCode.OK, paid.StatusCode);

        Assert.Contains(measurements, m => m.Instrument == "gate.payment_required" && (string?)m.Tags["reason"] == "missing");
        Assert.Contains(measurements, m => m.Instrument == "gate.verifications" && (string?)m.Tags["result"] == "valid");
        Assert.Contains(measurements, m => m.Instrument == "gate.settlements" && (string?)m.Tags["result"] == "success");
        Assert.Contains(measurements, m => m.Instrument == "gate.revenue" && m.Value == 10000 && (string?)m.Tags["route"] == "PUT /api/content/{**key}");
        var mine = spans.Where(s => (string?)s.GetTagItem("x402.payer") == payer.Lower).Select(s => s.OperationName).ToList();
        Assert.Contains("x402.verify", mine);
        Assert.Contains("x402.settle", mine);
    }
}
