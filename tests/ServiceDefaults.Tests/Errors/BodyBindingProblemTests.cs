using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Hosting;
using ServiceDefaults.Tests.Support;

namespace ServiceDefaults.Tests.Errors;

// A JSON body that minimal-API binding cannot read is a coded problem naming the field, in every environment (issue 13, defect 4).
public sealed class BodyBindingProblemTests
{
    public sealed record OrderBody(string? Deposit, long? TtlSeconds, NestedBody? Nested);
    public sealed record NestedBody(string? Name);

    static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    static async Task<WebApplication> StartAsync(string environment)
    {
        var app = TestApp.CreateBuilder(environment: environment).Build();
        var orders = app.MapGroup("/orders");
        orders.MapPost("", (OrderBody body) => TypedResults.Ok(body));
        orders.MapGet("", () => TypedResults.Ok());
        app.MapGet("/orders/{id:int}", (int id, int? limit) => TypedResults.Ok(id + (limit ?? 0)));
        await app.StartAsync(Cancellation);
        return app;
    }

    static async Task<JsonElement> SendAsync(WebApplication app, string? body, string? contentType, HttpStatusCode expected, string code)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/orders");
        if (body is not null)
        {
            request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
            if (contentType is not null)
                request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        }
        using var response = await app.GetTestClient().SendAsync(request, Cancellation);
        var text = await response.Content.ReadAsStringAsync(Cancellation);
        Assert.True(expected == response.StatusCode, $"Expected {(int)expected}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        // Never the names of the service's types, the framework's exceptions or a stack trace.
        foreach (var internals in new[] { "OrderBody", "System.", "Exception", "Nullable", " at ", "LineNumber", "parameter" })
            Assert.DoesNotContain(internals, text, StringComparison.OrdinalIgnoreCase);
        var problem = JsonDocument.Parse(text).RootElement.Clone();
        Assert.Equal(code, problem.GetProperty("code").GetString());
        Assert.Equal("https://sessions.dev/problems/" + code, problem.GetProperty("type").GetString());
        return problem;
    }

    [Theory]
    [InlineData("Development", "{\"deposit\":100000}", "deposit")]
    [InlineData("Production", "{\"deposit\":100000}", "deposit")]
    [InlineData("Production", "{\"deposit\":\"1\",\"ttlSeconds\":\"sixty\"}", "ttlSeconds")]
    [InlineData("Production", "{\"ttlSeconds\":1.5}", "ttlSeconds")]
    [InlineData("Production", "{\"nested\":{\"name\":[]}}", "nested.name")]
    [InlineData("Development", "{\"nested\":7}", "nested")]
    public async Task Wrong_type_names_the_field(string environment, string body, string field)
    {
        await using var app = await StartAsync(environment);

        var problem = await SendAsync(app, body, "application/json", HttpStatusCode.BadRequest, "invalid-field");

        Assert.Equal(field, problem.GetProperty("field").GetString());
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _));
    }

    [Theory]
    [InlineData("Development", "{\"deposit\":")]
    [InlineData("Production", "{\"deposit\":\"1\",}")]
    [InlineData("Production", "not json")]
    [InlineData("Production", "[1,2,3]")]
    [InlineData("Production", "\"just a string\"")]
    [InlineData("Production", "{\"deposit\":\"1\"} trailing")]
    public async Task Malformed_json_is_invalid_json(string environment, string body)
    {
        await using var app = await StartAsync(environment);

        await SendAsync(app, body, "application/json", HttpStatusCode.BadRequest, "invalid-json");
    }

    // Which of two same-named members counts would be the reader's choice (last one wins, case-insensitively): refused.
    [Theory]
    [InlineData("Production", "{\"deposit\":\"1\",\"deposit\":\"2\"}", "deposit")]
    [InlineData("Development", "{\"deposit\":\"1\",\"DEPOSIT\":\"2\"}", "DEPOSIT")]
    public async Task Repeated_member_is_refused_naming_it(string environment, string body, string field)
    {
        await using var app = await StartAsync(environment);

        var problem = await SendAsync(app, body, "application/json", HttpStatusCode.BadRequest, "invalid-field");

        Assert.Equal(field, problem.GetProperty("field").GetString());
    }

    [Theory]
    [InlineData("Development")]
    [InlineData("Production")]
    public async Task Empty_body_is_missing_body(string environment)
    {
        await using var app = await StartAsync(environment);

        await SendAsync(app, "", "application/json", HttpStatusCode.BadRequest, "missing-body");
    }

    [Theory]
    [InlineData("Development", null)]
    [InlineData("Production", null)]
    [InlineData("Production", "text/plain")]
    [InlineData("Production", "application/x-www-form-urlencoded")]
    [InlineData("Development", "application/xml")]
    public async Task Body_without_a_json_content_type_is_415(string environment, string? contentType)
    {
        await using var app = await StartAsync(environment);

        await SendAsync(app, "{\"deposit\":\"1\"}", contentType, HttpStatusCode.UnsupportedMediaType, "unsupported-media-type");
    }

    [Theory]
    [InlineData("Development", "/orders/abc")]
    [InlineData("Production", "/orders/1?limit=many")]
    public async Task Unparsable_route_or_query_value_is_invalid_field(string environment, string path)
    {
        await using var app = await StartAsync(environment);

        using var response = await app.GetTestClient().GetAsync(path, Cancellation);

        var text = await response.Content.ReadAsStringAsync(Cancellation);
        // A route constraint that does not match is a 404; a value that does not parse is a coded 400.
        Assert.True(response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.BadRequest, text);
        Assert.DoesNotContain("System.", text);
        Assert.DoesNotContain("Int32", text);
        if (response.StatusCode == HttpStatusCode.BadRequest)
            Assert.Equal("invalid-field", JsonDocument.Parse(text).RootElement.GetProperty("code").GetString());
    }

    [Fact]
    public async Task Valid_body_is_bound()
    {
        await using var app = await StartAsync("Production");

        using var response = await app.GetTestClient().PostAsync("/orders",
            new StringContent("{\"deposit\":\"100000\",\"ttlSeconds\":60}", Encoding.UTF8, "application/json"), Cancellation);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("100000", JsonDocument.Parse(await response.Content.ReadAsStringAsync(Cancellation)).RootElement.GetProperty("deposit").GetString());
    }
}
