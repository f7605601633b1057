using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Sessions.Payments.Mpp;
using Sessions.Payments.X402;
using Sessions.ServiceDefaults.Errors;

namespace Sessions.PaymentGate.Paywall;

/// <summary>The answers of the paywall itself: 402 in both x402 generations, settlement headers, 503/431 problems.</summary>
public static class PaywallResponses
{
    /// <summary>
    /// 402 for both client generations at once: header <c>PAYMENT-REQUIRED</c> = base64 v2 PaymentRequired (read first by
    /// @x402/fetch) and a v1 JSON body <c>{x402Version:1, error, accepts}</c> (read by x402-fetch 1.x); an MPP client gets
    /// MPP's problem as the body instead. <paramref name="challenge"/>: MPP's offer of the same route (x402 clients ignore it).
    /// </summary>
    /// <remarks>The refusal's <c>Extra</c> members go beside <c>accepts</c> in the v1 body (x402 clients ignore unknown
    /// members), e.g. a session's <c>topUp</c> hint. <paramref name="sessions"/>: the route's organisation sells sessions.</remarks>
    public static async Task WritePaymentRequiredAsync(HttpContext context, PaymentAnswer.PaymentRequired refusal, PaymentChallenge? challenge,
        bool mppAnswers, PaymentReceipt? receipt, Sessions.SessionAdvertisement? sessions = null)
    {
        var (route, resourceUrl, error, extra) = (refusal.Route, refusal.ResourceUrl, refusal.Error, refusal.Extra);
        var response = context.Response;
        response.Clear();
        response.StatusCode = StatusCodes.Status402PaymentRequired;
        response.Headers.CacheControl = "no-store";
        response.Headers[X402HeaderCodec.PaymentRequiredHeader] = X402HeaderCodec.Encode(new PaymentRequired
        {
            Error = error,
            Resource = new ResourceInfo { Url = resourceUrl, Description = route.Description, MimeType = route.MimeType },
            Accepts = route.Offers,
            Extensions = sessions?.Extensions,
        });
        if (sessions is not null)
            response.Headers.Link = sessions.Link;
        Mpp.MppResponses.AddChallenge(response, challenge);
        if (refusal.Settlement is { } settlement)
            AddSettlementHeaders(response, settlement, receipt);
        if (mppAnswers)
        {
            await Mpp.MppResponses.WritePaymentProblemAsync(context, refusal);
            return;
        }

        IReadOnlyList<PaymentRequirementsV1> accepts = route.RequirementsV1(resourceUrl) is { } v1 ? [v1] : [];
        response.ContentType = "application/json";
        var body = new PaymentRequiredV1 { Error = error, Accepts = accepts };
        if (extra is null)
        {
            await JsonSerializer.SerializeAsync(response.Body, body, X402JsonContext.Strict.PaymentRequiredV1, context.RequestAborted);
            return;
        }
        var json = JsonSerializer.SerializeToNode(body, X402JsonContext.Strict.PaymentRequiredV1)!.AsObject();
        foreach (var (name, value) in extra)
            json[name] = JsonSerializer.SerializeToNode(value, JsonSerializerOptions.Web);
        await response.WriteAsync(json.ToJsonString(), context.RequestAborted);
    }

    /// <summary>
    /// Both generations' settlement headers (@x402/fetch reads PAYMENT-RESPONSE, then X-PAYMENT-RESPONSE), and MPP's
    /// <c>Payment-Receipt</c> when the client speaks MPP (<paramref name="receipt"/>).
    /// </summary>
    public static void AddSettlementHeaders(HttpResponse response, SettleResponse settlement, PaymentReceipt? receipt)
    {
        var encoded = X402HeaderCodec.Encode(settlement);
        response.Headers[X402HeaderCodec.PaymentResponseHeader] = encoded;
        response.Headers[X402HeaderCodec.PaymentResponseHeaderV1] = encoded;
        // Browsers' fetch only exposes these to scripts when listed.
        response.Headers.AccessControlExposeHeaders = $"{X402HeaderCodec.PaymentResponseHeader}, {X402HeaderCodec.PaymentResponseHeaderV1}";
        if (receipt is not null)
            Mpp.MppResponses.AddReceipt(response, receipt);
    }

    /// <summary>
    /// 503 problem+json: the gate cannot take payments right now, nothing was forwarded (or delivered). For a paid MCP call
    /// it is also the JSON-RPC error of that call (<paramref name="format"/>, <see cref="IPaidAnswerFormat.ProblemEnvelope"/>).
    /// </summary>
    public static Task WriteUnavailableAsync(HttpContext context, string title, string detail, string? paymentId = null, int retryAfterSeconds = 5,
        IPaidAnswerFormat? format = null)
    {
        context.Response.Clear();
        context.Response.Headers.RetryAfter = retryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        context.Response.Headers.CacheControl = "no-store";
        var extensions = new Dictionary<string, object?>();
        if (paymentId is not null)
            extensions["paymentId"] = paymentId;
        if (format is not null)
            foreach (var (name, value) in format.ProblemEnvelope(StatusCodes.Status503ServiceUnavailable, $"{title}: {detail}", null))
                extensions[name] = value;
        // The code is the title's words ("Payment store unavailable" -> payment-store-unavailable): the titles are constants.
        return Problems.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, title.ToLowerInvariant().Replace(' ', '-'), title, detail, extensions);
    }

    /// <summary>
    /// A refusal decided elsewhere (SessionApi's problem for a mandate or a session), passed to the client as is, without a
    /// payment challenge; for a paid MCP call (<paramref name="format"/>) with the JSON-RPC error of that call beside the problem's members.
    /// </summary>
    public static Task WriteRefusalAsync(HttpContext context, int status, JsonElement problem, IPaidAnswerFormat? format = null)
    {
        context.Response.Clear();
        context.Response.Headers.CacheControl = "no-store";
        var body = problem.ValueKind == JsonValueKind.Object ? JsonObject.Create(problem)! : new JsonObject();
        var message = Text(body["detail"]) ?? Text(body["title"]) ?? $"Refused ({status})";
        var code = Text(body["code"]);
        if (format is not null)
            foreach (var (name, member) in format.ProblemEnvelope(status, message, code))
                body[name] = JsonSerializer.SerializeToNode(member, JsonSerializerOptions.Web);
        return Results.Json(body, statusCode: status, contentType: "application/problem+json").ExecuteAsync(context);

        static string? Text(JsonNode? node) => node is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;
    }

    /// <summary>431: a payment header longer than x402 ever needs is refused before it is even base64-decoded.</summary>
    public static Task WriteHeaderTooLargeAsync(HttpContext context, string headerName, int length, int limit)
    {
        context.Response.Clear();
        return Problems.WriteAsync(context, StatusCodes.Status431RequestHeaderFieldsTooLarge, "payment-header-too-large", "Payment header too large",
            $"{headerName} is {length} characters; the gate accepts at most {limit}.");
    }
}
