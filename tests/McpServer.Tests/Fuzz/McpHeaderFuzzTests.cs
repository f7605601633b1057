using System.Text;
using Sessions.Testing;
using Sessions.Testing.Fuzz;

namespace McpServer.Tests.Fuzz;

// The Streamable HTTP headers McpServer reads (MCP-Protocol-Version, Mcp-Method, Mcp-Name, Mcp-Session-Id, Accept, Origin),
// seeded mutations of valid values on valid JSON-RPC bodies (bodies are fuzzed elsewhere). Oracle: never a 5xx, no stack trace.
public sealed class McpHeaderFuzzTests(InfrastructureFixture infrastructure) : IAsyncDisposable
{
    const int Requests = 400;
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    readonly McpServer.Tests.Mcp.McpTestHost _host = new(infrastructure, settings: new Dictionary<string, string?>
    {
        ["Mcp:AllowedOrigins:0"] = "https://app.example.com",
    });

    public ValueTask DisposeAsync() => _host.DisposeAsync();

    const string List = """{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}""";
    const string Initialize = """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"fuzz","version":"1"}}}""";

    [Fact]
    public async Task Fuzzed_mcp_headers_are_answered_never_a_5xx()
    {
        var random = new Random(13601);
        string[] names = ["MCP-Protocol-Version", "Mcp-Method", "Mcp-Name", "Mcp-Session-Id", "Accept", "Origin"];
        string[] valid = ["2026-07-28", "2025-11-25", "tools/list", "tools/call", "list-documents", "application/json, text/event-stream",
            "https://app.example.com"];

        await HeaderFuzz.RunTextAsync(13601, Requests, valid, async mutated =>
        {
            var perRequest = random.Next(2) == 0;
            var request = new HttpRequestMessage(HttpMethod.Post, "/mcp")
            {
                Content = new StringContent(perRequest ? List : Initialize, Encoding.UTF8, "application/json"),
            };
            request.Headers.TryAddWithoutValidation("Accept", "application/json, text/event-stream");
            if (perRequest)
            {
                request.Headers.TryAddWithoutValidation("MCP-Protocol-Version", "2026-07-28");
                request.Headers.TryAddWithoutValidation("Mcp-Method", "tools/list");
            }
            var name = names[random.Next(names.Length)];
            request.Headers.Remove(name);
            request.Headers.TryAddWithoutValidation(name, HeaderFuzz.AsDelivered(mutated));
            using var response = await _host.Http().SendAsync(request, Ct);
            var body = await response.Content.ReadAsStringAsync(Ct);
            Assert.True((int)response.StatusCode < 500, $"{name}: {(int)response.StatusCode}: {body}");
            Assert.DoesNotContain("   at ", body);
        });
    }
}
