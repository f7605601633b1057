using System.Text.Json;
using Sessions.Testing;
using Sessions.Testing.Fuzz;

namespace McpServer.Tests.Mcp;

// Issue 13 fuzzing: JSON-RPC at /mcp, a seeded sample over HTTP through McpRequestGuard and the SDK's handler as a payer the gate
// only identified: never a 5xx or an internal name, every error a JSON-RPC error or a coded problem, nothing stored.
public sealed class McpJsonRpcFuzzTests(InfrastructureFixture infrastructure) : IAsyncDisposable
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;
    readonly McpTestHost _host = new(infrastructure);

    public ValueTask DisposeAsync() => _host.DisposeAsync();

    static readonly string[] Messages =
    [
        """{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"put-content","arguments":{"key":"fuzz","value":"v"},"_meta":{"progressToken":7}}}""",
        """{"jsonrpc":"2.0","id":"a","method":"tools/call","params":{"name":"get-content","arguments":{"key":"fuzz"}}}""",
        """{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{"cursor":null}}""",
        """{"jsonrpc":"2.0","id":3,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"fuzz","version":"1"}}}""",
        """{"jsonrpc":"2.0","method":"notifications/initialized"}""",
        """{"jsonrpc":"2.0","id":7,"result":{}}""",
    ];

    [Fact]
    public async Task Http_sample_as_an_identified_payer_stores_nothing()
    {
        var payer = McpTestHost.Payer() with { IdentifiedOnly = true };
        await JsonBodyHttpFuzz.RunAsync(_host.Http(payer), HttpMethod.Post, "/mcp", Messages, 13_0302, 1_000, request =>
        {
            request.Headers.TryAddWithoutValidation("Accept", "application/json, text/event-stream");
            request.Headers.TryAddWithoutValidation("MCP-Protocol-Version", "2025-11-25");
        }, jsonRpcErrors: true);

        // The same payer, paid: its storage is still empty.
        await using var client = await _host.ConnectAsync(McpTestHost.Payer(payer.Payer), "2025-11-25");
        var list = await client.CallToolAsync("list-content", cancellationToken: Ct);
        Assert.DoesNotContain("fuzz", JsonSerializer.Serialize(list.Content));
    }
}
