using PaymentGate.Tests.Paywall;
using Sessions.PaymentGate.Mcp;
using Sessions.Testing;
using Sessions.Testing.Fuzz;

namespace PaymentGate.Tests.Mcp;

// Issue 13 fuzzing: the gate's JSON-RPC reader for MCP routes. 10,000 seeded cases straight through McpRequest (parse, then
// everything the gate reads of it), and a sample over HTTP in front of the fake MCP server: never a 5xx from the gate, every
// error coded (a problem's code, or a JSON-RPC error's as McpServer answers), no payment row, no tool call forwarded with a payer.
public sealed class McpGateFuzzTests(InfrastructureFixture infrastructure) : IAsyncLifetime
{
    McpGateHarness _harness = null!;
    PaywallHarness _gate = null!;
    FakeMcpServer _mcp = null!;

    public async ValueTask InitializeAsync()
    {
        _harness = await McpGateHarness.StartAsync(infrastructure);
        (_gate, _mcp) = (_harness.Gate, _harness.Mcp);
    }

    public ValueTask DisposeAsync() => _harness.DisposeAsync();

    static readonly string[] Messages =
    [
        """{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"put-content","arguments":{"key":"k","value":"v"},"_meta":{"progressToken":7,"x402/payment":{"x402Version":2,"payload":{}}}}}""",
        """{"jsonrpc":"2.0","id":"a","method":"tools/call","params":{"name":"get-content","arguments":{"key":"k"},"_meta":{"org.paymentauth/credential":{"challenge":{}}}}}""",
        """{"jsonrpc":"2.0","id":2,"method":"tools/list"}""",
        """{"jsonrpc":"2.0","method":"notifications/initialized"}""",
    ];

    static readonly string[] UnpaidMessages =
    [
        """{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"put-content","arguments":{"key":"k","value":"v"},"_meta":{"progressToken":7}}}""",
        """{"jsonrpc":"2.0","id":"a","method":"tools/call","params":{"name":"get-content","arguments":{"key":"k"}}}""",
        """{"jsonrpc":"2.0","id":2,"method":"tools/list"}""",
        """{"jsonrpc":"2.0","method":"notifications/initialized"}""",
    ];

    [Fact]
    public void Reader_never_throws() =>
        Assert.InRange(JsonBodyDecoderFuzz.RunReader(Messages, 13_0401, body =>
        {
            if (McpRequest.TryParse(body, out _, out _) is not { } request) return false;
            _ = (request.Method, request.Id, request.ToolName);     // everything the gate reads of a message
            request.TakeMeta(McpRequest.PaymentMetaKey, out _);
            request.TakeMeta(McpRequest.CredentialMetaKey, out _);
            request.ToUtf8Bytes();                                   // and writes back
            return true;
        }), 500, 9_500);

    [Fact]
    public async Task Http_sample_charges_nothing_and_forwards_no_payer()
    {
        var rows = await JsonFuzzOracle.RowsAsync(_gate.Database);

        // Without payments in _meta: the payment decoders' own fuzz is PaymentGate.Tests' header fuzz (their messages quote the
        // JSON reader's error, "LineNumber: …", which this oracle refuses: reported, not changed here).
        await JsonBodyHttpFuzz.RunAsync(_gate.Http, HttpMethod.Post, "/mcp", UnpaidMessages, 13_0402, 300,
            request => request.Headers.TryAddWithoutValidation("Accept", "application/json, text/event-stream"), jsonRpcErrors: true);

        Assert.Equal(rows, await JsonFuzzOracle.RowsAsync(_gate.Database));
        Assert.All(_mcp.Calls, call => Assert.Null(call.PayerContext));
    }
}
