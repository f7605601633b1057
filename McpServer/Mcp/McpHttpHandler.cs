using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.Features;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using Sessions.ServiceDefaults.Errors;
using Sessions.ServiceDefaults.Json;

namespace Sessions.McpServer.Mcp;

/// <summary>
/// <c>POST /mcp</c>, Streamable HTTP in stateless mode: one <see cref="ModelContextProtocol.Server.McpServer"/> over a
/// <c>StreamableHttpServerTransport { Stateless = true }</c> per request, disposed with it, so any instance can serve
/// any call. Mirrors ModelContextProtocol.AspNetCore's StreamableHttpHandler (absent here) in its checks and their order:
/// Accept (406), a JSON-RPC message (400), <c>MCP-Protocol-Version</c> (400), the 2026-07-28 revision's per-request
/// metadata and <c>Mcp-Method</c>/<c>Mcp-Name</c> headers (400, removed methods 404), <c>Mcp-Session-Id</c> (400: there are
/// no sessions to resume); notifications and responses answer 202. HTTP-level errors are problem+json that also carry
/// the JSON-RPC error (<c>jsonrpc</c>, <c>id</c>, <c>error</c>) the SDK would have sent.
/// </summary>
public static class McpHttpHandler
{
    public const string SessionIdHeader = "Mcp-Session-Id";
    public const string ProtocolVersionHeader = "MCP-Protocol-Version";
    const string MethodHeader = "Mcp-Method";
    const string NameHeader = "Mcp-Name";
    const string InvalidMessageCode = "invalid-json-rpc";

    /// <summary>The 2026-07-28 revision: no initialize handshake, no sessions, metadata in every request's <c>_meta</c>.</summary>
    public const string PerRequestMetadataVersion = "2026-07-28";

    /// <summary>What ModelContextProtocol.Core 2.3.1 speaks (its McpProtocolVersions.SupportedProtocolVersions is internal).</summary>
    public static readonly string[] SupportedProtocolVersions = ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25", PerRequestMetadataVersion];

    // Methods the 2026-07-28 revision removed from Streamable HTTP (SEP-2575): the SDK answers them 404 Method not found.
    static readonly string[] RemovedPerRequestMethods = [RequestMethods.Initialize, RequestMethods.Ping, "logging/setLevel",
        RequestMethods.ResourcesSubscribe, RequestMethods.ResourcesUnsubscribe];

