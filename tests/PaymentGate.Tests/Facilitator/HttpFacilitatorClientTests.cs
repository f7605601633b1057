using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Sessions.PaymentGate.Facilitator;
using Sessions.Payments.X402;
using Sessions.Testing;

namespace PaymentGate.Tests.Facilitator;

// The client against a loopback server that answers badly on purpose: every bad answer is "unavailable", never "paid".
public sealed class HttpFacilitatorClientTests : IAsyncLifetime
{
    readonly ConcurrentDictionary<string, int> _hits = new();
    readonly ConcurrentQueue<string?> _authorizations = new();
    LoopbackServer _server = null!;
    string _base = "";
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _server = await LoopbackServer.StartAsync(app =>
        {
            app.Use(async (context, next) =>
            {
                _hits.AddOrUpdate(context.Request.Path.Value!, 1, (_, n) => n + 1);
                _authorizations.Enqueue(context.Request.Headers.Authorization.FirstOrDefault());
                await next(context);
            });
            app.MapPost("/ok/verify", () => Results.Text("""{"isValid":true,"payer":"0x209693bc6afc0c5328ba36faf03c514ef312287c"}""", "application/json"));
            app.MapPost("/ok/settle", () => Results.Text("""{"success":false,"errorReason":"insufficient_funds","transaction":"","network":"eip155:84532"}""", "application/json", statusCode: 400));
            app.MapGet("/ok/supported", () => Results.Text("""{"kinds":[{"x402Version":2,"scheme":"exact","network":"eip155:84532"}],"extensions":[],"signers":{}}""", "application/json"));
            app.MapPost("/down/{op}", () => Results.StatusCode(500));
            app.MapGet("/down/supported", () => Results.StatusCode(503));
            app.MapPost("/redirect/{op}", () => Results.Redirect("http://127.0.0.1:1/elsewhere", permanent: false, preserveMethod: true));
            app.MapPost("/garbage/{op}", () => Results.Text("<html>bad gateway</html>", "text/html"));
            app.MapPost("/wrongshape/{op}", () => Results.Text("""{"hello":"world"}""", "application/json"));
            app.MapPost("/slow/{op}", async (HttpContext context) =>
            {
                await Task.Delay(TimeSpan.FromSeconds(30), context.RequestAborted);
                return Results.Ok();
            });
        });
        _base = _server.Url;
    }

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    // The gate's registrations (ServiceDefaults' resilience included) with a short time budget so that the test stays quick.
    static ServiceProvider Client(string url, string? apiKey, out IFacilitatorClient client)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Facilitator:Url"] = url,
            ["Facilitator:ApiKey"] = apiKey,
            ["Facilitator:Local:Enabled"] = "false",
            ["HttpClientResilience:AttemptTimeout:Timeout"] = "00:00:01",
            ["HttpClientResilience:TotalRequestTimeout:Timeout"] = "00:00:05",
            ["HttpClientResilience:Retry:Delay"] = "00:00:00.010",
            ["HttpClientResilience:Retry:UseJitter"] = "false",
        });
        builder.AddServiceDefaults();
        builder.AddPaymentFacilitator();
        var services = builder.Services.BuildServiceProvider();
        client = services.GetRequiredService<IFacilitatorClient>();
        return services;
    }

    static VerifyRequest Verify => TestPayer.V2(new TestPayer().Sign());
    static SettleRequest Settle => TestPayer.ToSettle(Verify);

    [Fact]
    public async Task Answers_are_read_including_a_refused_settle_with_a_4xx_status_and_the_bearer_key_is_sent()
    {
        using var services = Client(_base + "/ok/", "secret-key", out var client);

        var verify = await client.VerifyAsync(Verify, Ct);
        var settle = await client.SettleAsync(Settle, Ct);
        var supported = await client.GetSupportedAsync(Ct);

        Assert.True(verify.IsValid);
        Assert.False(settle.Success);
        Assert.Equal("insufficient_funds", settle.ErrorReason);
        Assert.Single(supported.Kinds);
        Assert.All(_authorizations, a => Assert.Equal("Bearer secret-key", a));
    }

    [Fact]
    public async Task A_5xx_is_unavailable_and_settle_is_sent_exactly_once()
    {
        using var services = Client(_base + "/down", null, out var client);

        await Assert.ThrowsAsync<FacilitatorUnavailableException>(() => client.SettleAsync(Settle, Ct));
        await Assert.ThrowsAsync<FacilitatorUnavailableException>(() => client.VerifyAsync(Verify, Ct));
        await Assert.ThrowsAsync<FacilitatorUnavailableException>(() => client.GetSupportedAsync(Ct));

        Assert.Equal(1, _hits["/down/settle"]);   // POST: never retried, the first attempt may have moved money
        Assert.Equal(1, _hits["/down/verify"]);
        Assert.True(_hits["/down/supported"] > 1);   // GET is idempotent: the standard pipeline retries it
    }

    [Theory]
    [InlineData("redirect")]
    [InlineData("garbage")]
    [InlineData("wrongshape")]
    public async Task Redirects_and_unreadable_answers_are_unavailable(string path)
    {
        using var services = Client($"{_base}/{path}", null, out var client);

        var verify = await Assert.ThrowsAsync<FacilitatorUnavailableException>(() => client.VerifyAsync(Verify, Ct));
        await Assert.ThrowsAsync<FacilitatorUnavailableException>(() => client.SettleAsync(Settle, Ct));

        Assert.Equal(1, _hits[$"/{path}/settle"]);
        Assert.False(_hits.ContainsKey("/elsewhere"));
        if (path == "redirect")
            Assert.Contains("redirect", verify.Message);
    }

    [Fact]
    public async Task An_unreachable_facilitator_is_unavailable()
    {
        using var services = Client(LoopbackServer.ClosedUrl() + "/facilitator", null, out var client);

        var error = await Assert.ThrowsAsync<FacilitatorUnavailableException>(() => client.SettleAsync(Settle, Ct));
        Assert.IsType<HttpRequestException>(error.InnerException);
    }

    [Fact]
    public async Task A_facilitator_that_does_not_answer_in_time_is_unavailable()
    {
        using var services = Client(_base + "/slow", null, out var client);

        await Assert.ThrowsAsync<FacilitatorUnavailableException>(() => client.SettleAsync(Settle, Ct));
        Assert.Equal(1, _hits["/slow/settle"]);
    }

    [Fact]
    public async Task The_callers_cancellation_stays_a_cancellation()
    {
        using var services = Client(_base + "/slow", null, out var client);
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cancellation.CancelAfter(TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.VerifyAsync(Verify, cancellation.Token));
    }
}
