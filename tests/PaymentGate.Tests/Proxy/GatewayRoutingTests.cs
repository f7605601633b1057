using System.Net;
using PaymentGate.Tests.Paywall;
using Sessions.Testing;

namespace PaymentGate.Tests.Proxy;

// Routes and clusters come from configuration and service discovery; built-in free routes forward; a service without an
// endpoint answers 503 instead of stopping the gate.
public sealed class GatewayRoutingTests(InfrastructureFixture infrastructure)
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Built_in_free_routes_forward_to_their_service()
    {
        await using var sessions = await FakeUpstream.StartAsync();
        await using var gate = await PaywallHarness.StartAsync(infrastructure, new() { ["services:sessionapi:http:0"] = sessions.Url });

        // GET /api/sessions/{id} itself is the gate's (Sessions/SessionsGateApi); deeper paths still go to the service.
        using var response = await gate.Http.GetAsync("/api/sessions/s1/history?x=1", Ct);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);   // the fake has no such endpoint: what matters is that it was asked
        Assert.Equal("/api/sessions/s1/history", Assert.Single(sessions.Calls).Path);
        Assert.Empty(gate.Upstream.Calls);
    }

    [Fact]
    public async Task Service_without_an_endpoint_answers_503_and_the_gate_keeps_serving_the_others()
    {
        await using var gate = await PaywallHarness.StartAsync(infrastructure);

        using var vaults = await gate.Http.GetAsync("/api/vaults/v1", Ct);
        using var ping = await gate.Http.GetAsync("/api/ping", Ct);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, vaults.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ping.StatusCode);
    }

    [Fact]
    public async Task Every_endpoint_of_a_service_gets_requests()
    {
        // services:<name>:http:0, :1, ... are replicas (the YARP destination resolver of Microsoft.Extensions.ServiceDiscovery.Yarp).
        await using var second = await FakeUpstream.StartAsync();
        await using var gate = await PaywallHarness.StartAsync(infrastructure, new() { ["services:mcpserver:http:1"] = second.Url });

        for (var i = 0; i < 20; i++)
        {
            using var response = await gate.Http.GetAsync("/api/ping", Ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.NotEmpty(gate.Upstream.Calls);
        Assert.NotEmpty(second.Calls);
        Assert.Equal(20, gate.Upstream.Calls.Count + second.Calls.Count);
    }

    [Fact]
    public async Task Method_not_configured_for_a_paid_path_is_not_forwarded()
    {
        await using var gate = await PaywallHarness.StartAsync(infrastructure);

        using var response = await gate.Http.PostAsync("/api/content/x", new StringContent("{}"), Ct);

        Assert.True(response.StatusCode is HttpStatusCode.MethodNotAllowed or HttpStatusCode.NotFound, response.StatusCode.ToString());
        Assert.Empty(gate.Upstream.Calls);
    }
}
