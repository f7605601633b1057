using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Sessions.PaymentGate.Mcp;
using Sessions.PaymentGate.Paywall;

namespace PaymentGate.Tests.Mcp;

// A refusal SessionApi decided (a mandate's 403/409) keeps its problem members; for a paid MCP call the JSON-RPC error of
// that call goes beside them, and an HTTP call gets the problem untouched.
public sealed class McpProblemEnvelopeTests
{
    static readonly JsonElement Refusal = JsonDocument.Parse("""
        {"type":"https://sessions.dev/problems/limit-exceeded","title":"Mandate limit exceeded","status":403,
         "detail":"maxPerDay would be exceeded: 500 left today.","code":"limit-exceeded","limit":"maxPerDay"}
        """).RootElement;

    static async Task<JsonObject> WriteAsync(IPaidAnswerFormat? format)
    {
        var context = new DefaultHttpContext { RequestServices = new ServiceCollection().AddLogging().BuildServiceProvider() };
        context.Response.Body = new MemoryStream();
        await PaywallResponses.WriteRefusalAsync(context, 403, Refusal, format);
        Assert.Equal((403, "application/problem+json"), (context.Response.StatusCode, context.Response.ContentType));
        context.Response.Body.Position = 0;
        return JsonNode.Parse(context.Response.Body)!.AsObject();
    }

    [Fact]
    public async Task A_paid_MCP_call_gets_the_problem_with_its_JSON_RPC_error()
    {
        var body = await WriteAsync(new McpToolCall(JsonValue.Create("call-7"), "put-content", answerAsSse: false, mpp: false));

        Assert.Equal(("limit-exceeded", "maxPerDay"), (body["code"]!.GetValue<string>(), body["limit"]!.GetValue<string>()));
        Assert.Equal(("2.0", "call-7"), (body["jsonrpc"]!.GetValue<string>(), body["id"]!.GetValue<string>()));
        var error = body["error"]!;
        Assert.Equal(McpToolCall.RefusedCode, error["code"]!.GetValue<int>());
        Assert.Equal("maxPerDay would be exceeded: 500 left today.", error["message"]!.GetValue<string>());
        Assert.Equal((403, "limit-exceeded"), (error["data"]!["httpStatus"]!.GetValue<int>(), error["data"]!["code"]!.GetValue<string>()));
    }

    [Fact]
    public async Task An_HTTP_call_gets_the_problem_as_it_was()
    {
        var body = await WriteAsync(null);

        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(Refusal.GetRawText()), body));
    }
}
