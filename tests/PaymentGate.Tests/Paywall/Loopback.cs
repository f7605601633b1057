using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Sessions.Payments.X402;
using Sessions.Testing;

namespace PaymentGate.Tests.Paywall;

/// <summary>What McpServer will serve, reduced to what the gate needs: it records every call and the payer context it got.</summary>
public sealed class FakeUpstream : LoopbackServer
{
    public sealed record Call(string Method, string Path, string? PayerContext, string? Authorization = null);

    public ConcurrentQueue<Call> Calls { get; } = new();

    public int CallsTo(string path) => Calls.Count(c => c.Path == path);

    /// <summary>Runs as a call arrives, before it is answered (a test's moment "while the upstream works").</summary>
    public Func<Task>? OnCall { get; set; }

    /// <summary>How long "slow..." keys take to answer (a route breaking a latency bound).</summary>
    public TimeSpan SlowFor { get; set; } = TimeSpan.FromMilliseconds(1500);

    async Task<bool> SlowAsync()
    {
        await Task.Delay(SlowFor);
        return true;
    }

    public static async Task<FakeUpstream> StartAsync()
    {
        var upstream = new FakeUpstream();
        await upstream.ListenAsync(app =>
        {
            app.Use(async (context, next) =>
            {
                upstream.Calls.Enqueue(new Call(context.Request.Method, context.Request.Path.Value!, context.Request.Headers["X-Payer-Context"].FirstOrDefault(),
                    context.Request.Headers.Authorization.Count == 0 ? null : context.Request.Headers.Authorization.ToString()));
                if (upstream.OnCall is { } onCall)
                    await onCall();
                await next(context);
            });
            app.MapGet("/api/ping", () => Results.Json(new { pong = true }));
            app.MapGet("/api/content", () => Results.Json(new { entries = new Dictionary<string, string>() }));
            // "fail..." keys answer 500, "missing..." 404: the gate must not charge for those; "slow..." keys answer after SlowFor.
            app.MapMethods("/api/content/{**key}", ["GET", "PUT", "DELETE"], async (HttpContext context, string key) =>
                key.StartsWith("slow", StringComparison.Ordinal) && await upstream.SlowAsync() ? Results.Json(new { key, slow = true })
                : key.StartsWith("fail", StringComparison.Ordinal) ? Results.Problem(statusCode: 500, title: "upstream broke")
                : key.StartsWith("missing", StringComparison.Ordinal) ? Results.NotFound()
                : Results.Json(new { key, method = context.Request.Method, payerContext = context.Request.Headers["X-Payer-Context"].FirstOrDefault() }));
        });
        return upstream;
    }
}

/// <summary>
/// A facilitator that says "valid" to everything and settles as told: for the failure modes the real one cannot produce
/// (settle 5xx, success:false after a valid verify).
/// </summary>
public sealed class FakeFacilitator : LoopbackServer
{
    int _verifies, _settles;

    public int VerifyCalls => _verifies;
    public int SettleCalls => _settles;

    /// <summary>HTTP status and JSON body of the next settle answers.</summary>
    public (int Status, string Body) SettleAnswer { get; set; } =
        (200, """{"success":true,"transaction":"0xabc0000000000000000000000000000000000000000000000000000000000001","network":"eip155:84532"}""");

    public static async Task<FakeFacilitator> StartAsync()
    {
        var facilitator = new FakeFacilitator();
        await facilitator.ListenAsync(app =>
        {
            app.MapPost("/verify", async (HttpContext context) =>
            {
                Interlocked.Increment(ref facilitator._verifies);
                using var body = await JsonDocument.ParseAsync(context.Request.Body);
                var from = body.RootElement.GetProperty("paymentPayload").GetProperty("payload").GetProperty("authorization").GetProperty("from").GetString();
                return Results.Json(new VerifyResponse { IsValid = true, Payer = from }, X402JsonContext.Strict.VerifyResponse);
            });
            app.MapPost("/settle", () =>
            {
                Interlocked.Increment(ref facilitator._settles);
                var (status, body) = facilitator.SettleAnswer;
                return Results.Text(body, "application/json", statusCode: status);
            });
        });
        return facilitator;
    }
}
