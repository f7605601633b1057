using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using McpServer.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using Sessions.McpServer.Mcp;
using Sessions.ServiceDefaults.Payers;
using Sessions.Testing;

namespace McpServer.Tests.Mcp;

// McpServer's own side of the vault and session tools, against FAKE VaultApi/SessionApi handlers: which calls it makes,
// that it forwards the payer context unchanged, how it maps answers to tool results. The real services through the
// gate are the stack tests' job.
public sealed class McpUpstreamToolsFakeUpstreamTests : IAsyncDisposable
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    const string SessionId = "ses_0123456789abcdef0123456789abcdef";
    const string VaultId = "vlt_0123456789abcdef0123456789abcdef";

    readonly FakeUpstream _vaultApi = new();
    readonly FakeUpstream _sessionApi = new();
    readonly McpTestHost _host;

    public McpUpstreamToolsFakeUpstreamTests(InfrastructureFixture infrastructure)
    {
        _host = new McpTestHost(infrastructure, services =>
        {
            services.AddHttpClient(Upstreams.VaultApi).ConfigurePrimaryHttpMessageHandler(() => _vaultApi);
            services.AddHttpClient(Upstreams.SessionApi).ConfigurePrimaryHttpMessageHandler(() => _sessionApi);
        }, new Dictionary<string, string?>
        {
            ["services:vaultapi:http:0"] = "http://127.0.0.1:9",
            ["services:sessionapi:http:0"] = "http://127.0.0.1:9",
        });
    }

    static async Task<CallToolResult> CallAsync(McpClient client, string tool, Dictionary<string, object?>? arguments = null) =>
        await client.CallToolAsync(tool, arguments ?? [], cancellationToken: Ct);

    static JsonElement Ok(CallToolResult result)
    {
        Assert.True(result.IsError is null or false, (result.Content.FirstOrDefault() as TextContentBlock)?.Text);
        return Assert.IsType<JsonElement>(result.StructuredContent);
    }

    static string Error(CallToolResult result, string code)
    {
        Assert.True(result.IsError);
        Assert.Equal(code, Assert.IsType<JsonElement>(result.StructuredContent).GetProperty("error").GetString());
        return Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text;
    }

    [Fact]
    public async Task FakeUpstream_add_document_finds_the_vault_and_posts_with_the_forwarded_payer_context()
    {
        var payer = McpTestHost.Payer(sessionId: SessionId);
        _vaultApi.Respond = request => (request.Method.Method, request.RequestUri!.AbsolutePath) switch
        {
            ("GET", "/api/vaults/current") => (HttpStatusCode.OK, $$"""{"id":"{{VaultId}}","sessionId":"{{SessionId}}","state":"active"}"""),
            ("POST", $"/api/vaults/{VaultId}/documents") => (HttpStatusCode.Created,
                $$"""{"id":"doc_1","vaultId":"{{VaultId}}","name":"report","contentType":"application/json","size":9,"createdAt":"2026-11-30T12:00:00+00:00","addedBy":"add-document","content":null}"""),
            _ => (HttpStatusCode.NotFound, null),
        };
        await using var client = await _host.ConnectAsync(payer);

        var document = Ok(await CallAsync(client, "add-document",
            new() { ["name"] = "report", ["content"] = JsonDocument.Parse("""{"a":[1,2]}""").RootElement }));
        Assert.Equal("doc_1", document.GetProperty("id").GetString());

        var calls = _vaultApi.Requests.ToArray();
        Assert.Equal(2, calls.Length);
        var expectedHeader = Payers.Signer.Sign(payer);
        Assert.All(calls, call => Assert.Equal(expectedHeader, call.PayerContext));
        using var body = JsonDocument.Parse(calls[1].Body!);
        Assert.Equal("report", body.RootElement.GetProperty("name").GetString());
        Assert.Equal("""{"a":[1,2]}""", body.RootElement.GetProperty("content").GetRawText());
        Assert.Equal("add-document", body.RootElement.GetProperty("addedBy").GetString());
    }

    [Fact]
    public async Task FakeUpstream_add_document_uses_the_vault_id_of_the_payer_context_and_maps_problems_to_tool_errors()
    {
        _vaultApi.Respond = request => request.RequestUri!.AbsolutePath == $"/api/vaults/{VaultId}/documents"
            ? (HttpStatusCode.Conflict, """{"status":409,"title":"Vault is read-only","detail":"The vault was sealed when its session closed.","code":"vault-read-only"}""")
            : (HttpStatusCode.InternalServerError, null);
        await using var client = await _host.ConnectAsync(McpTestHost.Payer(sessionId: SessionId, vaultId: VaultId));

        Assert.Equal("The vault was sealed when its session closed.",
            Error(await CallAsync(client, "add-document", new() { ["name"] = "n", ["content"] = "text", ["contentType"] = "text/markdown" }), "vault-read-only"));
        var call = Assert.Single(_vaultApi.Requests); // no /current lookup
        Assert.Contains("\"contentType\":\"text/markdown\"", call.Body);

        _vaultApi.Respond = _ => (HttpStatusCode.BadRequest,
            """{"status":400,"title":"One or more validation errors occurred.","errors":{"name":["Required, at most 256 characters."]}}""");
        Assert.Contains("name: Required, at most 256 characters.",
            Error(await CallAsync(client, "add-document", new() { ["name"] = " ", ["content"] = "x" }), "invalid-argument"));
    }

    [Fact]
    public async Task FakeUpstream_list_documents_passes_paging_and_returns_the_page()
    {
        _vaultApi.Respond = _ => (HttpStatusCode.OK, """{"items":[{"id":"doc_2","name":"b"}],"nextCursor":"abc"}""");
        await using var client = await _host.ConnectAsync(McpTestHost.Payer(sessionId: SessionId, vaultId: VaultId));

        var page = Ok(await CallAsync(client, "list-documents", new() { ["cursor"] = "xyz", ["limit"] = 5, ["order"] = "name" }));
        Assert.Equal("abc", page.GetProperty("nextCursor").GetString());
        var call = Assert.Single(_vaultApi.Requests);
        Assert.Equal($"/api/vaults/{VaultId}/documents?cursor=xyz&limit=5&order=name", call.PathAndQuery);
        Assert.Equal(HttpMethod.Get.Method, call.Method);
    }

    [Fact]
    public async Task FakeUpstream_vault_and_session_tools_without_a_session_say_open_a_session_first()
    {
        await using var client = await _host.ConnectAsync(McpTestHost.Payer());
        foreach (var tool in new[] { "add-document", "list-documents", "session-status" })
        {
            var text = Error(await CallAsync(client, tool, tool == "add-document" ? new() { ["name"] = "n", ["content"] = "c" } : null), "no-session");
            Assert.Contains("open a session first", text);
        }
        Assert.Empty(_vaultApi.Requests);
        Assert.Empty(_sessionApi.Requests);
    }

    [Fact]
    public async Task FakeUpstream_session_status_combines_the_session_and_the_agents_mandate()
    {
        var payer = McpTestHost.Payer(sessionId: SessionId);
        _sessionApi.Respond = request => request.RequestUri!.AbsolutePath switch
        {
            $"/api/sessions/{SessionId}" => (HttpStatusCode.OK,
                $$"""{"id":"{{SessionId}}","kind":"prepaid","deposit":"100000","spent":"2000","balance":"98000","state":"ACTIVE","requestCount":2,"expiresAt":"2026-12-01T12:00:00+00:00"}"""),
            "/api/mandates" => (HttpStatusCode.OK,
                """{"items":[{"id":"man_1","state":"active","isActive":true,"expiresAt":"2026-12-02T00:00:00+00:00","maxPerTransaction":"50000","remainingToday":"900000","remainingThisWeek":null,"remainingThisMonth":null,"nonce":"0xsecret"}]}"""),
            _ => (HttpStatusCode.NotFound, null),
        };
        await using var client = await _host.ConnectAsync(payer);

        var status = Ok(await CallAsync(client, "session-status"));
        Assert.Equal("98000", status.GetProperty("session").GetProperty("balance").GetString());
        Assert.Equal("ACTIVE", status.GetProperty("session").GetProperty("state").GetString());
        var mandate = status.GetProperty("mandate");
        Assert.Equal("900000", mandate.GetProperty("remainingToday").GetString());
        Assert.False(mandate.TryGetProperty("nonce", out _));
        Assert.Contains(_sessionApi.Requests, r => r.PathAndQuery == $"/api/mandates?agent={payer.Payer}&limit=1");
        Assert.All(_sessionApi.Requests, r => Assert.Equal(Payers.Signer.Sign(payer), r.PayerContext));

        _sessionApi.Respond = request => request.RequestUri!.AbsolutePath == "/api/mandates"
            ? (HttpStatusCode.OK, """{"items":[]}""")
            : (HttpStatusCode.OK, $$"""{"id":"{{SessionId}}","balance":"0","state":"DEPLETED"}""");
        Assert.Equal(JsonValueKind.Null, Ok(await CallAsync(client, "session-status")).GetProperty("mandate").ValueKind);

        _sessionApi.Respond = _ => (HttpStatusCode.NotFound, """{"status":404,"code":"session-not-found"}""");
        Error(await CallAsync(client, "session-status"), "session-not-found");
    }

    // SessionApi's ledger trails the gate's debits by the fold: the balance the gate forwards (its live one) is the one reported.
    [Fact]
    public async Task FakeUpstream_session_status_reports_the_gates_live_balance()
    {
        _sessionApi.Respond = request => request.RequestUri!.AbsolutePath == "/api/mandates"
            ? (HttpStatusCode.OK, """{"items":[]}""")
            : (HttpStatusCode.OK, $$"""{"id":"{{SessionId}}","deposit":"100000","spent":"2000","balance":"98000","state":"ACTIVE"}""");
        await using var client = await _host.ConnectAsync(McpTestHost.Payer(sessionId: SessionId) with { SessionBalance = "95000" });

        var session = Ok(await CallAsync(client, "session-status")).GetProperty("session");
        Assert.Equal(("95000", "2000"), (session.GetProperty("balance").GetString(), session.GetProperty("spent").GetString()));
    }

    [Fact]
    public async Task FakeUpstream_unreachable_services_are_tool_errors()
    {
        _vaultApi.Respond = _ => throw new HttpRequestException("Connection refused");
        _sessionApi.Respond = _ => throw new HttpRequestException("Connection refused");
        await using var client = await _host.ConnectAsync(McpTestHost.Payer(sessionId: SessionId, vaultId: VaultId));

        Assert.Equal("VaultApi did not answer; try again shortly.",
            Error(await CallAsync(client, "add-document", new() { ["name"] = "n", ["content"] = "c" }), "vault-unavailable"));
        Error(await CallAsync(client, "list-documents"), "vault-unavailable");
        Error(await CallAsync(client, "session-status"), "sessions-unavailable");
    }

    public ValueTask DisposeAsync() => _host.DisposeAsync();

    sealed class FakeUpstream : HttpMessageHandler
    {
        public ConcurrentQueue<Call> Requests { get; } = new();

        public Func<HttpRequestMessage, (HttpStatusCode Status, string? Json)> Respond { get; set; } = _ => (HttpStatusCode.NotFound, null);

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var body = request.Content is null ? null : await request.Content.ReadAsStringAsync(cancellationToken);
            Requests.Enqueue(new Call(request.Method.Method, request.RequestUri!.PathAndQuery, body,
                request.Headers.TryGetValues(PayerContextSigner.HeaderName, out var values) ? string.Join(",", values) : null));
            var (status, json) = Respond(request);
            return new HttpResponseMessage(status) { Content = new StringContent(json ?? "", Encoding.UTF8, "application/json") };
        }

        // One instance serves every handler chain the factory builds; the factory's rotation must not dispose it for good.
        protected override void Dispose(bool disposing)
        {
        }
    }

    sealed record Call(string Method, string PathAndQuery, string? Body, string? PayerContext);
}
