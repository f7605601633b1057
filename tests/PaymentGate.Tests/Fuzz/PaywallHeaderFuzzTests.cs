using System.Text;
using System.Text.Json;
using PaymentGate.Tests.Facilitator;
using PaymentGate.Tests.Mpp;
using PaymentGate.Tests.Paywall;
using Sessions.Payments.Mpp;
using Sessions.Payments.X402;
using Sessions.Testing;
using Sessions.Testing.Fuzz;

namespace PaymentGate.Tests.Fuzz;

// The payment headers fuzzed through the in-process gate (real Postgres, Redis, local facilitator): mutations of a real payment
// signed for the route by a payer without funds, so that even a mutation that stays valid cannot pay. Oracle per request: no 5xx
// and no internals in the body; after all: no upstream call, no payment row, no balance changed.
public sealed class PaywallHeaderFuzzTests(InfrastructureFixture infrastructure) : IAsyncLifetime
{
    const string Path = "/api/content/fuzz";
    const int Requests = 300;
    PaywallHarness _gate = null!;
    TestPayer _funded = null!;
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _gate = await PaywallHarness.StartAsync(infrastructure, new() { ["Gate:Mpp:ChallengeKey"] = MppClient.ChallengeKey });
        _funded = new TestPayer();
        await _gate.FundAsync(_funded);
    }

    public ValueTask DisposeAsync() => _gate.DisposeAsync();

    static string Decoded(string base64) => Encoding.UTF8.GetString(Convert.FromBase64String(base64));

    async Task AssertNothingHappenedAsync()
    {
        Assert.Empty(_gate.Upstream.Calls);
        Assert.Empty(await _gate.PaymentsAsync());
        Assert.Equal("1000000", await _gate.BalanceAsync(_funded.Lower));
    }

    [Theory]
    [InlineData(13101, X402HeaderCodec.PaymentSignatureHeader)]
    [InlineData(13102, X402HeaderCodec.PaymentHeaderV1)]
    public async Task Fuzzed_x402_headers_never_fail_the_gate_or_move_money(int seed, string headerName)
    {
        var unfunded = new TestPayer();
        var (offer, _) = await _gate.OfferAsync(HttpMethod.Get, Path);
        var accepted = offer.Accepts.Single();
        var exact = unfunded.Sign(value: System.Numerics.BigInteger.Parse(accepted.Amount));
        string[] valid = headerName == X402HeaderCodec.PaymentSignatureHeader
            ? [Decoded(PaywallHarness.V2Header(accepted, exact, offer.Resource.Url))]
            : [Decoded(PaywallHarness.V1Header(exact))];

        await HeaderFuzz.RunAsync(seed, Requests, valid, HeaderFuzz.Base64, async header =>
        {
            using var response = await _gate.SendAsync(HttpMethod.Get, Path, HeaderFuzz.AsDelivered(header), headerName);
            await GateFuzz.AssertAnsweredAsync(response);
        });
        await AssertNothingHappenedAsync();
    }

    [Fact]
    public async Task Fuzzed_mpp_credentials_never_fail_the_gate_or_move_money()
    {
        using var unpaid = await _gate.SendAsync(HttpMethod.Get, Path, null);
        var challenge = MppClient.ChallengeOf(unpaid);
        var credential = MppClient.Pay(new TestPayer(), challenge);
        Assert.True(Base64Url.TryDecode(credential["Payment ".Length..], out var json));
        var random = new Random(13103);

        await HeaderFuzz.RunAsync(13103, Requests, [Encoding.UTF8.GetString(json)], HeaderFuzz.Base64Url, async token =>
        {
            var request = new HttpRequestMessage(HttpMethod.Get, Path);
            // One Authorization value, or several as separate header lines (another scheme beside it, an empty credential).
            string[] values = random.Next(3) switch
            {
                0 => ["Payment " + token],
                1 => ["Bearer vat_x", "Payment " + token],
                _ => ["Payment " + token, "Payment , Basic eA=="],
            };
            request.Headers.TryAddWithoutValidation("Authorization", values.Select(HeaderFuzz.AsDelivered));
            using var response = await _gate.Http.SendAsync(request, Ct);
            await GateFuzz.AssertAnsweredAsync(response);
        });
        await AssertNothingHappenedAsync();
    }
}
