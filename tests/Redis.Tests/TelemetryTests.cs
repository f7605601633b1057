using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Sessions.Redis;
using Sessions.Testing;
using static Redis.Tests.TestSupport;

namespace Redis.Tests;

public class TelemetryTests(InfrastructureFixture infra)
{
    [Fact]
    public async Task Each_command_is_a_client_span_with_database_tags_and_errors_are_marked()
    {
        using var testSource = new ActivitySource("Redis.Tests.Telemetry");
        var spans = new ConcurrentQueue<Activity>();
        using var parent = new ActivityListener
        {
            ShouldListenTo = source => source.Name is "Redis.Tests.Telemetry" or RedisTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        ActivitySource.AddActivityListener(parent);

        await using var redis = Client(infra.RedisConnectionString);
        var key = Key("otel");
        ActivityTraceId traceId;
        using (var test = testSource.StartActivity("test")!)
        {
            traceId = test.TraceId;
            await redis.SetAsync(key, "v", cancellationToken: Ct);
            Assert.Same(test, Activity.Current);   // the command's span never leaks into the caller's context
            await Assert.ThrowsAsync<RedisServerException>(async () => await redis.HashGetAsync(key, "f", Ct));
        }

        // Spans of other tests' commands on the same listener belong to other traces.
        var mine = spans.Where(a => a.TraceId == traceId && a.Source.Name == RedisTelemetry.Name).ToArray();
        var set = Assert.Single(mine, a => a.OperationName == "SET");
        Assert.Equal(ActivityKind.Client, set.Kind);
        Assert.Equal("redis", set.GetTagItem("db.system"));
        Assert.Equal("redis", set.GetTagItem("db.system.name"));
        Assert.Equal("SET", set.GetTagItem("db.operation.name"));
        Assert.Equal("127.0.0.1", set.GetTagItem("server.address"));
        Assert.Equal(infra.Redis.Port, set.GetTagItem("server.port"));
        Assert.Equal(ActivityStatusCode.Unset, set.Status);

        var failed = Assert.Single(mine, a => a.OperationName == "HGET");
        Assert.Equal(ActivityStatusCode.Error, failed.Status);
        Assert.Equal("WRONGTYPE", failed.GetTagItem("error.type"));
    }

    [Fact]
    public async Task Command_durations_are_recorded_when_the_histogram_is_enabled()
    {
        var measurements = new ConcurrentQueue<(double Seconds, Dictionary<string, object?> Tags)>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == RedisTelemetry.Name && instrument.Name == "db.client.operation.duration") l.EnableMeasurementEvents(instrument);
            },
        };
        listener.SetMeasurementEventCallback<double>((_, value, tags, _) =>
        {
            var copy = new Dictionary<string, object?>();
            foreach (var tag in tags) copy[tag.Key] = tag.Value;
            measurements.Enqueue((value, copy));
        });
        listener.Start();

        await using var redis = Client(infra.RedisConnectionString);
        await redis.ExecuteAsync("ECHO", ["measure-me"], Ct);
        var echo = Assert.Single(measurements, m => Equals(m.Tags["db.operation.name"], "ECHO") && Equals(m.Tags["server.port"], infra.Redis.Port));
        Assert.InRange(echo.Seconds, 0, 5);
        Assert.Equal("redis", echo.Tags["db.system.name"]);
    }
}
