using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using ServiceDefaults.Tests.Support;
using Sessions.ServiceDefaults.Payers;
using Sessions.Testing;

namespace ServiceDefaults.Tests.PayerContext;

// The one way the services call each other: JSON in, the signed payer context along, JSON (or nothing) back, and "no
// answer" as its own exception so each caller can decide what unavailable means.
public sealed class ServiceCallsTests
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Sends_JSON_with_the_payer_context_and_reads_the_JSON_answer_whatever_its_status()
    {
        string? seenContext = null, seenBody = null, seenType = null;
        await using var server = await HandlerServer.StartAsync(async (context, _) =>
        {
            seenContext = context.Request.Headers[PayerContextSigner.HeaderName];
            seenType = context.Request.ContentType;
            seenBody = await new StreamReader(context.Request.Body).ReadToEndAsync();
            context.Response.StatusCode = StatusCodes.Status409Conflict;
            await context.Response.WriteAsJsonAsync(new { code = "vault-conflict", detail = "taken" });
        });
        using var client = new HttpClient { BaseAddress = server.Address };

        var answer = await client.SendJsonAsync(HttpMethod.Put, "/internal/vaults/ses_1", "v1.payload.signature", new { OrganizationId = "demo" }, Ct);

        Assert.Equal((HttpStatusCode.Conflict, false, "vault-conflict", "taken"), (answer.Status, answer.IsSuccess, answer.Code, answer.Text("detail")));
        Assert.Equal("v1.payload.signature", seenContext);
        Assert.StartsWith("application/json", seenType);
        Assert.Equal("""{"organizationId":"demo"}""", seenBody);   // web (camelCase) JSON
    }

    [Fact]
    public async Task A_body_that_is_empty_or_not_JSON_leaves_only_the_status()
    {
        await using var server = await HandlerServer.StartAsync((context, hit) =>
        {
            context.Response.StatusCode = StatusCodes.Status502BadGateway;
            return hit == 1 ? context.Response.WriteAsync("<html>proxy error</html>") : Task.CompletedTask;
        });
        using var client = new HttpClient { BaseAddress = server.Address };

        var html = await client.SendJsonAsync(HttpMethod.Get, "/x", null, null, Ct);
        Assert.Equal((HttpStatusCode.BadGateway, JsonValueKind.Undefined, null), (html.Status, html.Body.ValueKind, html.Code));
        Assert.Equal((true, "<html>proxy error</html>"), (html.IsUnreadable, html.UnreadableText));

        var empty = await client.SendJsonAsync(HttpMethod.Get, "/x", null, null, Ct);
        Assert.Equal((HttpStatusCode.BadGateway, JsonValueKind.Undefined, false), (empty.Status, empty.Body.ValueKind, empty.IsUnreadable));
    }

    [Fact]
    public async Task No_answer_is_ServiceUnreachable_but_the_callers_own_cancellation_stays_a_cancellation()
    {
        using var client = new HttpClient { BaseAddress = new Uri(LoopbackServer.ClosedUrl()) };
        var unreachable = await Assert.ThrowsAsync<ServiceUnreachableException>(() => client.SendJsonAsync(HttpMethod.Post, "/internal/x", null, new { }, Ct));
        Assert.StartsWith("POST /internal/x had no answer", unreachable.Message);
        Assert.IsType<HttpRequestException>(unreachable.InnerException);

        await using var slow = await HandlerServer.StartAsync((context, _) => Task.Delay(TimeSpan.FromSeconds(30), context.RequestAborted));
        using var slowClient = new HttpClient { BaseAddress = slow.Address };
        using var cancelled = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cancelled.CancelAfter(TimeSpan.FromMilliseconds(200));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => slowClient.SendJsonAsync(HttpMethod.Get, "/slow", null, null, cancelled.Token));
    }
}
