using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Sessions.PaymentGate.Paywall;
using Sessions.PaymentGate.Pricing;
using Sessions.Payments.X402;

namespace Sessions.PaymentGate.Mcp;

/// <summary>
/// A priced <c>tools/call</c> on its way through the paywall: the paywall's answers in x402's MCP transport
/// (PROTOCOLS.md §1, x402 transports-v2/mcp.md). Payment required is a tool result (<c>isError: true</c>,
/// <c>structuredContent</c> = PaymentRequired, <c>content[0].text</c> = the same JSON) with HTTP 200; a served result
/// gets <c>_meta["x402/payment-response"]</c>; a tool error is a failure (nothing settled, a session debit credited back).
/// </summary>
public sealed class McpToolCall(JsonNode id, string tool, bool answerAsSse) : IPaidAnswerFormat
{
    public string Tool => tool;

    public bool IsFailure(HttpResponse response, ReadOnlyMemory<byte> body) =>
        McpAnswer.Find(response.ContentType, body, id) is not { IsSuccessfulResult: true };

    public ReadOnlyMemory<byte> WithSettlement(HttpResponse response, ReadOnlyMemory<byte> body, SettleResponse settlement)
    {
        // Only called for an answer IsFailure accepted, so the result is there.
        var answer = McpAnswer.Find(response.ContentType, body, id)!;
        var result = (JsonObject)answer.Message["result"]!;
        if (result["_meta"] is not JsonObject meta)
            result["_meta"] = meta = new JsonObject();
        meta[McpRequest.PaymentResponseMetaKey] = JsonSerializer.SerializeToNode(settlement, X402JsonContext.Strict.SettleResponse);
        return answer.ToUtf8Bytes();
    }

    public async Task WritePaymentRequiredAsync(HttpContext context, GateRoute route, string resourceUrl, string error, SettleResponse? settlement,
        IReadOnlyDictionary<string, object?>? extra)
    {
        var required = JsonSerializer.SerializeToNode(new PaymentRequired
        {
            Error = error,
            Resource = new ResourceInfo { Url = resourceUrl, Description = route.Description, MimeType = route.MimeType },
            Accepts = [route.Requirements!],
        }, X402JsonContext.Strict.PaymentRequired)!.AsObject();
        // A refused settlement says why inside the PaymentRequired (transports-v2/mcp.md "Settlement Failure").
        if (settlement is not null)
            required[McpRequest.PaymentResponseMetaKey] = JsonSerializer.SerializeToNode(settlement, X402JsonContext.Strict.SettleResponse);
        // Members beside the x402 ones (a session's top-up hint); x402 clients ignore what they do not know.
        foreach (var (name, value) in extra ?? new Dictionary<string, object?>())
            required[name] = JsonSerializer.SerializeToNode(value, JsonSerializerOptions.Web);

        var result = new JsonObject
        {
            ["content"] = new JsonArray(new JsonObject { ["type"] = "text", ["text"] = required.ToJsonString(McpRequest.WriteOptions) }),
            ["structuredContent"] = required,
            ["isError"] = true,
        };
        await WriteMessageAsync(context, new JsonObject { ["jsonrpc"] = "2.0", ["id"] = id.DeepClone(), ["result"] = result });
    }

    /// <summary>A JSON-RPC message as the whole answer (200): JSON, or one SSE event for a client that accepts only SSE.</summary>
    async Task WriteMessageAsync(HttpContext context, JsonObject message)
    {
        var response = context.Response;
        response.Clear();
        response.StatusCode = StatusCodes.Status200OK;
        response.Headers.CacheControl = "no-store";
        var json = message.ToJsonString(McpRequest.WriteOptions);
        var bytes = answerAsSse ? Encoding.UTF8.GetBytes($"event: message\ndata: {json}\n\n") : Encoding.UTF8.GetBytes(json);
        response.ContentType = answerAsSse ? "text/event-stream" : "application/json";
        response.ContentLength = bytes.Length;
        await response.Body.WriteAsync(bytes, context.RequestAborted);
    }
}
