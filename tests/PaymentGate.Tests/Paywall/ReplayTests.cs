using System.Net;
using PaymentGate.Tests.Facilitator;
using Sessions.Testing;

namespace PaymentGate.Tests.Paywall;

// A (payer, nonce) is served once, whatever the facilitator would say: sequential and concurrent copies of one header.
public sealed class ReplayTests(InfrastructureFixture infrastructure) : IAsyncLifetime
{
    PaywallHarness _gate = null!;

    public async ValueTask InitializeAsync() => _gate = await PaywallHarness.StartAsync(infrastructure);

    public ValueTask DisposeAsync() => _gate.DisposeAsync();

    [Fact]
    public async Task Same_header_twice_in_a_row_is_served_once()
    {
        var payer = new TestPayer();
        await _gate.FundAsync(payer);
        var header = await _gate.PayV2Async(payer, HttpMethod.Get, "/api/content/replay");

        using var first = await _gate.SendAsync(HttpMethod.Get, "/api/content/replay", header);
        using var second = await _gate.SendAsync(HttpMethod.Get, "/api/content/replay", header);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.PaymentRequired, second.StatusCode);
        Assert.Contains("nonce", (await PaywallHarness.V1BodyAsync(second)).Error);
        Assert.Equal(1, _gate.Upstream.CallsTo("/api/content/replay"));
        Assert.Equal("999000", await _gate.BalanceAsync(payer.Lower));
        Assert.Single(await _gate.PaymentsAsync());
    }

    [Fact]
    public async Task Same_header_on_another_paid_route_is_refused_too()
    {
        var payer = new TestPayer();
        await _gate.FundAsync(payer);
        var header = await _gate.PayV2Async(payer, HttpMethod.Get, "/api/content/one");

        using var first = await _gate.SendAsync(HttpMethod.Get, "/api/content/one", header);
        using var second = await _gate.SendAsync(HttpMethod.Delete, "/api/content/two", header);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.PaymentRequired, second.StatusCode);
        Assert.Equal(0, _gate.Upstream.CallsTo("/api/content/two"));
    }

    [Fact]
    public async Task Same_header_20_times_concurrently_is_served_once()
    {
        var payer = new TestPayer();
        await _gate.FundAsync(payer);
        var header = await _gate.PayV2Async(payer, HttpMethod.Get, "/api/content/burst");

        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => _gate.SendAsync(HttpMethod.Get, "/api/content/burst", header)));

        Assert.Equal(1, responses.Count(r => r.StatusCode == HttpStatusCode.OK));
        Assert.Equal(19, responses.Count(r => r.StatusCode == HttpStatusCode.PaymentRequired));
        Assert.Equal(1, _gate.Upstream.CallsTo("/api/content/burst"));
        Assert.Equal("999000", await _gate.BalanceAsync(payer.Lower));
        var row = Assert.Single(await _gate.PaymentsAsync());
        Assert.Equal("served", row.Status);
        foreach (var response in responses)
            response.Dispose();
    }

    [Fact]
    public async Task V1_header_replayed_concurrently_is_served_once()
    {
        var payer = new TestPayer();
        await _gate.FundAsync(payer);
        var header = PaywallHarness.V1Header(payer.Sign(value: 1000));

        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => _gate.SendAsync(HttpMethod.Get, "/api/content/burst1", header, "X-PAYMENT")));

        Assert.Equal(1, responses.Count(r => r.StatusCode == HttpStatusCode.OK));
        Assert.Equal(1, _gate.Upstream.CallsTo("/api/content/burst1"));
        Assert.Equal("999000", await _gate.BalanceAsync(payer.Lower));
        foreach (var response in responses)
            response.Dispose();
    }
}
