using System.Net;
using System.Text;
using System.Text.Json;
using McpServer.Tests.Support;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using Sessions.Testing;

namespace McpServer.Tests.Mcp;

// The official C# client (ModelContextProtocol 2.4.0) against /mcp: tools, schemas, prices, the content tools on real Redis.
public sealed class McpToolsTests(InfrastructureFixture infrastructure) : IAsyncDisposable
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    readonly McpTestHost _host = new(infrastructure);

    static readonly Dictionary<string, string?> DeclaredPrices = new()
    {
        ["add-document"] = "$0.001",
        ["get-content"] = "$0.001",
        ["list-content"] = "$0.001",
        ["list-documents"] = null,
        ["put-content"] = "$0.01",
        ["session-status"] = null,
    };

    static Task<CallToolResult> CallAsync(McpClient client, string tool, Dictionary<string, object?>? arguments = null) =>
        client.CallToolAsync(tool, arguments ?? [], cancellationToken: Ct).AsTask();

    static JsonElement Ok(CallToolResult result)
    {
        Assert.True(result.IsError is null or false, (result.Content.FirstOrDefault() as TextContentBlock)?.Text);
        var structured = Assert.IsType<JsonElement>(result.StructuredContent);
        // The text content is the same JSON, for clients that read only content.
        using var text = JsonDocument.Parse(Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text);
        Assert.True(JsonElement.DeepEquals(structured, text.RootElement));
        return structured;
    }

    static string Error(CallToolResult result, string code)
    {
        Assert.True(result.IsError);
        var structured = Assert.IsType<JsonElement>(result.StructuredContent);
        Assert.Equal(code, structured.GetProperty("error").GetString());
        var text = Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text;
        Assert.Equal(structured.GetProperty("message").GetString(), text);
        return text;
    }

    [Theory]
    [InlineData(null)]          // the client's default: 2026-07-28 (server/discover, no initialize)
    [InlineData("2025-11-25")]  // initialize handshake, as the TypeScript SDK 1.32 speaks
    [InlineData("2025-06-18")]
    public async Task Client_connects_and_lists_every_tool_with_its_schema_and_price(string? protocolVersion)
    {
        await using var client = await _host.ConnectAsync(protocolVersion: protocolVersion);
        Assert.Equal("sessions-mcpserver", client.ServerInfo?.Name);

        var tools = await client.ListToolsAsync(cancellationToken: Ct);
        Assert.Equal(DeclaredPrices.Keys.Order(), tools.Select(t => t.Name).Order());
        foreach (var tool in tools.Select(t => t.ProtocolTool))
        {
            Assert.False(string.IsNullOrWhiteSpace(tool.Description));
            Assert.Equal("object", tool.InputSchema.GetProperty("type").GetString());
            Assert.Equal(DeclaredPrices[tool.Name], tool.Meta?["x402/price"]?.GetValue<string>());
        }

        var put = tools.Single(t => t.Name == "put-content").ProtocolTool.InputSchema;
        Assert.Equal(["key", "value"], put.GetProperty("required").EnumerateArray().Select(e => e.GetString()).Order());
        Assert.Equal("string", put.GetProperty("properties").GetProperty("key").GetProperty("type").GetString());
        Assert.Contains("null", put.GetProperty("properties").GetProperty("value").GetRawText());
        var list = tools.Single(t => t.Name == "list-content").ProtocolTool.InputSchema.GetProperty("properties");
        Assert.All(new[] { "prefix", "cursor", "limit", "keysOnly" }, name => Assert.True(list.TryGetProperty(name, out _), name));
        var add = tools.Single(t => t.Name == "add-document").ProtocolTool.InputSchema;
        Assert.Equal(["content", "name"], add.GetProperty("required").EnumerateArray().Select(e => e.GetString()).Order());
    }

    [Fact]
    public async Task Pricing_lists_every_tool_with_its_declared_price_without_a_payer()
    {
        var body = await _host.Http().GetStringAsync("/mcp/pricing", Ct);
        using var pricing = JsonDocument.Parse(body);
        var tools = pricing.RootElement.GetProperty("tools").EnumerateArray().ToArray();
        Assert.Equal(DeclaredPrices.Keys.Order(StringComparer.Ordinal), tools.Select(t => t.GetProperty("name").GetString()));
        foreach (var tool in tools)
        {
            var price = tool.GetProperty("price");
            Assert.Equal(DeclaredPrices[tool.GetProperty("name").GetString()!], price.ValueKind == JsonValueKind.Null ? null : price.GetString());
            Assert.False(string.IsNullOrWhiteSpace(tool.GetProperty("description").GetString()));
        }
    }

    [Fact]
    public async Task Put_get_list_roundtrip_and_the_rest_api_sees_the_same_data()
    {
        var payer = McpTestHost.Payer();
        await using var client = await _host.ConnectAsync(payer);

        var put = Ok(await CallAsync(client, "put-content", new() { ["key"] = "notes/today", ["value"] = "buy milk ✓" }));
        Assert.Equal("notes/today", put.GetProperty("key").GetString());
        Assert.Equal(Encoding.UTF8.GetByteCount("buy milk ✓"), put.GetProperty("size").GetInt64());
        Ok(await CallAsync(client, "put-content", new() { ["key"] = "notes/tomorrow", ["value"] = "call mum", ["ttl"] = 3600 }));
        Ok(await CallAsync(client, "put-content", new() { ["key"] = "other", ["value"] = "x" }));

        var get = Ok(await CallAsync(client, "get-content", new() { ["key"] = "notes/today" }));
        Assert.Equal("buy milk ✓", get.GetProperty("value").GetString());

        var page = Ok(await CallAsync(client, "list-content", new() { ["prefix"] = "notes/", ["limit"] = 1 }));
        var first = Assert.Single(page.GetProperty("items").EnumerateArray());
        var cursor = page.GetProperty("nextCursor").GetString();
        Assert.NotNull(cursor);
        var rest = Ok(await CallAsync(client, "list-content", new() { ["prefix"] = "notes/", ["cursor"] = cursor, ["keysOnly"] = true }));
        var second = Assert.Single(rest.GetProperty("items").EnumerateArray());
        Assert.Equal(JsonValueKind.Null, rest.GetProperty("nextCursor").ValueKind);
        Assert.False(second.TryGetProperty("value", out _));
        Assert.Equal(["notes/today", "notes/tomorrow"], new[] { first, second }.Select(i => i.GetProperty("key").GetString()).Order());

        // Same store as the REST content API, for the same payer.
        Assert.Equal("buy milk ✓", await _host.Http().As(payer.Payer).GetStringAsync("/api/content/notes/today", Ct));

        // null deletes; a second delete finds nothing.
        var deleted = Ok(await CallAsync(client, "put-content", new() { ["key"] = "notes/today", ["value"] = null }));
        Assert.True(deleted.GetProperty("deleted").GetBoolean());
        Assert.Equal("The key 'notes/today' does not exist or has expired.",
            Error(await CallAsync(client, "put-content", new() { ["key"] = "notes/today", ["value"] = null }), "not-found"));
        Error(await CallAsync(client, "get-content", new() { ["key"] = "notes/today" }), "not-found");
    }

    [Fact]
    public async Task Another_payer_sees_none_of_the_keys_and_spellings_of_one_address_share_them()
    {
        await using var owner = await _host.ConnectAsync(McpTestHost.Payer(Payers.ChecksummedAddress));
        await using var stranger = await _host.ConnectAsync(McpTestHost.Payer());
        var key = "isolation/" + Guid.NewGuid().ToString("N");
        Ok(await CallAsync(owner, "put-content", new() { ["key"] = key, ["value"] = "mine" }));

        Error(await CallAsync(stranger, "get-content", new() { ["key"] = key }), "not-found");
        Assert.Empty(Ok(await CallAsync(stranger, "list-content", new() { ["prefix"] = "isolation/" })).GetProperty("items").EnumerateArray());
        Error(await CallAsync(stranger, "put-content", new() { ["key"] = key, ["value"] = null }), "not-found");

        await using var lowercase = await _host.ConnectAsync(McpTestHost.Payer(Payers.ChecksummedAddress.ToLowerInvariant()));
        Assert.Equal("mine", Ok(await CallAsync(lowercase, "get-content", new() { ["key"] = key })).GetProperty("value").GetString());
    }

    [Fact]
    public async Task Unpaid_calls_are_payer_required_errors_not_crashes()
    {
        await using var client = await _host.ConnectAsync(payer: null);
        foreach (var (tool, arguments) in new (string, Dictionary<string, object?>)[]
                 {
                     ("put-content", new() { ["key"] = "k", ["value"] = "v" }),
                     ("get-content", new() { ["key"] = "k" }),
                     ("list-content", new()),
                     ("add-document", new() { ["name"] = "n", ["content"] = "c" }),
                     ("list-documents", new()),
                     ("session-status", new()),
                 })
        {
            var text = Error(await CallAsync(client, tool, arguments), "payer-required");
            Assert.StartsWith("PayerRequired:", text);
            Assert.Contains(tool, text);
        }
        // The connection still works afterwards.
        Assert.Equal(6, (await client.ListToolsAsync(cancellationToken: Ct)).Count);
    }

    // The gate marks contexts it signed only to say who asks (free routes and tools, nothing charged): priced tools refuse them.
    [Fact]
    public async Task Priced_tools_refuse_an_identified_only_payer_context_and_free_tools_accept_it()
    {
        await using var client = await _host.ConnectAsync(McpTestHost.Payer() with { IdentifiedOnly = true });
        foreach (var (tool, arguments) in new (string, Dictionary<string, object?>)[]
                 {
                     ("put-content", new() { ["key"] = "k", ["value"] = "v" }),
                     ("get-content", new() { ["key"] = "k" }),
                     ("list-content", new()),
                     ("add-document", new() { ["name"] = "n", ["content"] = "c" }),
                 })
            Assert.StartsWith("PayerRequired:", Error(await CallAsync(client, tool, arguments), "payer-required"));
        // A free tool runs on it (session-status answers about the missing session, not "payer required").
        var result = await CallAsync(client, "session-status", new());
        Assert.DoesNotContain("payer-required", JsonSerializer.Serialize(result.StructuredContent));
    }

    [Fact]
    public async Task Invalid_input_gets_the_rest_apis_error_texts()
    {
        await using var client = await _host.ConnectAsync(McpTestHost.Payer());
        Assert.Equal("The key's '/'-separated segments must be non-empty and not '.' or '..'.",
            Error(await CallAsync(client, "put-content", new() { ["key"] = "a//b", ["value"] = "v" }), "invalid-argument"));
        Assert.Equal("The key is empty.", Error(await CallAsync(client, "get-content", new() { ["key"] = "" }), "invalid-argument"));
        Assert.Equal("ttl must be a whole number of seconds between 1 and 31536000.",
            Error(await CallAsync(client, "put-content", new() { ["key"] = "k", ["value"] = "v", ["ttl"] = 0 }), "invalid-argument"));
        Assert.Equal("limit must be a whole number between 1 and 100.",
            Error(await CallAsync(client, "list-content", new() { ["limit"] = 101 }), "invalid-argument"));
        Assert.StartsWith("Invalid cursor:", Error(await CallAsync(client, "list-content", new() { ["cursor"] = "../x" }), "invalid-argument"));
        Assert.Equal("The value (65537 bytes or more) exceeds the limit of 65536 bytes (64 KiB) per key.",
            Error(await CallAsync(client, "put-content", new() { ["key"] = "big", ["value"] = new string('a', 64 * 1024 + 1) }), "too-large"));
    }

    [Fact]
    public async Task Unknown_tool_is_an_error_not_a_crash()
    {
        await using var client = await _host.ConnectAsync(McpTestHost.Payer());
        var exception = await Record.ExceptionAsync(async () =>
        {
            var result = await CallAsync(client, "no-such-tool");
            Assert.True(result.IsError);
        });
        Assert.True(exception is null or ModelContextProtocol.McpException, exception?.ToString());
        Assert.Equal(HttpStatusCode.OK, (await _host.Http().GetAsync("/alive", Ct)).StatusCode);
    }

    public ValueTask DisposeAsync() => _host.DisposeAsync();
}
