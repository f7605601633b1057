using System.Net;
using PaymentGate.Tests.Paywall;
using Sessions.Testing;

namespace PaymentGate.Tests.Proxy;

// The gate is the only service reachable from outside: its /health and /alive say how it is, not what it runs on.
public sealed class PublicHealthTests(InfrastructureFixture infrastructure)
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("/health")]
    [InlineData("/alive")]
    public async Task Health_answers_the_status_only(string path)
    {
        await using var gate = await PaywallHarness.StartAsync(infrastructure);

        using var response = await gate.Http.GetAsync(path, Ct);
        var body = await response.Content.ReadAsStringAsync(Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        // Before: every check with its description, e.g. redis "PING to 127.0.0.1:<port> ...".
        Assert.Equal("""{"status":"Healthy"}""", body);
    }
}
