using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using Sessions.PaymentGate.Mpp;
using Sessions.PaymentGate.Paywall;
using Sessions.PaymentGate.Pricing;
using Sessions.PaymentGate.Sessions;
using Yarp.ReverseProxy.Model;

namespace Sessions.PaymentGate.Mcp;

/// <summary>
/// The payment kind of MCP routes (<c>"Mcp": true</c>, Streamable HTTP). It reads the one JSON-RPC message of a POST:
/// <c>initialize</c>, <c>tools/list</c>, notifications and free tools pass (with a <c>Payment-Session</c> token the payer is
/// identified, not charged, so free tools can serve the payer's data); a priced <c>tools/call</c> (price from the service's
/// <c>GET /mcp/pricing</c>) is paid with <c>params._meta["x402/payment"]</c> or an MPP credential in
/// <c>params._meta["org.paymentauth/credential"]</c> (verify, claim, forward, settle exactly like an HTTP payment, settled
/// only for a result without isError) or with a session token (debited, credited back on a tool error); unpaid, it gets
/// payment required in the client's transport (<see cref="McpToolCall"/>). GET and DELETE go through (the server answers 405).
/// </summary>
public sealed partial class McpGate(McpPricing pricing, PaymentFlow flow, SessionSpending sessions, MppPayments mppPayments,
    IOptions<GateOptions> options, TimeProvider time, ILogger<McpGate> logger)
{
    /// <summary>
    /// The answer to a request on an MCP route; <paramref name="token"/> is its <c>Payment-Session</c> token and
    /// <paramref name="approvalId"/> its <c>Mandate-Approval</c>, if any.
    /// </summary>
    public async Task<PaymentAnswer> AnswerAsync(HttpContext context, Func<Task> next, GateRoute route, string? token, string? approvalId)
    {
        if (!HttpMethods.IsPost(context.Request.Method))
        {
            await next();
            return new PaymentAnswer.Forwarded();
        }
        var (body, tooLarge) = await ReadBodyAsync(context);
        if (body is null)
            return tooLarge!;
        var request = McpRequest.TryParse(body, out var isBatch, out var ambiguous);
        if (ambiguous)
            // Which of two same-named members counts is the reader's choice: refused here, so no price is looked up for one
            // tool while the server runs another (McpServer refuses such a message too).
            return new PaymentAnswer.JsonRpcError(StatusCodes.Status400BadRequest, InvalidRequestCode,
                "Bad Request: The POST body did not contain a valid JSON-RPC message: a member name is repeated (member names must be unique, also ignoring case); nothing was forwarded or charged.");
        if (isBatch)
            // One message per POST (the server says so too); the gate will not price a batch it would have to split.
            return new PaymentAnswer.JsonRpcError(StatusCodes.Status400BadRequest, InvalidRequestCode,
                "Bad Request: Batches are not supported: send one JSON-RPC message per POST.");
        if (request?.ToolName is not { } toolName)
        {
            if (request?.Method == "tools/call")
                // A tools/call the gate cannot price (no id, no tool name): forwarded with no payer, so nothing paid can run.
                return await ForwardFreeAsync(context, next, route, request, body, token: null);
            // initialize, tools/list, notifications, responses, or something the server will reject itself.
            return await ForwardFreeAsync(context, next, route, request, body, token);
        }

        var prices = await pricing.GetAsync(route, refresh: false, context.RequestAborted);
        McpTool? tool = null;
        if (prices is not null && !prices.Tools.TryGetValue(toolName, out tool))
            (await pricing.GetAsync(route, refresh: true, context.RequestAborted))?.Tools.TryGetValue(toolName, out tool);
        if (prices is null)
        {
            // Fail closed: without its price a tool call is neither forwarded unpaid nor guessed at.
            LogPricesUnknown(route.Service, toolName);
            return new PaymentAnswer.ToolCallUnavailable(request.Id, "Tool prices unavailable",
                $"The gate cannot learn the price of '{toolName}' from {route.Service} right now; nothing was forwarded or charged. Retry later.");
        }
        if (tool is null)
            // Not a tool the service lists: forwarded with no payer at all, so the server answers "unknown tool" and nothing runs paid.
            return await ForwardFreeAsync(context, next, route, request, body, token: null);
        if (tool.IsFree)
            return await ForwardFreeAsync(context, next, route, request, body, token);
        return await PayToolAsync(context, next, request, tool, token, approvalId);
    }

    async Task<PaymentAnswer> PayToolAsync(HttpContext context, Func<Task> next, McpRequest request, McpTool tool, string? token, string? approvalId)
    {
        var payment = request.TakeMeta(McpRequest.PaymentMetaKey, out var paymentPresent);
        var credential = request.TakeMeta(McpRequest.CredentialMetaKey, out var credentialPresent);
        // The client's transport: an MPP credential, or mppx's Accept-Payment header on an unpaid call, means MPP's answers.
        var mpp = credentialPresent || (!paymentPresent && context.Request.Headers.ContainsKey(MppResponses.AcceptPaymentHeader));
        var call = new McpToolCall(request.Id!, tool.Name, AnswersAsSseOnly(context.Request), mpp);
        SetBody(context, request.ToUtf8Bytes());
        // The gate must read the answer to know whether to charge: an encoded one would pass as "unreadable, not charged".
        context.Request.Headers.Remove(HeaderNames.AcceptEncoding);
        var sent = new ToolPayment(payment, paymentPresent, credential, credentialPresent, token, approvalId);
        var answer = await ChargeToolAsync(context, next, tool, call, sent);
        // Every answer to a priced call is given in the call's own transport.
        return answer with { Format = call };
    }

    /// <summary>
    /// What pays the call: its <c>_meta</c>'s x402 PaymentPayload or MPP credential (each possibly sent but null), else the
    /// session token; with the request's <c>Mandate-Approval</c>.
    /// </summary>
    sealed record ToolPayment(JsonNode? X402, bool X402Sent, JsonNode? Credential, bool CredentialSent, string? Token, string? ApprovalId);

    /// <summary>The priced tool call, paid with the x402 payment or MPP credential of its <c>_meta</c>, or from the session.</summary>
    async Task<PaymentAnswer> ChargeToolAsync(HttpContext context, Func<Task> next, McpTool tool, McpToolCall call, ToolPayment sent)
    {
        var (payment, paymentPresent, credential, credentialPresent, token, approvalId) = sent;
        var toolRoute = tool.Route!;
        var resourceUrl = $"mcp://tool/{tool.Name}";
        if (context.GetReverseProxyFeature().AvailableDestinations.Count == 0)
            return new PaymentAnswer.Unavailable("Upstream unavailable", $"No endpoint of service '{toolRoute.Service}' is available.");
        var howToPay = $"put an x402 PaymentPayload in params._meta[\"{McpRequest.PaymentMetaKey}\"] or an MPP credential in params._meta[\"{McpRequest.CredentialMetaKey}\"]";
        if (!paymentPresent && !credentialPresent)
        {
            if (token is null)
                return new PaymentAnswer.PaymentRequired(toolRoute, resourceUrl, "missing", $"Payment required: {howToPay}, or send a Payment-Session header");
            // A payment wins over a session token, as on every route.
            var (answer, unusable) = await sessions.PayAsync(context, next, toolRoute, resourceUrl, token, approvalId, call);
            return answer ?? new PaymentAnswer.PaymentRequired(toolRoute, resourceUrl, "session_unusable",
                $"{unusable}: pay this call ({howToPay}) or open a new session at /api/sessions");
        }
        if (paymentPresent && credentialPresent)
            return new PaymentAnswer.PaymentRequired(toolRoute, resourceUrl, "malformed",
                "Send one payment per call: both an x402 payment and an MPP credential were sent.", ProblemType: MppResponses.BadRequest);
        var (attempt, refusal) = credentialPresent
            ? mppPayments.ReadMcpAttempt(context, toolRoute, resourceUrl, credential)
            : ReadX402Attempt(toolRoute, resourceUrl, payment);
        return attempt is null ? refusal! : await flow.PayAndForwardAsync(context, next, attempt, approvalId, call);
    }

    /// <summary>The x402 PaymentPayload object read like a PAYMENT-SIGNATURE header, or the payment required to answer.</summary>
    (PaymentAttempt? Attempt, PaymentAnswer? Refusal) ReadX402Attempt(GateRoute toolRoute, string resourceUrl, JsonNode? payment)
    {
        if (payment is not JsonObject)
            return (null, new PaymentAnswer.PaymentRequired(toolRoute, resourceUrl, "malformed",
                $"_meta[\"{McpRequest.PaymentMetaKey}\"] must be a PaymentPayload object (not base64)"));
        // The same strict reading as a PAYMENT-SIGNATURE header (its base64 form also keys the replay guard's redemption).
        var encoded = Convert.ToBase64String(Encoding.UTF8.GetBytes(payment.ToJsonString()));
        return X402Payment.ReadPayload(toolRoute, resourceUrl, encoded, $"_meta[\"{McpRequest.PaymentMetaKey}\"]",
            v1Refusal: "MCP payments are x402 v2 PaymentPayloads", time.GetUtcNow());
    }

    /// <summary>Forwards unpaid; a session token names the payer (free tools such as session-status serve the payer's data).</summary>
    async Task<PaymentAnswer> ForwardFreeAsync(HttpContext context, Func<Task> next, GateRoute route, McpRequest? request, byte[] body, string? token)
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
            return await sessions.IdentifyAsync(context, next, route, token);
        await next();
        return new PaymentAnswer.Forwarded();
    }

    /// <summary>The body in memory (the gate must read it to price it), or the 413 to answer.</summary>
    async Task<(byte[]? Body, PaymentAnswer? TooLarge)> ReadBodyAsync(HttpContext context)
    {
        var max = options.Value.Mcp.MaxRequestBytes;
        if (context.Request.ContentLength > max)
            return (null, TooLarge(max));
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await context.Request.Body.ReadAsync(chunk, context.RequestAborted)) > 0)
        {
            if (buffer.Length + read > max)
                return (null, TooLarge(max));
            buffer.Write(chunk, 0, read);
        }
        return (buffer.ToArray(), null);
    }

    static PaymentAnswer TooLarge(int max) =>
        new PaymentAnswer.JsonRpcError(StatusCodes.Status413PayloadTooLarge, InvalidRequestCode,
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "tools/call {Tool} refused with 503: the tool prices of {Service} are unknown")]
    partial void LogPricesUnknown(string service, string tool);
}
