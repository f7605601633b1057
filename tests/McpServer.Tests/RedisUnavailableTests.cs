using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using McpServer.Tests.Support;
using Sessions.Testing;

namespace McpServer.Tests;

// Redis down: the content API fails closed with a retryable 503 problem, never a 500.
public sealed class RedisUnavailableTests : IAsyncDisposable
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    readonly ServiceFactory<Program> _factory = new(new Dictionary<string, string?>
    {
        ["ConnectionStrings:redis"] = $"127.0.0.1:{ClosedPort()},connectTimeout=300,syncTimeout=800",
        ["PayerContext:SigningKey"] = Payers.SigningKey,
    });

    static int ClosedPort()
    {
        using var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [Theory]
    [InlineData("GET", "/api/content/notes/today")]
    [InlineData("PUT", "/api/content/notes/today")]
    [InlineData("DELETE", "/api/content/notes/today")]
    [InlineData("GET", "/api/content?limit=5")]
    public async Task Content_routes_answer_503_problem(string method, string url)
    {
        var client = _factory.CreateClient().As(Payers.NewAddress());
        using var request = new HttpRequestMessage(new HttpMethod(method), url) { Content = method == "PUT" ? new StringContent("x") : null };

        using var response = await client.SendAsync(request, Ct);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
        Assert.Equal(503, problem.RootElement.GetProperty("status").GetInt32());
        Assert.NotNull(response.Headers.RetryAfter);
    }

    [Fact]
    public async Task Ping_still_answers_and_health_is_unhealthy()
    {
        var client = _factory.CreateClient();
        using (var ping = await client.GetAsync("/api/ping", Ct))
            Assert.Equal(HttpStatusCode.OK, ping.StatusCode);
        using var health = await client.GetAsync("/health", Ct);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
    }

    public ValueTask DisposeAsync() => _factory.DisposeAsync();
}