    public static async Task HandlePostAsync(HttpContext context, McpToolCatalog catalog, ILoggerFactory loggerFactory)
    {
        var accept = context.Request.GetTypedHeaders().Accept;
        if (!accept.Any(a => a.MatchesMediaType("application/json")) || !accept.Any(a => a.MatchesMediaType("text/event-stream")))
        {
            await ProblemAsync(context, StatusCodes.Status406NotAcceptable, "not-acceptable", "Not Acceptable",
                "Not Acceptable: Client must accept both application/json and text/event-stream");
            return;
        }
        if (!context.Request.HasJsonContentType())
        {
            await ProblemAsync(context, StatusCodes.Status415UnsupportedMediaType, Problems.UnsupportedMediaType, "Unsupported Media Type",
                "The POST body must be one JSON-RPC message with Content-Type: application/json.");
            return;
        }

        if (await ReadMessageAsync(context) is not { } message)
            return;

        var requestId = message is JsonRpcRequest request ? request.Id : default;
        var version = context.Request.Headers[ProtocolVersionHeader].ToString();
        if (version.Length > 0 && !SupportedProtocolVersions.Contains(version))
        {
            await ProblemAsync(context, StatusCodes.Status400BadRequest, "unsupported-protocol-version", "Unsupported protocol version",
                $"Bad Request: The MCP-Protocol-Version header value '{version}' is not supported.", (int)McpErrorCode.UnsupportedProtocolVersion, requestId,
                new JsonObject { ["supported"] = new JsonArray([.. SupportedProtocolVersions.Select(v => JsonValue.Create(v))]), ["requested"] = version });
            return;
        }
        var perRequest = version == PerRequestMetadataVersion;
        if (CheckEnvelope(context, message, version) is { } envelope)
        {
            await ProblemAsync(context, StatusCodes.Status400BadRequest, "invalid-mcp-request", "Invalid MCP request", envelope.Message, envelope.Code, requestId);
            return;
        }
        if (perRequest && message is JsonRpcRequest { Method: var removed } && RemovedPerRequestMethods.Contains(removed))
        {
            await ProblemAsync(context, StatusCodes.Status404NotFound, "method-not-found", "Method not found",
                $"Method '{removed}' is not available on protocol version '{version}'.", (int)McpErrorCode.MethodNotFound, requestId);
            return;
        }
        // The 2026-07-28 revision has no sessions at all; older clients only send an id a stateful server gave them.
        if (!perRequest && context.Request.Headers[SessionIdHeader].ToString().Length > 0)
        {
            await ProblemAsync(context, StatusCodes.Status400BadRequest, "sessions-not-supported", "Sessions not supported",
                "Bad Request: The Mcp-Session-Id header is not supported in stateless mode", requestId: requestId);
            return;
        }
        if (version.Length > 0)
        {
            message.Context ??= new();
            message.Context.ProtocolVersion = version;
        }

        try
        {
            await ServeAsync(context, message, perRequest, catalog, loggerFactory);
        }
        catch (JsonException) when (!context.Response.HasStarted)
        {
            // The SDK reads a method's params into its own types while starting to answer (initialize without capabilities...).
            context.Response.Headers.Remove("Content-Type");
            context.Response.Headers.Remove("Content-Encoding");
            await ProblemAsync(context, StatusCodes.Status400BadRequest, "invalid-params", "Invalid params",
                "Bad Request: the params of this request do not have the shape its method needs.", (int)McpErrorCode.InvalidParams, requestId);
        }
    }

    static async Task ServeAsync(HttpContext context, JsonRpcMessage message, bool perRequest, McpToolCatalog catalog, ILoggerFactory loggerFactory)
    {
        var transport = new StreamableHttpServerTransport(loggerFactory) { Stateless = true };
        // The request's services, no scope per message: the server lives exactly as long as this request.
        var server = ModelContextProtocol.Server.McpServer.Create(transport, CreateOptions(context, catalog), loggerFactory, context.RequestServices);
        var run = server.RunAsync(context.RequestAborted);
        try
        {
            // SEP-2575: a JSON-RPC error as the first answer of a 2026-07-28 request also sets the HTTP status.
            Func<JsonRpcMessage?, ValueTask>? onResponseStarting = !perRequest ? null : first =>
            {
                if (first is JsonRpcError { Error: { } error } && !context.Response.HasStarted)
                    context.Response.StatusCode = (McpErrorCode)error.Code switch
                    {
                        McpErrorCode.MethodNotFound => StatusCodes.Status404NotFound,
                        McpErrorCode.MissingRequiredClientCapability or McpErrorCode.UnsupportedProtocolVersion
                            or McpErrorCode.HeaderMismatch => StatusCodes.Status400BadRequest,
                        _ => context.Response.StatusCode,
                    };
                return default;
            };

            context.Response.Headers.ContentType = "text/event-stream";
            context.Response.Headers.CacheControl = "no-cache,no-store";
            context.Response.Headers.ContentEncoding = "identity";
            context.Features.GetRequiredFeature<IHttpResponseBodyFeature>().DisableBuffering();
            if (!await transport.HandlePostRequestAsync(message, context.Response.Body, onResponseStarting, context.RequestAborted))
            {
                // A notification or a response: nothing to answer.
                context.Response.Headers.ContentType = (string?)null;
                context.Response.StatusCode = StatusCodes.Status202Accepted;
            }
        }
        finally
        {
            await transport.DisposeAsync();
            try
            {
                await run;
            }
            catch (OperationCanceledException)
            {
                // The client went away.
            }
            await server.DisposeAsync();
        }
    }

