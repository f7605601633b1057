using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using ServiceDefaults.Tests.Support;
using Sessions.ServiceDefaults.Payers;
using static ServiceDefaults.Tests.PayerContext.PayerContextSignerTests;

namespace ServiceDefaults.Tests.PayerContext;

public sealed class PayerContextMiddlewareTests
{
    static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    static async Task<WebApplication> StartAsync(string? key = Key)
    {
        var app = TestApp.CreateBuilder(new Dictionary<string, string?> { ["PayerContext:SigningKey"] = key }).Build();
        var hits = 0;
        app.MapGet("/whoami", (HttpContext http, IPayerContextAccessor accessor) =>
        {
            Interlocked.Increment(ref hits);
            return new { payer = http.GetPayerContext()?.Payer, viaAccessor = accessor.Current?.Payer };
        });
        app.MapGet("/mine", (HttpContext http) => http.GetPayerContext()!.Payer).RequirePayer();
        var group = app.MapGroup("/group").RequirePayer();
        group.MapGet("/item", () => "ok");
        await app.StartAsync(Cancellation);
        return app;
    }

    static HttpRequestMessage Get(string path, params string[] contexts)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        foreach (var context in contexts) request.Headers.TryAddWithoutValidation(PayerContextSigner.HeaderName, context);
        return request;
    }

    static string ValidHeader(WebApplication app, string payer = Payer)
    {
        var signer = app.Services.GetRequiredService<PayerContextSigner>();
        return signer.Sign(NewContext(signer, payer));
    }

    static async Task AssertUnauthorizedProblemAsync(HttpResponseMessage response, string? detailContains = null)
    {
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Cancellation));
        Assert.Equal(401, problem.RootElement.GetProperty("status").GetInt32());
        Assert.True(problem.RootElement.TryGetProperty("traceId", out _));
        if (detailContains is not null)
            Assert.Contains(detailContains, problem.RootElement.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Valid_context_reaches_the_endpoint_and_the_accessor()
    {
        await using var app = await StartAsync();
        using var response = await app.GetTestClient().SendAsync(Get("/whoami", ValidHeader(app)), Cancellation);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Cancellation));
        Assert.Equal(Payer, body.RootElement.GetProperty("payer").GetString());
        Assert.Equal(Payer, body.RootElement.GetProperty("viaAccessor").GetString());
    }

    [Fact]
    public async Task No_header_runs_the_endpoint_without_a_payer()
    {
        await using var app = await StartAsync();
        using var response = await app.GetTestClient().SendAsync(Get("/whoami"), Cancellation);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Cancellation));
        Assert.Equal(JsonValueKind.Null, body.RootElement.GetProperty("payer").ValueKind);
        Assert.Equal(JsonValueKind.Null, body.RootElement.GetProperty("viaAccessor").ValueKind);
    }

    public static TheoryData<string, string> BadHeaders()
    {
        var signer = Signer();
        var valid = signer.Sign(NewContext(signer));
        var parts = valid.Split('.');
        var other = signer.Sign(NewContext(signer, "0x" + new string('2', 40))).Split('.');
        var foreign = Signer("another-key-of-at-least-32-characters!!");
        return new TheoryData<string, string>
        {
            { $"{parts[0]}.{other[1]}.{parts[2]}", "signature" },
            { $"{parts[0]}.{parts[1]}.{other[2]}", "signature" },
            { foreign.Sign(NewContext(foreign)), "signature" },
            { signer.Sign(NewContext(signer) with { ExpiresAt = DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 5 }), "expired" },
            { "not-a-context", "malformed" },
            { SignRaw("{}"), "malformed" },
        };
    }

    [Theory]
    [MemberData(nameof(BadHeaders))]
    public async Task Invalid_context_is_a_401_problem_and_the_endpoint_never_runs(string header, string detail)
    {
        await using var app = await StartAsync();
        using var response = await app.GetTestClient().SendAsync(Get("/whoami", header), Cancellation);
        await AssertUnauthorizedProblemAsync(response, detail);
    }

    [Fact]
    public async Task Two_headers_are_a_401_problem_even_when_both_are_valid()
    {
        await using var app = await StartAsync();
        using var response = await app.GetTestClient().SendAsync(Get("/whoami", ValidHeader(app), ValidHeader(app)), Cancellation);
        await AssertUnauthorizedProblemAsync(response, "More than one");
    }

    [Fact]
    public async Task Require_payer_is_401_without_and_200_with_a_context()
    {
        await using var app = await StartAsync();
        var client = app.GetTestClient();

        using (var response = await client.SendAsync(Get("/mine"), Cancellation))
            await AssertUnauthorizedProblemAsync(response);
        using (var response = await client.SendAsync(Get("/group/item"), Cancellation))
            await AssertUnauthorizedProblemAsync(response);

        using (var response = await client.SendAsync(Get("/mine", ValidHeader(app, "0x209693Bc6afc0C5328bA36FaF03C514EF312287C")), Cancellation))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(Payer, await response.Content.ReadAsStringAsync(Cancellation));
        }
        using (var response = await client.SendAsync(Get("/group/item", ValidHeader(app)), Cancellation))
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Without_a_signing_key_any_header_is_401_and_requests_without_one_still_run()
    {
        await using var app = await StartAsync(key: null);
        var client = app.GetTestClient();
        var signer = Signer();

        using (var response = await client.SendAsync(Get("/whoami", signer.Sign(NewContext(signer))), Cancellation))
            await AssertUnauthorizedProblemAsync(response, "signing key");
        using (var response = await client.SendAsync(Get("/whoami"), Cancellation))
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using (var response = await client.SendAsync(Get("/mine"), Cancellation))
            await AssertUnauthorizedProblemAsync(response);
    }
}
