using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Sessions.Testing;
using static PaymentGate.Tests.Sessions.SessionGateHarness;

namespace PaymentGate.Tests.Sessions;

// Issue 16: with telemetry on, every span a session request makes is stored by the dashboard. The Redis calls stay traced,
// one span each, without the three timing events (enqueued, sent, response received) the instrumentation adds by default.
public sealed class SessionRedisSpansTests(InfrastructureFixture infrastructure) : IAsyncLifetime
{
    SessionGateHarness _gate = null!;

    public async ValueTask InitializeAsync() => _gate = await SessionGateHarness.StartAsync(infrastructure);

    public ValueTask DisposeAsync() => _gate.DisposeAsync();

    [Fact]
    public async Task A_session_requests_Redis_calls_are_spans_without_timing_events()
    {
        var payer = await _gate.FundedPayerAsync();
        var (_, token, _) = await _gate.OpenAsync(payer, 10 * GetPrice);
        using (var first = await _gate.WithTokenAsync(HttpMethod.Get, "/api/content/a", token))
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);

        // Other tests trace into the same process: only this request's trace counts.
        var trace = ActivityTraceId.CreateRandom();
        var spans = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name.Contains("StackExchangeRedis", StringComparison.Ordinal),
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity => { if (activity.TraceId == trace) spans.Enqueue(activity); },
        };
        ActivitySource.AddActivityListener(listener);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/content/a");
        request.Headers.TryAddWithoutValidation(global::Sessions.PaymentGate.Sessions.SessionSpending.TokenHeader, token);
        request.Headers.TryAddWithoutValidation("traceparent", $"00-{trace}-{ActivitySpanId.CreateRandom()}-01");
        using (var response = await _gate.Http.SendAsync(request, TestContext.Current.CancellationToken))
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        // The instrumentation turns profiled commands into spans when it drains them (at the latest every 10 s).
        for (var waited = 0; spans.Count < 2 && waited < 150; waited++)
            await Task.Delay(100, TestContext.Current.CancellationToken);
        Assert.Equal(2, spans.Count);
        Assert.All(spans, span => Assert.Empty(span.Events));
    }
}
