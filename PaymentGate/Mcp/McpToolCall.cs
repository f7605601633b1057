using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Sessions.PaymentGate.Mpp;
using Sessions.PaymentGate.Paywall;
using Sessions.PaymentGate.Pricing;
using Sessions.Payments.Mpp;
using Sessions.Payments.X402;

namespace Sessions.PaymentGate.Mcp;

/// <summary>
/// A priced <c>tools/call</c> on its way through the paywall: the paywall's answers in the MCP transport the client speaks.
/// x402 (PROTOCOLS.md §1, x402 transports-v2/mcp.md): payment required is a tool result (<c>isError: true</c>,
/// <c>structuredContent</c> = PaymentRequired, <c>content[0].text</c> = the same JSON) carrying MPP's challenge in
/// <c>_meta["org.paymentauth/payment-required"]</c> too (mppx's McpClient pays from it); a served result gets
/// <c>_meta["x402/payment-response"]</c>. MPP (PROTOCOLS.md §2, mppx <c>Transport.mcp()</c>): payment required is the
/// JSON-RPC error -32042 (-32043 once a credential failed, -32602 for a malformed one) with <c>data {httpStatus,
/// challenges, problem?}</c>; a served result gets <c>_meta["org.paymentauth/receipt"]</c>. Both answer with HTTP 200;
/// a tool error is a failure either way (nothing settled, a session debit credited back).
/// </summary>
public sealed class McpToolCall(JsonNode id, string tool, bool answerAsSse, bool mpp) : IPaidAnswerFormat
{
    /// <summary>mppx's <c>Mcp.paymentRequiredCode</c>, <c>paymentVerificationFailedCode</c> and <c>invalidParamsCode</c>.</summary>
    public const int PaymentRequiredCode = -32042;
    public const int VerificationFailedCode = -32043;
    public const int InvalidParamsCode = -32602;
    /// <summary>JSON-RPC's internal error: the gate cannot answer the call right now (HTTP 503).</summary>
    public const int InternalErrorCode = -32603;
    /// <summary>In JSON-RPC's server-error range: the gate refused the call (a mandate's 403/409); <c>data</c> says why.</summary>
    public const int RefusedCode = -32000;

    public string Tool => tool;

    /// <summary>The answers are MPP's (the call carried an MPP credential, or the client sent <c>Accept-Payment</c>).</summary>
    public bool Mpp => mpp;

    public bool IsFailure(HttpResponse response, ReadOnlyMemory<byte> body) =>
        McpAnswer.Find(response.ContentType, body, id) is not { IsSuccessfulResult: true };

    public ReadOnlyMemory<byte> WithSettlement(HttpResponse response, ReadOnlyMemory<byte> body, SettleResponse? settlement, PaymentReceipt? receipt,
        string? challengeId, string? sessionsReceipt)
    {
        // Only called for an answer IsFailure accepted, so the result is there.
        var answer = McpAnswer.Find(response.ContentType, body, id)!;
        var result = (JsonObject)answer.Message["result"]!;
        if (result["_meta"] is not JsonObject meta)
            result["_meta"] = meta = new JsonObject();
        if (sessionsReceipt is not null)
            meta[Receipts.ReceiptIssuer.McpMetaKey] = sessionsReceipt;
        if (settlement is null)
            return answer.ToUtf8Bytes();
        if (mpp && receipt is not null)
        {
            // mppx's receipt with the id of the challenge it paid (Transport.mcp().respondReceipt).
            var json = JsonSerializer.SerializeToNode(receipt, MppJsonContext.Strict.PaymentReceipt)!;
            json["challengeId"] = challengeId;
            meta[McpRequest.ReceiptMetaKey] = json;
        }
        else
            meta[McpRequest.PaymentResponseMetaKey] = JsonSerializer.SerializeToNode(settlement, X402JsonContext.Strict.SettleResponse);
        return answer.ToUtf8Bytes();
    }

    public Task WritePaymentRequiredAsync(HttpContext context, PaymentAnswer.PaymentRequired refusal, PaymentChallenge? challenge)
    {
        var (route, resourceUrl, error, settlement, extra) = (refusal.Route, refusal.ResourceUrl, refusal.Error, refusal.Settlement, refusal.Extra);
        if (mpp && challenge is not null)
            return WriteMppErrorAsync(context, challenge, refusal);

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
        // The same offer in MPP's form: x402 clients ignore _meta, mppx's McpClient pays from it without any header.
        if (challenge is not null)
            result["_meta"] = new JsonObject
            {
                [McpRequest.PaymentRequiredMetaKey] = new JsonObject
                {
                    ["httpStatus"] = StatusCodes.Status402PaymentRequired, ["challenges"] = new JsonArray(MppResponses.ToJson(challenge)),
                },
            };
        return WriteMessageAsync(context, new JsonObject { ["jsonrpc"] = "2.0", ["id"] = id.DeepClone(), ["result"] = result });
    }

    public IReadOnlyDictionary<string, object?> ProblemEnvelope(int status, string message, string? code) =>
        JsonRpcError(id, status >= 500 ? InternalErrorCode : RefusedCode, message, new JsonObject { ["httpStatus"] = status, ["code"] = code });

    /// <summary>The members of a JSON-RPC error answer, to sit beside a problem's (problem+json that is also the JSON-RPC error).</summary>
    public static Dictionary<string, object?> JsonRpcError(JsonNode? id, int code, string message, JsonObject? data = null)
    {
        var error = new JsonObject { ["code"] = code, ["message"] = message };
        if (data is not null)
            error["data"] = data;
        return new Dictionary<string, object?> { ["jsonrpc"] = "2.0", ["id"] = id?.DeepClone(), ["error"] = error };
    }

    /// <summary>mppx's <c>respondChallenge</c>: the error code of the problem, a fresh challenge, the problem once a credential was read.</summary>
    Task WriteMppErrorAsync(HttpContext context, PaymentChallenge challenge, PaymentAnswer.PaymentRequired refusal)
    {
        var (error, extra) = (refusal.Error, refusal.Extra);
        var problem = MppResponses.ProblemJson(refusal, challenge.Id);
        var type = problem["type"]!.GetValue<string>()[MppResponses.ProblemBase.Length..];
        var code = type switch
        {
            MppResponses.PaymentRequired => PaymentRequiredCode,
            MppResponses.MalformedCredential => InvalidParamsCode,
            _ => VerificationFailedCode,
        };
        var data = new JsonObject { ["httpStatus"] = problem["status"]!.DeepClone(), ["challenges"] = new JsonArray(MppResponses.ToJson(challenge)) };
        // Like mppx, no problem for a call that simply has not paid yet; a session's hint (extra) still needs one.
        if (refusal.Reason is not "missing" || extra is { Count: > 0 })
            data["problem"] = problem;
        var message = new JsonObject
        {
            ["jsonrpc"] = "2.0", ["id"] = id.DeepClone(),
            ["error"] = new JsonObject { ["code"] = code, ["message"] = error, ["data"] = data },
        };
        return WriteMessageAsync(context, message);
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
