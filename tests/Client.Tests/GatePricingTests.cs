using PaymentGate.Tests.Paywall;
using Sessions.Client;
using Sessions.Testing;

namespace Client.Tests;

// GatePricing reads the real gate's OpenAPI document (in memory, real Redis and gatedb): the prices it returns are the 402's.
public sealed class GatePricingTests(InfrastructureFixture infrastructure)
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Reads_the_gate_document_with_the_402_price_free_routes_and_mcp_tools()
    {
        await using var gate = await PaywallHarness.StartAsync(infrastructure);

        var routes = await GatePricing.ReadAsync(gate.Http, Ct);

        Assert.NotNull(routes);
        var get = Assert.Single(routes, r => (r.Method, r.Path) == ("GET", "/api/content/{key}"));
        var (offer, _) = await gate.OfferAsync(HttpMethod.Get, "/api/content/notes/a");
        var accepted = offer.Accepts.Single();
        Assert.False(get.Free);
        Assert.Equal(("1000", "$0.001"), (get.Amount, get.Price));
        Assert.Equal((accepted.Amount, accepted.PayTo, accepted.Asset), (get.Amount, get.PayTo, get.Asset));
        Assert.Contains(accepted.Network, get.Networks);
        Assert.Contains("x402 exact v2", get.Schemes);

        var ping = Assert.Single(routes, r => (r.Method, r.Path) == ("GET", "/api/ping"));
        Assert.True(ping.Free);
        Assert.Null(ping.Amount);

        var mcp = Assert.Single(routes, r => r.Method == "POST" && r.Path == "/mcp");
        Assert.False(mcp.Free);
        Assert.NotNull(mcp.Tools);   // the prices learnt from McpServer now; empty here, where no McpServer runs
    }
}
