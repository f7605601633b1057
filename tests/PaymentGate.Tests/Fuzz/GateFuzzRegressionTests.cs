using System.Net;
using System.Text;
using PaymentGate.Tests.Facilitator;
using PaymentGate.Tests.Mpp;
using PaymentGate.Tests.Paywall;
using Sessions.Testing;

namespace PaymentGate.Tests.Fuzz;

// Inputs the gate-level header fuzzers found (PaywallHeaderFuzzTests), kept as plain tests.
public sealed class GateFuzzRegressionTests(InfrastructureFixture infrastructure) : IAsyncLifetime
{
    const string Path = "/api/content/fuzz-regression";
    PaywallHarness _gate = null!;
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() =>
        _gate = await PaywallHarness.StartAsync(infrastructure, new() { ["Gate:Mpp:ChallengeKey"] = MppClient.ChallengeKey });

    public ValueTask DisposeAsync() => _gate.DisposeAsync();

    // Seed 13103 case 6: a valid credential and a second Authorization line "Payment , Basic eA==" (a Payment scheme with no
    // token). The decoder counted one credential, the gate's own check two: Single() threw, 500.
    [Fact]
    public async Task A_credential_beside_an_empty_payment_authorization_is_answered_not_a_500()
    {
        using var unpaid = await _gate.SendAsync(HttpMethod.Get, Path, null);
        var credential = MppClient.Pay(new TestPayer(), MppClient.ChallengeOf(unpaid));
        var request = new HttpRequestMessage(HttpMethod.Get, Path);
        request.Headers.TryAddWithoutValidation("Authorization", [credential, "Payment , Basic eA=="]);

        using var response = await _gate.Http.SendAsync(request, Ct);

        await GateFuzz.AssertAnsweredAsync(response);
        Assert.Equal(HttpStatusCode.PaymentRequired, response.StatusCode);   // the unfunded payer's payment is refused at verify
        Assert.Empty(_gate.Upstream.Calls);
        Assert.Empty(await _gate.PaymentsAsync());
    }

    // Seed 13102 case 14 ("scheme":1e309) and seed 13101 case 5 (a required member renamed): the 402 named the .NET type the
    // header was read into ("could not be converted to Sessions.Payments.X402...").
    [Theory]
    [InlineData("{\"x402Version\":1,\"scheme\":1e309,\"network\":\"base-sepolia\",\"payload\":{}}", "$.scheme")]
    [InlineData("{\"x402Version\":2,\"payload\":{}}", "'accepted'")]
    [InlineData("{\"x402Version\":1,\"scheme\":\"exact\",\"network\":\"base-sepolia\",\"payload\":{\"authorization\":{\"from\":1}}}", "$.authorization.from")]
    public async Task A_header_of_the_wrong_shape_is_described_without_internal_type_names(string json, string named)
    {
        using var response = await _gate.SendAsync(HttpMethod.Get, Path, Convert.ToBase64String(Encoding.UTF8.GetBytes(json)), "X-PAYMENT");

        await GateFuzz.AssertAnsweredAsync(response);
        Assert.Equal(HttpStatusCode.PaymentRequired, response.StatusCode);
        Assert.Contains(named, (await PaywallHarness.V1BodyAsync(response)).Error);
    }
}
