using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using Sessions.PaymentGate.Mpp;
using Sessions.PaymentGate.Paywall;
using Sessions.PaymentGate.Pricing;
using Sessions.PaymentGate.Sessions;
using Sessions.ServiceDefaults.Errors;
using Sessions.Payments.X402;
using Yarp.ReverseProxy.Model;

namespace Sessions.PaymentGate.Mcp;

/// <summary>
/// The paywall step for MCP routes (<c>"Mcp": true</c>, Streamable HTTP). It reads the one JSON-RPC message of a POST:
/// <c>initialize</c>, <c>tools/list</c>, notifications and free tools pass (with a <c>Payment-Session</c> token the payer is
/// identified, not charged, so free tools can serve the payer's data); a priced <c>tools/call</c> (price from the service's
/// <c>GET /mcp/pricing</c>) is paid with <c>params._meta["x402/payment"]</c> or an MPP credential in
/// <c>params._meta["org.paymentauth/credential"]</c> (verify, claim, forward, settle exactly like an HTTP payment, settled
/// only for a result without isError) or with a session token (debited, credited back on a tool error); unpaid, it gets
/// payment required in the client's transport (<see cref="McpToolCall"/>). GET and DELETE go through (the server answers 405).
/// </summary>
public sealed partial class McpGate(McpPricing pricing, PaywallStep paywall, SessionSpending sessions, MppPayments mppPayments,
    IOptions<GateOptions> options, ILogger<McpGate> logger)
{
    public async Task InvokeAsync(HttpContext context, Func<Task> next, GateRoute route)
    {
        // A bearer secret no upstream needs; payments arrive in the body, PAYMENT-SIGNATURE was already removed.
        var token = SessionSpending.TakeToken(context.Request);
        if (!HttpMethods.IsPost(context.Request.Method))
        {
            await next();
            return;
        }
        var body = await ReadBodyAsync(context);
        if (body is null)
            return;
        var request = McpRequest.TryParse(body, out var isBatch, out var ambiguous);
        if (ambiguous)
        {
            // Which of two same-named members counts is the reader's choice: refused here, so no price is looked up for one
            // tool while the server runs another (McpServer refuses such a message too).
            await WriteJsonRpcErrorAsync(context, StatusCodes.Status400BadRequest, InvalidRequestCode,
                "Bad Request: The POST body did not contain a valid JSON-RPC message: a member name is repeated (member names must be unique, also ignoring case); nothing was forwarded or charged.");
            return;
        }
        if (isBatch)
        {
            // One message per POST (the server says so too); the gate will not price a batch it would have to split.
            await WriteJsonRpcErrorAsync(context, StatusCodes.Status400BadRequest, InvalidRequestCode,
                "Bad Request: Batches are not supported: send one JSON-RPC message per POST.");
            return;
        }
        if (request?.ToolName is not { } toolName)
        {
            if (request?.Method == "tools/call")
            {
                // A tools/call the gate cannot price (no id, no tool name): forwarded with no payer, so nothing paid can run.
                await ForwardFreeAsync(context, next, route, request, body, token: null);
                return;
            }
            // initialize, tools/list, notifications, responses, or something the server will reject itself.
            await ForwardFreeAsync(context, next, route, request, body, token);
            return;
        }

        var prices = await pricing.GetAsync(route, refresh: false, context.RequestAborted);
        McpTool? tool = null;
        if (prices is not null && !prices.Tools.TryGetValue(toolName, out tool))
            (await pricing.GetAsync(route, refresh: true, context.RequestAborted))?.Tools.TryGetValue(toolName, out tool);
        if (prices is null)
        {
            // Fail closed: without its price a tool call is neither forwarded unpaid nor guessed at.
            LogPricesUnknown(route.Service, toolName);
            context.Response.Headers.RetryAfter = "5";
            await WriteUnavailableAsync(context, request.Id, "Tool prices unavailable",
                $"The gate cannot learn the price of '{toolName}' from {route.Service} right now; nothing was forwarded or charged. Retry later.");
            return;
        }
        if (tool is null)
        {
            // Not a tool the service lists: forwarded with no payer at all, so the server answers "unknown tool" and nothing runs paid.
            await ForwardFreeAsync(context, next, route, request, body, token: null);
            return;
        }
        if (tool.IsFree)
        {
            await ForwardFreeAsync(context, next, route, request, body, token);
            return;
        }
        await PayToolAsync(context, next, request, tool, token);
    }

    async Task PayToolAsync(HttpContext context, Func<Task> next, McpRequest request, McpTool tool, string? token)
    {
        var toolRoute = tool.Route!;
        var resourceUrl = $"mcp://tool/{tool.Name}";
        var payment = request.TakeMeta(McpRequest.PaymentMetaKey, out var paymentPresent);
        var credential = request.TakeMeta(McpRequest.CredentialMetaKey, out var credentialPresent);
        // The client's transport: an MPP credential, or mppx's Accept-Payment header on an unpaid call, means MPP's answers.
        var mpp = credentialPresent || (!paymentPresent && context.Request.Headers.ContainsKey(MppResponses.AcceptPaymentHeader));
        context.Features.Set<IPaidAnswerFormat>(new McpToolCall(request.Id!, tool.Name, AnswersAsSseOnly(context.Request), mpp));
        SetBody(context, request.ToUtf8Bytes());
        // The gate must read the answer to know whether to charge: an encoded one would pass as "unreadable, not charged".
        context.Request.Headers.Remove(HeaderNames.AcceptEncoding);
        if (context.GetReverseProxyFeature().AvailableDestinations.Count == 0)
        {
            await PaywallResponses.WriteUnavailableAsync(context, "Upstream unavailable", $"No endpoint of service '{toolRoute.Service}' is available.");
            return;
        }
        // A payment wins over a session token, as on every route.
        if (!paymentPresent && !credentialPresent && token is not null && await sessions.TryServeAsync(context, next, toolRoute, resourceUrl, token))
            return;
        var howToPay = $"put an x402 PaymentPayload in params._meta[\"{McpRequest.PaymentMetaKey}\"] or an MPP credential in params._meta[\"{McpRequest.CredentialMetaKey}\"]";
        if (!paymentPresent && !credentialPresent)
        {
            if (context.Items[SessionSpending.UnusableReasonItem] is string unusable)
                await paywall.PaymentRequiredAsync(context, toolRoute, resourceUrl, "session_unusable",
                    $"{unusable}: pay this call ({howToPay}) or open a new session at /api/sessions");
            else
                await paywall.PaymentRequiredAsync(context, toolRoute, resourceUrl, "missing", $"Payment required: {howToPay}, or send a Payment-Session header");
            return;
        }
        if (paymentPresent && credentialPresent)
        {
            context.Items[MppResponses.ProblemTypeItem] = MppResponses.BadRequest;
            await paywall.PaymentRequiredAsync(context, toolRoute, resourceUrl, "malformed",
                "Send one payment per call: both an x402 payment and an MPP credential were sent.");
            return;
        }
        var attempt = credentialPresent
            ? await mppPayments.ReadMcpAttemptAsync(context, paywall, toolRoute, resourceUrl, credential)
            : await ReadX402AttemptAsync(context, toolRoute, resourceUrl, payment);
        if (attempt is not null)
            await paywall.PayAndForwardAsync(context, next, attempt);
    }

    /// <summary>The x402 PaymentPayload object read like a PAYMENT-SIGNATURE header, or null after answering payment required.</summary>
    async Task<PaymentAttempt?> ReadX402AttemptAsync(HttpContext context, GateRoute toolRoute, string resourceUrl, JsonNode? payment)
    {
        if (payment is not JsonObject)
        {
            await paywall.PaymentRequiredAsync(context, toolRoute, resourceUrl, "malformed",
                $"_meta[\"{McpRequest.PaymentMetaKey}\"] must be a PaymentPayload object (not base64)");
            return null;
        }
        // The same strict reading as a PAYMENT-SIGNATURE header (its base64 form also keys the replay guard's redemption).
        var encoded = Convert.ToBase64String(Encoding.UTF8.GetBytes(payment.ToJsonString()));
        var decoded = X402HeaderCodec.DecodePaymentPayload(encoded, PaywallStep.MaxPaymentHeaderLength);
        if (!decoded.Succeeded || decoded.Value!.V2 is null)
        {
            await paywall.PaymentRequiredAsync(context, toolRoute, resourceUrl, "malformed",
                $"invalid _meta[\"{McpRequest.PaymentMetaKey}\"]: {(decoded.Succeeded ? "MCP payments are x402 v2 PaymentPayloads" : decoded.Message)}");
            return null;
        }
        var attempt = PaymentAttempt.TryCreate(toolRoute, resourceUrl, encoded, decoded.Value, out var matchError);
        if (attempt is null)
            await paywall.PaymentRequiredAsync(context, toolRoute, resourceUrl, "unmatched", matchError);
        return attempt;
    }

    /// <summary>Forwards unpaid; a session token names the payer (free tools such as session-status serve the payer's data).</summary>
    async Task ForwardFreeAsync(HttpContext context, Func<Task> next, GateRoute route, McpRequest? request, byte[] body, string? token)
    {
        // A payment sent for something free is not taken, and not shown to the upstream either.
        var taken = false;
        if (request is not null)
        {
            request.TakeMeta(McpRequest.PaymentMetaKey, out var x402Sent);
            request.TakeMeta(McpRequest.CredentialMetaKey, out var mppSent);
            taken = x402Sent || mppSent;
        }
        SetBody(context, taken ? request!.ToUtf8Bytes() : body);
        if (token is not null && request is not null)
            await sessions.IdentifyAsync(context, next, route, token);
        else
            await next();
    }

    /// <summary>The body in memory (the gate must read it to price it), or null after answering 413.</summary>
    async Task<byte[]?> ReadBodyAsync(HttpContext context)
    {
        var max = options.Value.Mcp.MaxRequestBytes;
        if (context.Request.ContentLength > max)
        {
            await TooLargeAsync(context, max);
            return null;
        }
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await context.Request.Body.ReadAsync(chunk, context.RequestAborted)) > 0)
        {
            if (buffer.Length + read > max)
            {
                await TooLargeAsync(context, max);
                return null;
            }
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    static Task TooLargeAsync(HttpContext context, int max) =>
        WriteJsonRpcErrorAsync(context, StatusCodes.Status413PayloadTooLarge, InvalidRequestCode,
            $"Payload Too Large: the gate reads MCP requests of at most {max} bytes.");

    /// <summary>What YARP forwards from now on: exactly these bytes.</summary>
    static void SetBody(HttpContext context, byte[] body)
    {
        context.Request.Headers.Remove(HeaderNames.TransferEncoding);
        context.Request.Body = new MemoryStream(body, writable: false);
        context.Request.ContentLength = body.Length;
    }

    /// <summary>Streamable HTTP clients accept both; one that accepts only SSE gets the gate's own answers as an SSE event.</summary>
    static bool AnswersAsSseOnly(HttpRequest request)
    {
        var accept = request.Headers.Accept.ToString();
        return accept.Contains("text/event-stream", StringComparison.OrdinalIgnoreCase)
            && !accept.Contains("application/json", StringComparison.OrdinalIgnoreCase);
    }

    const int InvalidRequestCode = -32600;

    /// <summary>
    /// A message the gate will not read, as McpServer (the MCP SDK's Streamable HTTP handler) answers one: the JSON-RPC error
    /// alone, <c>application/json</c>, <c>id</c> null (docs/mcp-server.md, "Errors").
    /// </summary>
    static Task WriteJsonRpcErrorAsync(HttpContext context, int status, int code, string message)
    {
        context.Response.Headers.CacheControl = "no-store";
        return Results.Json(McpToolCall.JsonRpcError(null, code, message), statusCode: status).ExecuteAsync(context);
    }

    /// <summary>503 as the paywall answers a paid call it cannot serve: problem+json that also carries the call's JSON-RPC error.</summary>
    static Task WriteUnavailableAsync(HttpContext context, JsonNode? id, string title, string detail)
    {
        context.Response.Headers.CacheControl = "no-store";
        return Problems.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, title.ToLowerInvariant().Replace(' ', '-'), title, detail,
            McpToolCall.JsonRpcError(id, McpToolCall.InternalErrorCode, $"{title}: {detail}"));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "tools/call {Tool} refused with 503: the tool prices of {Service} are unknown")]
    partial void LogPricesUnknown(string service, string tool);
}