    static McpServerOptions CreateOptions(HttpContext context, McpToolCatalog catalog)
    {
        var tools = new McpServerPrimitiveCollection<McpServerTool>();
        foreach (var tool in catalog.Tools) tools.Add(tool);
        var options = new McpServerOptions
        {
            ServerInfo = new Implementation { Name = "sessions-mcpserver", Title = "Sessions MCP server", Version = "1.0.0" },
            ServerInstructions = "Paid tools over a payer's own storage, vault and session. Call through the payment gate: priced tools " +
                                 "need an x402 payment or a session token (prices: GET /mcp/pricing or each tool's _meta[\"x402/price\"]).",
            ScopeRequests = false,
            ToolCollection = tools,
        };
        // A priced tool runs only on a paid request: not without the gate (no payer context), and not on a context the gate
        // signed only to say who asks (IdentifiedOnly: a free route or free tool, nothing charged). PayerRequired, never free service.
        options.Filters.Request.CallToolFilters.Add(next => async (request, cancellationToken) =>
            catalog.IsPriced(request.Params?.Name) && context.GetPayerContext() is not { IdentifiedOnly: false }
                ? ToolResults.PayerRequired(request.Params!.Name)
                : await next(request, cancellationToken));
        return options;
    }

    /// <summary>The one JSON-RPC message of the body, or null once a 400 (JSON-RPC Invalid Request) is written.</summary>
    static async Task<JsonRpcMessage?> ReadMessageAsync(HttpContext context)
    {
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
        if (TryReadMessage(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), out var ambiguous) is { } message)
            return message;
        await ProblemAsync(context, StatusCodes.Status400BadRequest, InvalidMessageCode, "Invalid JSON-RPC message",
            "Bad Request: The POST body did not contain a valid JSON-RPC message" + (ambiguous
                ? ": a member name is repeated (member names must be unique, also ignoring case)."
                : ": send one JSON-RPC 2.0 request, notification or response object."), (int)McpErrorCode.InvalidRequest);
        return null;
    }

    /// <summary>
    /// The body's one JSON-RPC message, or null: not JSON, not a message, or a member name repeated exactly or in another case
    /// (<paramref name="ambiguous"/>: which one counts is the reader's choice, and the gate priced the call by one of them).
    /// Never throws for any body (the SDK's converters throw more than JsonException on members of the wrong shape).
    /// </summary>
    public static JsonRpcMessage? TryReadMessage(ReadOnlyMemory<byte> body, out bool ambiguous)
    {
        if (UnambiguousJson.TryParse(body, out ambiguous) is not JsonObject)
            return null;
        try
        {
            return JsonSerializer.Deserialize(body.Span,
                (System.Text.Json.Serialization.Metadata.JsonTypeInfo<JsonRpcMessage>)McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(JsonRpcMessage)));
        }
        catch (Exception exception) when (exception is JsonException or ArgumentException or FormatException or InvalidOperationException
                                              or NotSupportedException or OverflowException)
        {
            return null;
        }
    }

    /// <summary>The envelope checks of the SDK for the 2026-07-28 revision; null when the message is fine.</summary>
    static JsonRpcErrorDetail? CheckEnvelope(HttpContext context, JsonRpcMessage message, string version)
    {
        var parameters = message switch
        {
            JsonRpcRequest r => r.Params,
            JsonRpcNotification n => n.Params,
            _ => null,
        };
        if (message is not (JsonRpcRequest or JsonRpcNotification)) return null;
        var method = message is JsonRpcRequest req ? req.Method : ((JsonRpcNotification)message).Method;
        var meta = (parameters as JsonObject)?["_meta"] as JsonObject;
        var metaVersion = meta?[MetaKeys.ProtocolVersion] is JsonValue v && v.TryGetValue(out string? s) ? s : null;

        if (method == RequestMethods.Initialize && version.Length > 0 && (parameters as JsonObject)?["protocolVersion"] is JsonValue iv
            && iv.TryGetValue(out string? initVersion) && initVersion != version)
            return Error(McpErrorCode.HeaderMismatch,
                $"Bad Request: The {ProtocolVersionHeader} header value '{version}' does not match body params.protocolVersion value '{initVersion}'.");
        if (version != PerRequestMetadataVersion && metaVersion != PerRequestMetadataVersion) return null;
        if (version.Length == 0)
            return Error(McpErrorCode.HeaderMismatch,
                $"Bad Request: The {ProtocolVersionHeader} header is required when the request body declares a per-request metadata protocol version.");
        if (message is JsonRpcRequest && metaVersion is null)
            return Error(McpErrorCode.InvalidParams, $"Requests using protocol version '{version}' must include '_meta/{MetaKeys.ProtocolVersion}'.");
        if (metaVersion is not null && metaVersion != version)
            return Error(McpErrorCode.HeaderMismatch,
                $"Bad Request: The {ProtocolVersionHeader} header value '{version}' does not match body _meta/{MetaKeys.ProtocolVersion} value '{metaVersion}'.");

        // Standard headers: Mcp-Method always, Mcp-Name for calls that name a primitive (lets proxies route without the body).
        var methodHeader = context.Request.Headers[MethodHeader].ToString().Trim();
        if (methodHeader.Length == 0) return Error(McpErrorCode.HeaderMismatch, $"Missing required {MethodHeader} header.");
        if (methodHeader != method)
            return Error(McpErrorCode.HeaderMismatch, $"Header mismatch: {MethodHeader} header value '{methodHeader}' does not match body value '{method}'.");
        var nameProperty = method switch
        {
            RequestMethods.ToolsCall or RequestMethods.PromptsGet => "name",
            RequestMethods.ResourcesRead => "uri",
            _ => null,
        };
        if (nameProperty is not null)
        {
            if (!context.Request.Headers.ContainsKey(NameHeader)) return Error(McpErrorCode.HeaderMismatch, $"Missing required {NameHeader} header.");
            var nameHeader = context.Request.Headers[NameHeader].ToString().Trim();
            var nameBody = (parameters as JsonObject)?[nameProperty] is JsonValue nv && nv.TryGetValue(out string? n) ? n : null;
            if (nameHeader != nameBody)
                return Error(McpErrorCode.HeaderMismatch, $"Header mismatch: {NameHeader} header value '{nameHeader}' does not match body value '{nameBody}'.");
        }
        if (message is JsonRpcRequest && meta?[MetaKeys.ClientCapabilities] is not JsonObject)
            return Error(McpErrorCode.InvalidParams,
                $"Requests using protocol version '{version}' must include '_meta/{MetaKeys.ClientCapabilities}' as a JSON object.");
        return null;

        static JsonRpcErrorDetail Error(McpErrorCode code, string text) => new() { Code = (int)code, Message = text };
    }

    /// <summary>problem+json that is also the SDK's JSON-RPC error (<c>jsonrpc</c>, <c>id</c>, <c>error</c>), for either kind of client.</summary>
    internal static IResult Problem(int status, string problemCode, string title, string detail, int code = -32000, RequestId requestId = default,
        JsonNode? data = null)
    {
        var error = new JsonObject { ["code"] = code, ["message"] = detail };
        if (data is not null) error["data"] = data;
        return Problems.Coded(status, problemCode, title, detail, new Dictionary<string, object?>
        {
            ["jsonrpc"] = "2.0",
            ["id"] = JsonSerializer.SerializeToNode(requestId, McpJsonUtilities.DefaultOptions),
            ["error"] = error,
        });
    }

    static Task ProblemAsync(HttpContext context, int status, string problemCode, string title, string detail, int code = -32000,
        RequestId requestId = default, JsonNode? data = null) =>
        Problem(status, problemCode, title, detail, code, requestId, data).ExecuteAsync(context);
}
