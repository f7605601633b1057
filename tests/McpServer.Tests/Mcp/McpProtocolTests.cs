using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using Sessions.Testing;

namespace McpServer.Tests.Mcp;

// Streamable HTTP details a client relies on, over raw HTTP: what the SDK's AspNetCore handler (and McpRequestGuard in front of
// it) answers, for a stateless server.
public sealed class McpProtocolTests(InfrastructureFixture infrastructure) : IAsyncDisposable
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    readonly McpTestHost _host = new(infrastructure, settings: new Dictionary<string, string?>
    {
        ["Mcp:AllowedOrigins:0"] = "https://app.example.com",
    });

    const string Initialize = """
        {"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}
        """;

    static HttpRequestMessage Post(string body, string accept = "application/json, text/event-stream", string? version = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/mcp") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation("Accept", accept);
        if (version is not null) request.Headers.TryAddWithoutValidation("MCP-Protocol-Version", version);
        return request;
    }

    Task<HttpResponseMessage> SendAsync(HttpRequestMessage request) => _host.Http().SendAsync(request, Ct);

    // The SDK's HTTP-level error (docs/mcp-server.md, "Errors"): a JSON-RPC error as application/json, which the C# SDK's
    // client reads back into an McpProtocolException; never a stack trace or an internal name.
    static async Task<JsonElement> JsonRpcErrorAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadAsStringAsync(Ct);
        foreach (var internals in new[] { "   at ", "Exception", "System.", "ModelContextProtocol.", "LineNumber" })
            Assert.DoesNotContain(internals, body);
        var message = JsonDocument.Parse(body).RootElement.Clone();
        Assert.Equal("2.0", message.GetProperty("jsonrpc").GetString());
        Assert.Equal(JsonValueKind.Number, message.GetProperty("error").GetProperty("code").ValueKind);
        Assert.False(string.IsNullOrEmpty(message.GetProperty("error").GetProperty("message").GetString()));
        return message;
    }

    // What routing decides before the SDK runs (415) is the service's usual problem+json with a code.
    static async Task<JsonElement> ProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadAsStringAsync(Ct);
        Assert.DoesNotContain("   at ", body);
        var problem = JsonDocument.Parse(body).RootElement.Clone();
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("code").GetString()));
        return problem;
    }

    [Fact]
    public async Task Initialize_answers_over_sse_without_a_session_id()
    {
        using var response = await SendAsync(Post(Initialize));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.False(response.Headers.Contains("Mcp-Session-Id"));
        var sse = await response.Content.ReadAsStringAsync(Ct);
        var data = sse.Split('\n').Single(line => line.StartsWith("data: ", StringComparison.Ordinal))["data: ".Length..];
        using var message = JsonDocument.Parse(data);
        Assert.Equal(1, message.RootElement.GetProperty("id").GetInt32());
        Assert.Equal("2025-11-25", message.RootElement.GetProperty("result").GetProperty("protocolVersion").GetString());
        Assert.True(message.RootElement.GetProperty("result").GetProperty("capabilities").TryGetProperty("tools", out _));
    }

    [Theory]
    [InlineData("application/json")]
    [InlineData("text/event-stream")]
    [InlineData("text/html")]
    public async Task Post_must_accept_json_and_event_stream(string accept)
    {
        var error = await JsonRpcErrorAsync(await SendAsync(Post(Initialize, accept)), HttpStatusCode.NotAcceptable);
        Assert.Contains("application/json and text/event-stream", error.GetProperty("error").GetProperty("message").GetString());
    }

    [Fact]
    public async Task Notifications_and_responses_are_202_without_a_body()
    {
        foreach (var body in new[]
                 {
                     """{"jsonrpc":"2.0","method":"notifications/initialized"}""",
                     """{"jsonrpc":"2.0","id":7,"result":{}}""",
                 })
        {
            using var response = await SendAsync(Post(body, version: "2025-11-25"));
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            Assert.Empty(await response.Content.ReadAsByteArrayAsync(Ct));
            Assert.Null(response.Content.Headers.ContentType);
        }
    }

    [Theory]
    [InlineData("{not json")]
    [InlineData("[]")]
    [InlineData("""{"hello":"world"}""")]
    [InlineData("null")]
    public async Task A_body_that_is_no_json_rpc_message_is_400(string body)
    {
        var error = (await JsonRpcErrorAsync(await SendAsync(Post(body)), HttpStatusCode.BadRequest)).GetProperty("error");
        Assert.Equal((int)ModelContextProtocol.McpErrorCode.InvalidRequest, error.GetProperty("code").GetInt32());
        Assert.StartsWith("Bad Request: The POST body did not contain a valid JSON-RPC message", error.GetProperty("message").GetString());
    }

    // Issue 13 defect 3: repeated member names (exact or case variants, at any depth) made the SDK's reader throw, a 500
    // with the exception text. Which one would count is ambiguous (the gate prices by one), so the message is refused.
    [Theory]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list-content","name":"put-content","arguments":{"key":"k","value":"v"}}}""")]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list-content","Name":"put-content","arguments":{"key":"k","value":"v"}}}""")]
    [InlineData("""{"jsonrpc":"2.0","id":1,"id":2,"method":"tools/list"}""")]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":"tools/list","Method":"tools/call","params":{"name":"put-content"}}""")]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"put-content","arguments":{"key":"a","KEY":"b","value":"v"}}}""")]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"put-content","_meta":{"x":1,"x":2},"arguments":{"key":"a","value":"v"}}}""")]
    public async Task A_message_with_repeated_member_names_is_an_invalid_request_and_runs_nothing(string body)
    {
        var payer = McpTestHost.Payer();
        using var response = await _host.Http(payer).SendAsync(Post(body, version: "2025-11-25"), Ct);

        var error = await JsonRpcErrorAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal((int)ModelContextProtocol.McpErrorCode.InvalidRequest, error.GetProperty("error").GetProperty("code").GetInt32());
        Assert.Contains("a member name is repeated", error.GetProperty("error").GetProperty("message").GetString());
        Assert.DoesNotContain("same key", error.GetRawText());
        // Nothing ran: the payer's storage is still empty.
        await using var client = await _host.ConnectAsync(payer, "2025-11-25");
        var list = await client.CallToolAsync("list-content", cancellationToken: Ct);
        Assert.DoesNotContain("\"a\"", JsonSerializer.Serialize(list.Content));
        Assert.DoesNotContain("\"k\"", JsonSerializer.Serialize(list.Content));
    }

    // Found by McpJsonRpcFuzzTests: the SDK reads initialize's params into its own type while answering; a missing required
    // member was a 500 naming that type.
    [Fact]
    public async Task Initialize_without_capabilities_is_invalid_params()
    {
        var error = await JsonRpcErrorAsync(await SendAsync(Post(
            """{"jsonrpc":"2.0","id":3,"method":"initialize","params":{"protocolVersion":"2025-11-25","clientInfo":{"name":"raw","version":"1"}}}""")),
            HttpStatusCode.BadRequest);

        Assert.Equal((int)ModelContextProtocol.McpErrorCode.InvalidParams, error.GetProperty("error").GetProperty("code").GetInt32());
        Assert.Equal(3, error.GetProperty("id").GetInt32());
    }

    [Fact]
    public async Task A_body_that_is_not_json_is_415()
    {
        var request = Post(Initialize);
        request.Content = new StringContent(Initialize, Encoding.UTF8, "text/plain");
        var problem = await ProblemAsync(await SendAsync(request), HttpStatusCode.UnsupportedMediaType);
        Assert.Equal("unsupported-media-type", problem.GetProperty("code").GetString());
    }

    [Fact]
    public async Task Unsupported_protocol_version_is_400_with_the_supported_ones()
    {
        var error = await JsonRpcErrorAsync(await SendAsync(Post(Initialize, version: "1999-01-01")), HttpStatusCode.BadRequest);
        Assert.Equal(-32022, error.GetProperty("error").GetProperty("code").GetInt32());
        Assert.Equal(1, error.GetProperty("id").GetInt32());
        // A stateless server advertises the per-request revision only (what server/discover lists); the older ones still answer.
        var data = error.GetProperty("error").GetProperty("data");
        Assert.Equal(["2026-07-28"], data.GetProperty("supported").EnumerateArray().Select(v => v.GetString()));
        Assert.Equal("1999-01-01", data.GetProperty("requested").GetString());

        // Each supported version is accepted (a header that disagrees with initialize's own version is a mismatch).
        using (var ok = await SendAsync(Post(Initialize, version: "2025-11-25")))
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        await JsonRpcErrorAsync(await SendAsync(Post(Initialize, version: "2025-06-18")), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Per_request_metadata_revision_needs_its_headers_and_has_no_initialize()
    {
        const string list = """{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}""";
        var missingMethod = await JsonRpcErrorAsync(await SendAsync(Post(list, version: "2026-07-28")), HttpStatusCode.BadRequest);
        Assert.Contains("Mcp-Method", missingMethod.GetProperty("error").GetProperty("message").GetString());

        var request = Post(list, version: "2026-07-28");
        request.Headers.Add("Mcp-Method", "tools/list");
        using (var ok = await SendAsync(request))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            Assert.Contains("put-content", await ok.Content.ReadAsStringAsync(Ct));
        }

        var initialize = Post(Initialize.Replace("2025-11-25", "2026-07-28"), version: "2026-07-28");
        initialize.Headers.Add("Mcp-Method", "initialize");
        await JsonRpcErrorAsync(await SendAsync(initialize), HttpStatusCode.BadRequest); // no _meta protocol version
    }

    [Theory]
    [InlineData("GET")]
    [InlineData("DELETE")]
    public async Task Get_and_delete_are_405_on_a_stateless_server(string method)
    {
        var request = new HttpRequestMessage(new HttpMethod(method), "/mcp");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        request.Headers.Add("Mcp-Session-Id", "abc");
        using var response = await SendAsync(request);
        var error = await JsonRpcErrorAsync(response, HttpStatusCode.MethodNotAllowed);
        Assert.Contains("stateless", error.GetProperty("error").GetProperty("message").GetString());
        Assert.Equal(["POST"], response.Content.Headers.Allow);
    }

    [Fact]
    public async Task A_session_id_is_refused_because_there_are_no_sessions()
    {
        var request = Post("""{"jsonrpc":"2.0","id":3,"method":"tools/list"}""", version: "2025-11-25");
        request.Headers.Add("Mcp-Session-Id", "some-session");
        var error = await JsonRpcErrorAsync(await SendAsync(request), HttpStatusCode.BadRequest);
        Assert.Contains("Mcp-Session-Id", error.GetProperty("error").GetProperty("message").GetString());
    }

    // Why /mcp answers the SDK's own error bodies (docs/mcp-server.md, "Errors"): the official C# client reads a 400's JSON-RPC
    // error back into an McpProtocolException with its code and message; a problem+json body would be a bare HttpRequestException.
    [Fact]
    public async Task The_official_client_reads_an_http_error_as_the_servers_JSON_RPC_error()
    {
        var http = _host.Factory.CreateDefaultClient(new HeaderHandler("Mcp-Session-Id", "from-a-stateful-server"));
        var transport = new HttpClientTransport(new HttpClientTransportOptions
        {
            Endpoint = new Uri("http://localhost/mcp"),
            TransportMode = HttpTransportMode.StreamableHttp,
        }, http, ownsHttpClient: true);

        var error = await Assert.ThrowsAsync<McpProtocolException>(() =>
            McpClient.CreateAsync(transport, new McpClientOptions { ProtocolVersion = "2025-11-25" }, cancellationToken: Ct));

        Assert.Contains("Mcp-Session-Id header is not supported in stateless mode", error.Message);
    }

    sealed class HeaderHandler(string name, string value) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            request.Headers.TryAddWithoutValidation(name, value);
            return base.SendAsync(request, cancellationToken);
        }
    }

    [Fact]
    public async Task Tools_list_works_without_initialize_on_a_stateless_server()
    {
        using var response = await SendAsync(Post("""{"jsonrpc":"2.0","id":4,"method":"tools/list"}""", version: "2025-11-25"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("\"x402/price\":\"$0.01\"", await response.Content.ReadAsStringAsync(Ct));
    }

    [Theory]
    [InlineData("https://evil.example", HttpStatusCode.Forbidden)]
    [InlineData("http://localhost:5173", HttpStatusCode.Forbidden)]
    [InlineData("null", HttpStatusCode.Forbidden)]
    [InlineData("https://app.example.com", HttpStatusCode.OK)]
    [InlineData("HTTPS://APP.EXAMPLE.COM", HttpStatusCode.OK)]
    [InlineData("http://localhost", HttpStatusCode.OK)] // same origin as the request's Host
    public async Task Browser_origins_must_be_allowed(string origin, HttpStatusCode expected)
    {
        var request = Post(Initialize);
        request.Headers.Add("Origin", origin);
        using var response = await SendAsync(request);
        if (expected == HttpStatusCode.OK) Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        else Assert.Contains("may not call this MCP server", (await JsonRpcErrorAsync(response, expected)).GetProperty("error").GetProperty("message").GetString());
    }

    [Fact]
    public async Task Pricing_needs_no_payer_and_is_json()
    {
        using var response = await SendAsync(new HttpRequestMessage(HttpMethod.Get, "/mcp/pricing"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
    }

    public ValueTask DisposeAsync() => _host.DisposeAsync();
}
