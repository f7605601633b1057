using System.Net;
using System.Text;
using Microsoft.Extensions.Options;
using Sessions.PaymentGate.Sessions;
using Sessions.ServiceDefaults.Payers;

namespace PaymentGate.Tests.Sessions;

// What "SessionApi did not answer" means to the gate: no HTTP answer, a 5xx, or a body that is not SessionApi's JSON
// (a proxy's page) — each a SessionApiUnavailableException (503, nothing forwarded, money undone or owed), never an
// answer with an empty body that later code would read as a success.
public sealed class SessionApiClientTests
{
    sealed class Answering(HttpStatusCode status, string body, string type) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(new HttpResponseMessage(status) { Content = new StringContent(body, Encoding.UTF8, type) });
    }

    sealed class Factory(HttpMessageHandler handler) : IHttpClientFactory
    {
        public HttpClient CreateClient(string name) => new(handler, disposeHandler: false);
    }

    static SessionApiClient Client(HttpMessageHandler handler) => new(new Factory(handler),
        new PayerContextSigner(Options.Create(new PayerContextOptions { SigningKey = "test-signing-key-0123456789abcdef0123" }), TimeProvider.System));

    static readonly SessionRef Session = new("ses_0123456789abcdef0123456789abcdef", "0x" + new string('a', 40), "demo");

    [Theory]
    [InlineData(HttpStatusCode.OK, "<html>bad gateway</html>", "text/html")]
    [InlineData(HttpStatusCode.BadGateway, """{"title":"Bad Gateway"}""", "application/json")]
    [InlineData(HttpStatusCode.InternalServerError, "", "text/plain")]
    public async Task A_5xx_or_a_body_that_is_not_JSON_is_unavailable(HttpStatusCode status, string body, string type)
    {
        var client = Client(new Answering(status, body, type));
        var error = await Assert.ThrowsAsync<SessionApiUnavailableException>(
            () => client.TopUpAsync(Session, "1000", "pay_1", TestContext.Current.CancellationToken));
        Assert.Contains($"SessionApi answered {(int)status}", error.Message);
    }

    [Fact]
    public async Task A_refusal_with_its_problem_is_an_answer()
    {
        var client = Client(new Answering(HttpStatusCode.Conflict, """{"code":"session-not-active","detail":"closed"}""", "application/problem+json"));
        var answer = await client.TopUpAsync(Session, "1000", "pay_1", TestContext.Current.CancellationToken);
        Assert.Equal((HttpStatusCode.Conflict, "session-not-active", false), (answer.Status, answer.Code, answer.IsUnreadable));
    }
}
