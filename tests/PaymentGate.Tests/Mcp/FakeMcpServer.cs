using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using PaymentGate.Tests.Facilitator;
using PaymentGate.Tests.Paywall;
using Sessions.Payments.X402;
using Sessions.Testing;

namespace PaymentGate.Tests.Mcp;

/// <summary>
/// What McpServer's /mcp does, reduced to what the gate needs: <c>GET /mcp/pricing</c> (switchable off), and one JSON-RPC
/// message per POST answered as JSON or, when <see cref="Sse"/>, as SSE with a log notification before the answer.
/// Tools: put-content $0.01, get-content $0.001, fail-tool $0.001 (always a tool error), session-status free.
/// It records every message with the payer context it came with.
/// </summary>
public sealed class FakeMcpServer : LoopbackServer
{
    public sealed record Call(string? Method, string? Tool, JsonObject? Body, string? PayerContext);

    public ConcurrentQueue<Call> Calls { get; } = new();
    public volatile bool Sse;
    public volatile bool PricingDown;
    int _pricingRequests;

    public int PricingRequests => _pricingRequests;

    public IEnumerable<Call> ToolCalls(string tool) => Calls.Where(c => c.Tool == tool);

    public static async Task<FakeMcpServer> StartAsync()
    {
        var server = new FakeMcpServer();
        await server.ListenAsync(app =>
        {
            app.MapGet("/mcp/pricing", () =>
            {
                Interlocked.Increment(ref server._pricingRequests);
                return server.PricingDown
                    ? Results.Problem(statusCode: 503, title: "down")
                    : Results.Json(new
                    {
                        tools = new object[]
                        {
                            new { name = "fail-tool", price = "$0.001", description = "Always fails" },
                            new { name = "get-content", price = "$0.001", description = "Reads a value" },
                            new { name = "put-content", price = "$0.01", description = "Stores a value" },
                            new { name = "session-status", price = (string?)null, description = "The payer's session" },
                        },
                    });
            });
            app.MapMethods("/mcp", ["GET", "DELETE"], () => Results.StatusCode(405));
            app.MapPost("/mcp", server.HandleAsync);
        });
        return server;
    }

    async Task HandleAsync(HttpContext context)
    {
        JsonObject? body;
        string? method, tool;
        try
        {
            body = JsonNode.Parse(await new StreamReader(context.Request.Body).ReadToEndAsync()) as JsonObject;
            method = body?["method"]?.GetValue<string>();
            tool = method == "tools/call" ? body!["params"]?["name"]?.GetValue<string>() : null;
        }
        catch (Exception exception) when (exception is JsonException or InvalidOperationException or ArgumentException)
        {
            // What McpServer answers a body that is no JSON-RPC message (the gate forwards such bodies unpriced): the SDK's JSON-RPC error.
            Calls.Enqueue(new Call(null, null, null, context.Request.Headers["X-Payer-Context"].FirstOrDefault()));
            await Results.Json(new JsonObject
            {
                ["jsonrpc"] = "2.0", ["id"] = null,
                ["error"] = new JsonObject { ["code"] = -32600, ["message"] = "Bad Request: The POST body did not contain a valid JSON-RPC message." },
            }, statusCode: 400).ExecuteAsync(context);
            return;
        }
        Calls.Enqueue(new Call(method, tool, body, context.Request.Headers["X-Payer-Context"].FirstOrDefault()));
        if (body?["id"] is not { } id)
        {
            context.Response.StatusCode = 202;
            return;
        }
        JsonObject result = method switch
        {
            "initialize" => new() { ["protocolVersion"] = "2025-06-18", ["capabilities"] = new JsonObject { ["tools"] = new JsonObject() },
                ["serverInfo"] = new JsonObject { ["name"] = "fake", ["version"] = "1" } },
            "tools/list" => new() { ["tools"] = new JsonArray() },
            "tools/call" when tool == "fail-tool" => new() { ["content"] = new JsonArray(new JsonObject { ["type"] = "text", ["text"] = "boom" }), ["isError"] = true },
            _ => new()
            {
                ["content"] = new JsonArray(new JsonObject { ["type"] = "text", ["text"] = $"ok {tool}" }),
                ["structuredContent"] = new JsonObject { ["tool"] = tool, ["arguments"] = body["params"]?["arguments"]?.DeepClone() },
            },
        };
        var answer = new JsonObject { ["jsonrpc"] = "2.0", ["id"] = id.DeepClone(), ["result"] = result }.ToJsonString();
        if (!Sse)
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(answer);
            return;
        }
        context.Response.ContentType = "text/event-stream";
        await context.Response.WriteAsync("event: message\r\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\",\"params\":{\"level\":\"info\",\"data\":\"working\"}}\r\n\r\n");
        await context.Response.WriteAsync($"event: message\r\nid: 2\r\ndata: {answer}\r\n\r\n");
    }
}

