using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Sessions.Testing;

namespace PaymentGate.Tests.Facilitator;

// /dev/faucet and /dev/accounts: validation as problem+json, and only where they are meant to exist. Outside Development
// the facilitator is an explicit choice (Facilitator:Mode=local or a remote Facilitator:Url) and the simulated chain's
// endpoints (/dev/*, /facilitator/*) are not mapped.
public sealed class DevLedgerApiTests(InfrastructureFixture infrastructure)
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    async Task<GateFactory> GateAsync(string environment = "Development", Dictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:gatedb"] = await infrastructure.CreateDatabaseAsync("gatedb"),
            ["PayerContext:SigningKey"] = new string('k', 48),
        };
        foreach (var (key, value) in extra ?? [])
            settings[key] = value;
        return new GateFactory(settings, environment);
    }

    [Fact]
    public async Task Faucet_adds_to_the_balance_and_answers_it()
    {
        await using var gate = await GateAsync();
        var http = gate.CreateClient();
        var payer = new TestPayer();

        using var first = await http.PostAsJsonAsync("/dev/faucet", new { address = payer.Address.ToString(), amount = "1000000" }, Ct);
        using var second = await http.PostAsJsonAsync("/dev/faucet", new { address = payer.Lower, amount = 500 }, Ct);   // a JSON number works too

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var body = await second.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal(payer.Lower, body.GetProperty("address").GetString());
        Assert.Equal("1000500", body.GetProperty("balance").GetString());
        var account = await http.GetFromJsonAsync<JsonElement>($"/dev/accounts/{payer.Lower.ToUpperInvariant().Replace("0X", "0x")}", Ct);
        Assert.Equal("1000500", account.GetProperty("balance").GetString());
        Assert.Equal(2, account.GetProperty("transfers").GetArrayLength());
        Assert.All(account.GetProperty("transfers").EnumerateArray(), t => Assert.Equal("faucet", t.GetProperty("kind").GetString()));
    }

    [Theory]
    [InlineData("""{"address":"0x1234","amount":"100"}""", "address")]
    [InlineData("""{"address":"0x209693Bc6afc0C5328bA36FaF03C514EF312287c","amount":"100"}""", "address")]   // bad EIP-55 checksum
    [InlineData("""{"amount":"100"}""", "address")]
    [InlineData("""{"address":"0x209693bc6afc0c5328ba36faf03c514ef312287c","amount":"0"}""", "amount")]
    [InlineData("""{"address":"0x209693bc6afc0c5328ba36faf03c514ef312287c","amount":"-5"}""", "amount")]
    [InlineData("""{"address":"0x209693bc6afc0c5328ba36faf03c514ef312287c","amount":"1.5"}""", "amount")]
    [InlineData("""{"address":"0x209693bc6afc0c5328ba36faf03c514ef312287c","amount":"1000000001"}""", "amount")]
    [InlineData("""{"address":"0x209693bc6afc0c5328ba36faf03c514ef312287c"}""", "amount")]
    [InlineData("""{"address":"0x209693bc6afc0c5328ba36faf03c514ef312287c","amount":"100","network":"eip155:8453"}""", "network")]
    public async Task Faucet_refuses_invalid_input_with_a_validation_problem(string json, string field)
    {
        await using var gate = await GateAsync();

        using var response = await gate.CreateClient().PostAsync("/dev/faucet", new StringContent(json, System.Text.Encoding.UTF8, "application/json"), Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
    }

    [Fact]
    public async Task Accounts_refuses_an_invalid_address()
    {
        await using var gate = await GateAsync();
        using var response = await gate.CreateClient().GetAsync("/dev/accounts/0xnothex", Ct);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task A_production_demo_opts_in_to_the_development_endpoints_with_the_faucet_setting()
    {
        // The simulated chain's endpoints are served, facilitator and faucet alike (without it: Production_maps_no_development_endpoint).
        await using var demo = await GateAsync("Production", new() { ["Facilitator:Mode"] = "local", ["Facilitator:Local:Faucet"] = "true" });
        using var enabled = await demo.CreateClient().PostAsJsonAsync("/dev/faucet", new { address = new TestPayer().Lower, amount = "1" }, Ct);
        using var served = await demo.CreateClient().GetAsync("/facilitator/supported", Ct);
        Assert.Equal(HttpStatusCode.OK, enabled.StatusCode);
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
    }

    [Fact]
    public async Task Disabling_the_local_facilitator_removes_its_endpoints()
    {
        await using var gate = await GateAsync(extra: new()
        {
            ["Facilitator:Local:Enabled"] = "false",
            ["Facilitator:Url"] = "https://x402.org/facilitator",
        });
        var http = gate.CreateClient();

        using var supported = await http.GetAsync("/facilitator/supported", Ct);
        using var faucet = await http.PostAsJsonAsync("/dev/faucet", new { address = new TestPayer().Lower, amount = "1" }, Ct);

        Assert.Equal(HttpStatusCode.NotFound, supported.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, faucet.StatusCode);
    }

    [Fact]
    public async Task No_facilitator_at_all_fails_at_start_up()
    {
        await using var gate = await GateAsync(extra: new() { ["Facilitator:Local:Enabled"] = "false" });
        var error = Assert.ThrowsAny<Exception>(() => gate.CreateClient());
        Assert.Contains("Facilitator:Url is empty", error.ToString());
    }

    [Fact]
    public async Task Production_without_a_facilitator_choice_refuses_to_start_and_says_how_to_choose()
    {
        await using var gate = await GateAsync("Production");

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
        await using var gate = await GateAsync();
        var http = gate.CreateClient();

        using var supported = await http.GetAsync("/facilitator/supported", Ct);
        using var faucet = await http.PostAsJsonAsync("/dev/faucet", new { address = new TestPayer().Lower, amount = "1" }, Ct);

        Assert.Equal(HttpStatusCode.OK, supported.StatusCode);
        Assert.Equal(HttpStatusCode.OK, faucet.StatusCode);
    }
}
