using System.Net;
using System.Net.Http.Json;
using Sessions.Testing;

namespace PaymentGate.Tests.Facilitator;

// Outside Development the facilitator is chosen explicitly (Facilitator:Mode=local or a remote Facilitator:Url), and the
// simulated chain's HTTP endpoints (/dev/*, /facilitator/*) are not mapped.
public sealed class ProductionFacilitatorTests(InfrastructureFixture infrastructure)
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    async Task<GateFactory> GateAsync(string environment, Dictionary<string, string?> extra)
    {
        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:gatedb"] = await infrastructure.CreateDatabaseAsync("gatedb"),
            ["PayerContext:SigningKey"] = new string('k', 48),
        };
        foreach (var (key, value) in extra)
            settings[key] = value;
        return new GateFactory(settings, environment);
    }

    [Fact]
    public async Task Production_without_a_facilitator_choice_refuses_to_start_and_says_how_to_choose()
    {
        await using var gate = await GateAsync("Production", []);

        var error = Assert.ThrowsAny<Exception>(() => gate.CreateClient());

        Assert.Contains("Facilitator:Mode=local", error.ToString());
        Assert.Contains("Facilitator:Url", error.ToString());
    }

    [Theory]
    [InlineData("Facilitator:Mode", "local")]
    [InlineData("Facilitator:Url", "https://x402.org/facilitator")]
    public async Task Production_maps_no_development_endpoint(string key, string value)
    {
        await using var gate = await GateAsync("Production", new() { [key] = value });
        var http = gate.CreateClient();

        using var faucet = await http.PostAsJsonAsync("/dev/faucet", new { address = new TestPayer().Lower, amount = "1" }, Ct);
        using var accounts = await http.GetAsync($"/dev/accounts/{new TestPayer().Lower}", Ct);
        using var supported = await http.GetAsync("/facilitator/supported", Ct);
        using var verify = await http.PostAsync("/facilitator/verify", new StringContent("{}", System.Text.Encoding.UTF8, "application/json"), Ct);
        using var settle = await http.PostAsync("/facilitator/settle", new StringContent("{}", System.Text.Encoding.UTF8, "application/json"), Ct);
        using var pricing = await http.GetAsync("/api/pricing", Ct);

        Assert.All([faucet, accounts, supported, verify, settle], r => Assert.Equal(HttpStatusCode.NotFound, r.StatusCode));
        Assert.Equal(HttpStatusCode.OK, pricing.StatusCode);
    }

    [Fact]
    public async Task Local_mode_and_a_remote_url_at_once_refuse_to_start()
    {
        await using var gate = await GateAsync("Production", new() { ["Facilitator:Mode"] = "local", ["Facilitator:Url"] = "https://x402.org/facilitator" });

        var error = Assert.ThrowsAny<Exception>(() => gate.CreateClient());

        Assert.Contains("Facilitator:Mode", error.ToString());
    }

    [Fact]
    public async Task Development_keeps_its_default_local_facilitator_and_endpoints()
    {
        await using var gate = await GateAsync("Development", []);
        var http = gate.CreateClient();

        using var supported = await http.GetAsync("/facilitator/supported", Ct);
        using var faucet = await http.PostAsJsonAsync("/dev/faucet", new { address = new TestPayer().Lower, amount = "1" }, Ct);

        Assert.Equal(HttpStatusCode.OK, supported.StatusCode);
        Assert.Equal(HttpStatusCode.OK, faucet.StatusCode);
    }
}