/// <summary>A minimal Streamable HTTP client over the gate's <see cref="HttpClient"/>: one POST per message, JSON or SSE answers.</summary>
public static class McpClient
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;
    static int _ids;

    public static JsonObject ToolCall(string tool, object? arguments = null, JsonNode? payment = null)
    {
        var message = new JsonObject
        {
            ["jsonrpc"] = "2.0",
            ["id"] = Interlocked.Increment(ref _ids),
            ["method"] = "tools/call",
            ["params"] = new JsonObject { ["name"] = tool, ["arguments"] = JsonSerializer.SerializeToNode(arguments ?? new { }) },
        };
        if (payment is not null)
            message["params"]!["_meta"] = new JsonObject { ["x402/payment"] = payment, ["progressToken"] = 7 };
        return message;
    }

    public static Task<HttpResponseMessage> PostAsync(HttpClient http, JsonObject message, string? sessionToken = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/mcp") { Content = new StringContent(message.ToJsonString(), Encoding.UTF8, "application/json") };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        if (sessionToken is not null)
            request.Headers.TryAddWithoutValidation("Payment-Session", sessionToken);
        return http.SendAsync(request, Ct);
    }

    /// <summary>The JSON-RPC response in the answer (the <c>data:</c> event with an id when SSE).</summary>
    public static async Task<JsonObject> ReadAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {text}");
        if (response.Content.Headers.ContentType?.MediaType != "text/event-stream")
            return (JsonObject)JsonNode.Parse(text)!;
        return text.ReplaceLineEndings("\n").Split('\n').Where(l => l.StartsWith("data:", StringComparison.Ordinal))
            .Select(l => (JsonObject)JsonNode.Parse(l[5..])!).Single(m => m.ContainsKey("id"));
    }

    public static async Task<JsonObject> CallAsync(HttpClient http, JsonObject message, string? sessionToken = null)
    {
        using var response = await PostAsync(http, message, sessionToken);
        return await ReadAsync(response);
    }

    /// <summary>Asks unpaid, checks the payment-required result, and signs exactly what it offers.</summary>
    public static async Task<JsonNode> PayAsync(HttpClient http, TestPayer payer, string tool, object? arguments = null)
    {
        var answer = await CallAsync(http, ToolCall(tool, arguments));
        var required = answer["result"]!["structuredContent"]!.Deserialize(X402JsonContext.Strict.PaymentRequired)!;
        var accepted = required.Accepts.Single();
        return Payment(payer, accepted, required.Resource);
    }

    public static JsonNode Payment(TestPayer payer, PaymentRequirements accepted, ResourceInfo? resource = null, string? nonce = null) =>
        JsonSerializer.SerializeToNode(new PaymentPayload
        {
            Resource = resource,
            Accepted = accepted,
            Payload = payer.Sign(value: System.Numerics.BigInteger.Parse(accepted.Amount), nonce: nonce).ToJsonElement(),
        }, X402JsonContext.Strict.PaymentPayload)!;
}
