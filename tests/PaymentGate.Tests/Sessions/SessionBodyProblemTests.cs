using System.Net;
using System.Text;
using System.Text.Json;
using Sessions.Testing;
using Sessions.Testing.Fuzz;

namespace PaymentGate.Tests.Sessions;

// Issue 13 defect 4: a session body the gate cannot read is the documented validation problem naming the field with a stable
// code, never an internal type name; a body without Content-Type is 415, not 405. Nothing is charged or written.
public sealed class SessionBodyProblemTests(InfrastructureFixture infrastructure) : IAsyncLifetime
{
    SessionGateHarness _gate = null!;
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _gate = await SessionGateHarness.StartAsync(infrastructure);

    public ValueTask DisposeAsync() => _gate.DisposeAsync();

    async Task<JsonElement> PostAsync(string path, string? body, string? contentType, HttpStatusCode expected, string code)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path);
        if (body is not null)
        {
            request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
            if (contentType is not null) request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        }
        var before = await JsonFuzzOracle.RowsAsync(_gate.GateDatabase);
        using var response = await _gate.Http.SendAsync(request, Ct);
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(expected == response.StatusCode, $"Expected {(int)expected}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        foreach (var internals in new[] { "OpenSessionBody", "TopUpBody", "System.", "Exception", "LineNumber", " at " })
            Assert.DoesNotContain(internals, text);
        var problem = JsonDocument.Parse(text).RootElement.Clone();
        Assert.Equal(code, problem.GetProperty("code").GetString());
        Assert.Equal(before, await JsonFuzzOracle.RowsAsync(_gate.GateDatabase));
        return problem;
    }

    [Theory]
    [InlineData("/api/sessions", """{"deposit":100000}""", "deposit")]
    [InlineData("/api/sessions", """{"deposit":"100000","ttlSeconds":"an hour"}""", "ttlSeconds")]
    [InlineData("/api/sessions", """{"deposit":"100000","kind":["pass"]}""", "kind")]
    [InlineData("/api/sessions/ses_x/topup", """{"amount":5000}""", "amount")]
    public async Task A_field_of_the_wrong_type_is_a_validation_problem_naming_it(string path, string body, string field)
    {
        var problem = await PostAsync(path, body, "application/json", HttpStatusCode.BadRequest, "invalid-field");

        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.GetRawText());
    }

    [Theory]
    [InlineData("/api/sessions", """{"deposit":"100000",""")]
    [InlineData("/api/sessions", "deposit=100000")]
    [InlineData("/api/sessions/ses_x/topup", "[]")]
    public async Task Malformed_json_is_invalid_json(string path, string body)
    {
        await PostAsync(path, body, "application/json", HttpStatusCode.BadRequest, "invalid-json");
    }

    [Theory]
    [InlineData("/api/sessions", null)]
    [InlineData("/api/sessions", "text/plain")]
    [InlineData("/api/sessions/ses_x/topup", null)]
    [InlineData("/api/sessions/ses_x/topup", "application/x-www-form-urlencoded")]
    public async Task A_body_that_is_not_declared_json_is_415(string path, string? contentType)
    {
        await PostAsync(path, """{"deposit":"100000"}""", contentType, HttpStatusCode.UnsupportedMediaType, "unsupported-media-type");
    }

    [Fact]
    public async Task A_missing_deposit_is_the_validation_problem_with_a_code()
    {
        var problem = await PostAsync("/api/sessions", "{}", "application/json", HttpStatusCode.BadRequest, "invalid-field");

        Assert.True(problem.GetProperty("errors").TryGetProperty("deposit", out _));
    }
}
