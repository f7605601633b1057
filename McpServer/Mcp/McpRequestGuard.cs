using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.Options;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using Sessions.ServiceDefaults.Json;

namespace Sessions.McpServer.Mcp;

/// <summary>
/// What the SDK's Streamable HTTP handler does not check, in front of it on <c>/mcp</c>: the browser <c>Origin</c> (403 unless
/// allowed or the request's own host); a JSON body must be one JSON-RPC message without repeated member names, exactly or in
/// another case (400 Invalid Request, nothing runs: which one counts is the reader's choice, and the gate priced the call by
/// one of them). Refusals are JSON-RPC errors in the SDK's own shape (docs/mcp-server.md, "Errors"), without internals.
/// </summary>
public sealed class McpRequestGuard(RequestDelegate next, IOptions<McpOptions> options)
{
    /// <summary>What the SDK's handler uses for its own HTTP-level refusals (406, 405...): JSON-RPC's generic server error.</summary>
    internal const int ServerError = -32000;

    public async Task InvokeAsync(HttpContext context)
    {
        var origin = context.Request.Headers.Origin.ToString();
        if (origin.Length > 0 && !options.Value.AllowedOrigins.Contains(origin, StringComparer.OrdinalIgnoreCase) && !IsSameOrigin(context.Request, origin))
        {
            await WriteErrorAsync(context, StatusCodes.Status403Forbidden, ServerError,
                $"Forbidden: the origin '{origin}' may not call this MCP server (configure {McpOptions.SectionName}:AllowedOrigins).");
            return;
        }
        if (!HttpMethods.IsPost(context.Request.Method) || !context.Request.HasJsonContentType())
        {
            await next(context);
            return;
        }
        if (await ReadMessageAsync(context.Request) is not { } message)
            return;
        try
        {
            await next(context);
        }
        catch (JsonException) when (!context.Response.HasStarted)
        {
            // The SDK reads a method's params into its own types while starting to answer (initialize without capabilities...)
            // and lets the exception escape: a 500 naming its types.
            context.Response.Clear();
            await WriteErrorAsync(context, StatusCodes.Status400BadRequest, (int)McpErrorCode.InvalidParams,
                "Bad Request: the params of this request do not have the shape its method needs.", message is JsonRpcRequest request ? request.Id : default);
        }
    }

    /// <summary>
    /// The body's one JSON-RPC message (the body rewound for the SDK), or null once a 400 Invalid Request is written: not JSON,
    /// a member name repeated, or not a message as the SDK reads it (from the request stream, where its reader also refuses
    /// unknown top-level members). The SDK's own answer to such a body quotes the exception (its types, line and byte
    /// position), and its reader throws more than JsonException on members of the wrong shape (a 500).
    /// </summary>
    static async Task<JsonRpcMessage?> ReadMessageAsync(HttpRequest request)
    {
        request.EnableBuffering();
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, request.HttpContext.RequestAborted);
        JsonRpcMessage? message = null;
        if (UnambiguousJson.TryParse(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), out var ambiguous) is JsonObject)
        {
            try
            {
                request.Body.Position = 0;
                message = await request.ReadFromJsonAsync(MessageType, request.HttpContext.RequestAborted);
            }
            catch (Exception exception) when (exception is JsonException or ArgumentException or FormatException or InvalidOperationException
                                                  or NotSupportedException or OverflowException)
            {
            }
        }
        request.Body.Position = 0;
        if (message is null)
            await WriteErrorAsync(request.HttpContext, StatusCodes.Status400BadRequest, (int)McpErrorCode.InvalidRequest,
                "Bad Request: The POST body did not contain a valid JSON-RPC message" + (ambiguous
                    ? ": a member name is repeated (member names must be unique, also ignoring case)."
                    : ": send one JSON-RPC 2.0 request, notification or response object (members jsonrpc, id, method, params, result, error)."));
        return message;
    }

    static readonly JsonTypeInfo<JsonRpcMessage> MessageType = (JsonTypeInfo<JsonRpcMessage>)McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(JsonRpcMessage));

    /// <summary>A JSON-RPC error as the SDK's handler writes its own (<c>application/json</c>; <c>id</c> null when no request was read).</summary>
    internal static Task WriteErrorAsync(HttpContext context, int status, int code, string message, RequestId id = default) =>
        Results.Json(new JsonRpcError { Id = id, Error = new JsonRpcErrorDetail { Code = code, Message = message } },
            McpJsonUtilities.DefaultOptions, statusCode: status).ExecuteAsync(context);

    // The scheme is not compared: TLS usually ends at a proxy, so the request is http while the page's origin is https.
    static bool IsSameOrigin(HttpRequest request, string origin) =>
        Uri.TryCreate(origin, UriKind.Absolute, out var uri) && request.Host.HasValue
        && string.Equals(request.Host.Host, uri.Host, StringComparison.OrdinalIgnoreCase)
        && (request.Host.Port ?? DefaultPort(request.Scheme)) == (uri.IsDefaultPort ? DefaultPort(uri.Scheme) : uri.Port);

    static int DefaultPort(string scheme) => string.Equals(scheme, Uri.UriSchemeHttps, StringComparison.OrdinalIgnoreCase) ? 443 : 80;
}
