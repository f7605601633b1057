using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Hosting;
using ServiceDefaults.Tests.Support;

namespace ServiceDefaults.Tests.Errors;

public sealed class ProblemDetailsTests
{
    static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    static async Task<WebApplication> StartAsync(string environment)
    {
        var app = TestApp.CreateBuilder(environment: environment).Build();
        app.MapDefaultEndpoints();
        app.MapGet("/boom", IResult () => throw new InvalidOperationException("secret internals exploded"));
        app.MapGet("/bad", () => Results.BadRequest());
        // What Npgsql and StackExchange.Redis throw while Postgres or Redis is down or restarting.
        app.MapGet("/db-down", IResult () => throw new Npgsql.NpgsqlException("Failed to connect to 127.0.0.1:5432",
            new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.ConnectionRefused)));
        app.MapGet("/redis-down", IResult () => throw new StackExchange.Redis.RedisConnectionException(
            StackExchange.Redis.ConnectionFailureType.UnableToConnect, "No connection is active/available to service this operation"));
        app.MapGet("/db-error", IResult () => throw new Npgsql.NpgsqlException("syntax error at or near \"SELEC\""));
        app.MapGet("/ok", () => "ok");
        app.MapPost("/items", () => Results.Created());
        await app.StartAsync(Cancellation);
        return app;
    }

    static async Task<JsonElement> ReadProblemAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        Assert.Equal(expected, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadAsStringAsync(Cancellation);
        // No stack trace frames, file paths or developer-page extension in any environment.
        Assert.DoesNotContain(" at ", body);
        Assert.DoesNotContain(".cs:line", body);
        Assert.DoesNotContain("\"exception\"", body);
        var problem = JsonDocument.Parse(body).RootElement.Clone();
        Assert.Equal((int)expected, problem.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("title").GetString()));
        Assert.StartsWith("00-", problem.GetProperty("traceId").GetString());
        // Every problem carries a stable code, the framework's own answers too ("not-found", "method-not-allowed"...).
        Assert.Matches("^[a-z0-9-]+$", problem.GetProperty("code").GetString());
        return problem;
    }

    [Theory]
    [InlineData("Development")]
    [InlineData("Production")]
    public async Task Unknown_route_is_a_404_problem(string environment)
    {
        await using var app = await StartAsync(environment);
        var client = app.GetTestClient();

        using var response = await client.GetAsync("/no/such/thing", Cancellation);

        var problem = await ReadProblemAsync(response, HttpStatusCode.NotFound);
        Assert.Equal("GET /no/such/thing", problem.GetProperty("instance").GetString());
    }

    [Fact]
    public async Task Wrong_method_is_a_405_problem()
    {
        await using var app = await StartAsync("Production");
        var client = app.GetTestClient();

        using var response = await client.DeleteAsync("/ok", Cancellation);

        await ReadProblemAsync(response, HttpStatusCode.MethodNotAllowed);
    }

    [Fact]
    public async Task Status_code_only_results_become_problems()
    {
        await using var app = await StartAsync("Production");
        var client = app.GetTestClient();

        using var response = await client.GetAsync("/bad", Cancellation);

        await ReadProblemAsync(response, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Unhandled_exception_in_production_is_a_500_problem_without_details()
    {
        await using var app = await StartAsync("Production");
        var client = app.GetTestClient();

        using var response = await client.GetAsync("/boom", Cancellation);

        var problem = await ReadProblemAsync(response, HttpStatusCode.InternalServerError);
        Assert.False(problem.TryGetProperty("detail", out _));
        Assert.DoesNotContain("secret internals", problem.GetRawText());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("application/json")]
    [InlineData("*/*")]
    public async Task Unhandled_exception_in_development_is_a_500_problem_with_the_message_only(string? accept)
    {
        await using var app = await StartAsync("Development");
        var client = app.GetTestClient();

        using var request = new HttpRequestMessage(HttpMethod.Get, "/boom");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "top-secret-token");
        if (accept is not null)
            request.Headers.Accept.ParseAdd(accept);
        using var response = await client.SendAsync(request, Cancellation);

        var problem = await ReadProblemAsync(response, HttpStatusCode.InternalServerError);
        Assert.Equal("InvalidOperationException: secret internals exploded", problem.GetProperty("detail").GetString());
        Assert.DoesNotContain("top-secret-token", problem.GetRawText());
    }

    [Fact]
    public async Task Successful_responses_are_untouched()
    {
        await using var app = await StartAsync("Production");
        var client = app.GetTestClient();

        Assert.Equal("ok", await client.GetStringAsync("/ok", Cancellation));
        using var created = await client.PostAsync("/items", null, Cancellation);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(0, created.Content.Headers.ContentLength ?? 0);
    }
    [Theory]
    [InlineData("Development", "/db-down", "database-unavailable")]
    [InlineData("Production", "/db-down", "database-unavailable")]
    [InlineData("Development", "/redis-down", "store-unavailable")]
    [InlineData("Production", "/redis-down", "store-unavailable")]
    public async Task Postgres_or_Redis_down_is_a_503_with_retry_after_not_a_500(string environment, string path, string code)
    {
        await using var app = await StartAsync(environment);
        var client = app.GetTestClient();

        using var response = await client.GetAsync(path, Cancellation);

        var problem = await ReadProblemAsync(response, HttpStatusCode.ServiceUnavailable);
        Assert.Equal(code, problem.GetProperty("code").GetString());
        Assert.Equal("5", response.Headers.RetryAfter?.ToString());
        Assert.DoesNotContain("127.0.0.1", problem.ToString());
    }

    // What StackExchange.Redis lets out when the connection drops with commands in flight (seen with redis-server killed under
    // load): the pipe's own exception and a cancelled task. Both are the store being gone; the same types from elsewhere are not.
    [Fact]
    public void A_command_cut_off_by_a_lost_Redis_connection_is_a_store_outage()
    {
        var pipe = new System.IO.Pipelines.Pipe();
        pipe.Writer.Complete();
        var written = Assert.Throws<InvalidOperationException>(() => pipe.Writer.GetSpan());
        Assert.True(Sessions.ServiceDefaults.Errors.DependencyUnavailableProblems.IsStoreOutage(written));
        Assert.True(Sessions.ServiceDefaults.Errors.DependencyUnavailableProblems.IsStoreOutage(new TaskCanceledException()));

        Assert.False(Sessions.ServiceDefaults.Errors.DependencyUnavailableProblems.IsStoreOutage(new InvalidOperationException("ours")));
        Assert.False(Sessions.ServiceDefaults.Errors.DependencyUnavailableProblems.IsStoreOutage(
            new TaskCanceledException("the client went away", null, new CancellationToken(canceled: true))));
    }

    [Fact]
    public async Task Any_other_database_error_stays_a_500()
    {
        await using var app = await StartAsync("Production");
        var client = app.GetTestClient();

        using var response = await client.GetAsync("/db-error", Cancellation);

        await ReadProblemAsync(response, HttpStatusCode.InternalServerError);
    }
}
