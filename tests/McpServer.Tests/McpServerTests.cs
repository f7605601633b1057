using System.Net;
using System.Text.Json;
using ServiceDefaults.Tests.Telemetry;
using Sessions.Testing;

namespace McpServer.Tests;

// The service defaults plus the Redis-backed content store.
public sealed class McpServerTests(InfrastructureFixture infrastructure) : IAsyncDisposable
{
    readonly ServiceFactory<Program> _factory = new(new Dictionary<string, string?>
    {
        ["ConnectionStrings:redis"] = infrastructure.RedisConnectionString,
    });

    [Fact]
    public async Task Health_is_healthy_with_the_self_check()
    {
        using var response = await _factory.CreateClient().GetAsync("/health", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var report = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Equal("Healthy", report.RootElement.GetProperty("status").GetString());
        Assert.Equal("Healthy", report.RootElement.GetProperty("checks").GetProperty("self").GetProperty("status").GetString());
        Assert.Equal("Healthy", report.RootElement.GetProperty("checks").GetProperty("StackExchange.Redis").GetProperty("status").GetString());
    }

    [Fact]
    public async Task Alive_returns_200()
    {
        using var response = await _factory.CreateClient().GetAsync("/alive", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Unknown_route_is_a_404_problem()
    {
        using var response = await _factory.CreateClient().GetAsync("/no/such/route", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Equal(404, problem.RootElement.GetProperty("status").GetInt32());
        Assert.True(problem.RootElement.TryGetProperty("traceId", out _));
    }

    // OTLP settings given to WebApplicationFactory (not environment variables) reach the exporter.
    [Fact]
    public async Task Traces_are_exported_to_the_configured_otlp_endpoint()
    {
        await using var sink = new OtlpSink();
        await using var factory = new ServiceFactory<Program>(new Dictionary<string, string?>
        {
            ["ConnectionStrings:redis"] = infrastructure.RedisConnectionString,
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = sink.Endpoint.ToString(),
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_SERVICE_NAME"] = "mcpserver",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "100",
        });

        using var response = await factory.CreateClient().GetAsync("/not-here", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);

        // The server span ends just after the response reaches the client: wait for its batch.
        Assert.True(await sink.WaitForTraceAsync(
            batch => OtlpTraceReader.Read(batch).Any(resource =>
                resource.Resource.GetValueOrDefault("service.name") == "mcpserver"
                && resource.Spans.Any(span => span.Attributes.GetValueOrDefault("url.path") == "/not-here"
                                              && span.Attributes.GetValueOrDefault("http.response.status_code") == "404")),
            TimeSpan.FromSeconds(15)));
        Assert.All(sink.Requests.Where(r => r.Path == "/v1/traces"), r => Assert.Equal("application/x-protobuf", r.ContentType));
    }

    public ValueTask DisposeAsync() => _factory.DisposeAsync();
}
