using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Hosting;
using ServiceDefaults.Tests.Support;
using Sessions.ServiceDefaults.Telemetry;
using Sessions.Testing;

namespace ServiceDefaults.Tests.Telemetry;

// Alone: ASP.NET Core's ActivitySource is process-wide, so other tests' requests would reach this provider too.
[CollectionDefinition(DisableParallelization = true)]
public sealed class TelemetryCollection;

[Collection(nameof(TelemetryCollection))]
public sealed class TelemetryTests(InfrastructureFixture infra)
{
    static readonly ActivitySource TestSource = SessionsTelemetry.CreateActivitySource("TelemetryTests");

    [Fact]
    public async Task Otlp_http_protobuf_export_carries_requests_but_not_health_probes()
    {
        await using var sink = new OtlpSink();
        var builder = TestApp.CreateBuilder(new Dictionary<string, string?>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = sink.Endpoint.ToString(),
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_SERVICE_NAME"] = "telemetry-test",
            ["OTEL_RESOURCE_ATTRIBUTES"] = "service.instance.id=abcd1234,team=sessions%20core",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "100",
            ["ConnectionStrings:telemetrydb"] = await infra.CreateDatabaseAsync("telemetry"),
        });
        builder.AddNpgsqlDataSource("telemetrydb");   // its health check runs SELECT 1 under /health
        await using var app = builder.Build();
        app.MapDefaultEndpoints();
        app.MapGet("/hello/{name}", (string name) =>
        {
            using var own = TestSource.StartActivity("greet");
            return $"hello {name}";
        });
        await app.StartAsync(TestContext.Current.CancellationToken);
        var client = app.GetTestClient();

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health", TestContext.Current.CancellationToken)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/alive", TestContext.Current.CancellationToken)).StatusCode);
        Assert.Equal("hello otel", await client.GetStringAsync("/hello/otel", TestContext.Current.CancellationToken));

        Assert.True(await sink.WaitForTraceAsync(
            batch => OtlpTraceReader.Read(batch).SelectMany(r => r.Spans).Any(s => s.Name == "GET /hello/{name}"),
            TimeSpan.FromSeconds(15)), "no trace batch with the /hello span reached the OTLP sink");
        // Let the probes' spans (ended before /hello's) flush too, had they been recorded.
        await Task.Delay(300, TestContext.Current.CancellationToken);
        await app.StopAsync(TestContext.Current.CancellationToken);

        var resources = sink.TraceBatches.SelectMany(OtlpTraceReader.Read).ToList();
        var spans = resources.SelectMany(r => r.Spans).ToList();
        var server = Assert.Single(spans, s => s.Name == "GET /hello/{name}");
        Assert.Equal("Microsoft.AspNetCore", server.Scope);
        Assert.Equal("200", server.Attributes["http.response.status_code"]);
        Assert.Equal("/hello/otel", server.Attributes["url.path"]);
        Assert.Contains(spans, s => s.Scope == "Sessions.TelemetryTests" && s.Name == "greet");
        Assert.DoesNotContain(spans, s => s.Attributes.GetValueOrDefault("url.path") is "/health" or "/alive");
        Assert.DoesNotContain(spans, s => s.Name.Contains("health") || s.Name.Contains("alive"));
        Assert.DoesNotContain(spans, s => s.Attributes.Values.Any(v => v.Contains("SELECT 1")));

        var resource = resources.First(r => r.Spans.Any(s => s.Name == "GET /hello/{name}")).Resource;
        Assert.Equal("telemetry-test", resource["service.name"]);
        Assert.Equal("abcd1234", resource["service.instance.id"]);
        Assert.Equal("sessions core", resource["team"]);
        Assert.All(sink.Requests.Where(r => r.Path == "/v1/traces"), r => Assert.Equal("application/x-protobuf", r.ContentType));
    }
}
