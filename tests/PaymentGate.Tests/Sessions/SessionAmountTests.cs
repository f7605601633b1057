using System.Net;
using PaymentGate.Tests.Facilitator;
using Sessions.Testing;
using static PaymentGate.Tests.Sessions.SessionGateHarness;

namespace PaymentGate.Tests.Sessions;

// Amounts the gate reads from outside are the wire form of the one money type (Sessions.Payments.AtomicAmount): "0100000" is
// refused like "12.5", with a 400 naming the field, before any 402 or ledger entry.
public sealed class SessionAmountTests(InfrastructureFixture infrastructure) : IAsyncLifetime
{
    SessionGateHarness _gate = null!;
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _gate = await SessionGateHarness.StartAsync(infrastructure);

    public ValueTask DisposeAsync() => _gate.DisposeAsync();

    [Theory]
    [InlineData("/api/sessions", """{"deposit":"0100000"}""", "deposit")]
    [InlineData("/api/sessions", """{"deposit":"+100000"}""", "deposit")]
    [InlineData("/api/sessions/ses_00000000000000000000000000000000/topup", """{"amount":"010000"}""", "amount")]
    [InlineData("/api/sessions/ses_00000000000000000000000000000000/topup", """{"amount":"1e4"}""", "amount")]
    [InlineData("/dev/faucet", """{"address":"ADDRESS","amount":"0100"}""", "amount")]
    [InlineData("/dev/faucet", """{"address":"ADDRESS","amount":1e2}""", "amount")]
    public async Task Amount_outside_the_wire_form_is_400_naming_the_field(string path, string json, string field)
    {
        var payer = new TestPayer();
        using var response = await _gate.Http.PostAsync(path, new StringContent(json.Replace("ADDRESS", payer.Lower), System.Text.Encoding.UTF8,
            "application/json"), Ct);
        var body = await JsonAsync(response, HttpStatusCode.BadRequest);
        Assert.True(body.GetProperty("errors").TryGetProperty(field, out _), body.ToString());
        Assert.Equal(0, await _gate.BalanceAsync(payer.Lower));
    }

    [Fact]
    public async Task The_faucet_still_takes_a_plain_json_integer()
    {
        var payer = new TestPayer();
        using var response = await _gate.Http.PostAsync("/dev/faucet", new StringContent(
            $$"""{"address":"{{payer.Lower}}","amount":2500}""", System.Text.Encoding.UTF8, "application/json"), Ct);
        var body = await JsonAsync(response, HttpStatusCode.OK);
        Assert.Equal("2500", body.GetProperty("balance").GetString());
    }
}
