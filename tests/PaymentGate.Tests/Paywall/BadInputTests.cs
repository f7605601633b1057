using System.Net;
using System.Numerics;
using System.Text;
using PaymentGate.Tests.Facilitator;
using Sessions.Payments.Crypto;
using Sessions.Payments.X402;
using Sessions.Testing;

namespace PaymentGate.Tests.Paywall;

// Every bad payment gets a clear 402 (or 431 for an oversize header), persists nothing, and never reaches the upstream.
public sealed class BadInputTests(InfrastructureFixture infrastructure) : IAsyncLifetime
{
    const string Path = "/api/content/bad";
    PaywallHarness _gate = null!;
    TestPayer _payer = null!;
    PaymentRequirements _offered = null!;

    public async ValueTask InitializeAsync()
    {
        _gate = await PaywallHarness.StartAsync(infrastructure);
        _payer = new TestPayer();
        await _gate.FundAsync(_payer);
        _offered = (await _gate.OfferAsync(HttpMethod.Get, Path)).V2.Accepts.Single();
    }

    public ValueTask DisposeAsync() => _gate.DisposeAsync();

    async Task AssertRefusedAsync(string header, string expectedError, string headerName = "PAYMENT-SIGNATURE")
    {
        using var response = await _gate.SendAsync(HttpMethod.Get, Path, header, headerName);

        Assert.Equal(HttpStatusCode.PaymentRequired, response.StatusCode);
        Assert.True(response.Headers.Contains("PAYMENT-REQUIRED"));
        var body = await PaywallHarness.V1BodyAsync(response);
        Assert.Contains(expectedError, body.Error);
        Assert.Single(body.Accepts);
        Assert.Empty(_gate.Upstream.Calls);
        Assert.Empty(await _gate.PaymentsAsync());
        Assert.Equal("1000000", await _gate.BalanceAsync(_payer.Lower));
    }

    string V2(ExactEvmPayload exact, PaymentRequirements? accepted = null) => PaywallHarness.V2Header(accepted ?? _offered, exact);

    [Theory]
    [InlineData("not base64 at all!")]
    [InlineData("eyJ4NDAyVmVyc2lvbiI6Mn0")]      // missing padding
    [InlineData("e30=")]                          // {}: no version
    public async Task Undecodable_header_is_a_plain_402(string header) => await AssertRefusedAsync(header, "invalid PAYMENT-SIGNATURE header");

    [Fact]
    public async Task Malformed_json_is_a_plain_402() =>
        await AssertRefusedAsync(Convert.ToBase64String(Encoding.UTF8.GetBytes("{\"x402Version\":2,")), "invalid PAYMENT-SIGNATURE header");

    [Fact]
    public async Task Malformed_v1_header_is_a_plain_402() =>
        await AssertRefusedAsync(Convert.ToBase64String(Encoding.UTF8.GetBytes("[1,2,3]")), "invalid X-PAYMENT header", "X-PAYMENT");

    [Fact]
    public async Task Unknown_scheme_is_refused() => await AssertRefusedAsync(V2(_payer.Sign(value: 1000), _offered with { Scheme = "upto" }), "does not match");

    [Fact]
    public async Task Unknown_network_is_refused() => await AssertRefusedAsync(V2(_payer.Sign(value: 1000), _offered with { Network = "eip155:1" }), "does not match");

    [Fact]
    public async Task Unknown_v1_scheme_or_network_is_refused()
    {
        await AssertRefusedAsync(PaywallHarness.V1Header(_payer.Sign(value: 1000), network: "base"), "unsupported_scheme", "X-PAYMENT");
        await AssertRefusedAsync(PaywallHarness.V1Header(_payer.Sign(value: 1000), scheme: "upto"), "unsupported_scheme", "X-PAYMENT");
    }

    [Fact]
    public async Task Wrong_asset_is_refused()
    {
        const string otherAsset = "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913";
        await AssertRefusedAsync(V2(_payer.Sign(value: 1000, asset: otherAsset), _offered with { Asset = otherAsset }), "does not match");
        // v1 carries no asset: a signature over another token's domain does not recover the payer.
        await AssertRefusedAsync(PaywallHarness.V1Header(_payer.Sign(value: 1000, asset: otherAsset)), ReasonCodes.InvalidSignature, "X-PAYMENT");
    }

    [Fact]
    public async Task Wrong_pay_to_is_refused()
    {
        const string other = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
        await AssertRefusedAsync(V2(_payer.Sign(value: 1000), _offered with { PayTo = other }), "does not match");
        await AssertRefusedAsync(V2(_payer.Sign(value: 1000, to: other)), ReasonCodes.RecipientMismatch);
    }

    [Fact]
    public async Task Value_mismatch_is_refused()
    {
        await AssertRefusedAsync(V2(_payer.Sign(value: 999)), ReasonCodes.AuthorizationValueMismatch);
        await AssertRefusedAsync(V2(_payer.Sign(value: 1000), _offered with { Amount = "1" }), "does not match");
    }

    [Fact]
    public async Task Expired_authorization_is_refused()
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        await AssertRefusedAsync(V2(_payer.Sign(value: 1000, validAfter: now - 600, validBefore: now - 10)), ReasonCodes.ValidBeforeExpired);
    }

    [Fact]
    public async Task Not_yet_valid_authorization_is_refused()
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        await AssertRefusedAsync(V2(_payer.Sign(value: 1000, validAfter: now + 120)), ReasonCodes.ValidAfterInFuture);
    }

    [Fact]
    public async Task Signature_of_another_key_is_refused() =>
        await AssertRefusedAsync(V2(_payer.Sign(value: 1000, signingKey: new TestPayer().Key)), ReasonCodes.InvalidSignature);

    [Fact]
    public async Task High_s_signature_is_refused()
    {
        var exact = _payer.Sign(value: 1000);
        Assert.True(Hex.TryDecode(exact.Signature, out var signature));
        var n = BigInteger.Parse("0FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141", System.Globalization.NumberStyles.HexNumber);
        var s = new BigInteger(signature.AsSpan(32, 32), isUnsigned: true, isBigEndian: true);
        var highS = (n - s).ToByteArray(isUnsigned: true, isBigEndian: true);
        var malleated = signature.ToArray();
        Array.Clear(malleated, 32, 32);
        highS.CopyTo(malleated, 64 - highS.Length);
        malleated[64] = (byte)(malleated[64] == 27 ? 28 : 27);

        await AssertRefusedAsync(V2(exact with { Signature = Hex.Encode(malleated) }), "invalid_exact_evm_signature");
    }

    [Fact]
    public async Task Missing_signature_is_refused() => await AssertRefusedAsync(V2(_payer.Sign(value: 1000) with { Signature = null }), "invalid_exact_evm_payload");

    [Fact]
    public async Task Bad_nonce_is_refused()
    {
        var exact = _payer.Sign(value: 1000);
        await AssertRefusedAsync(V2(exact with { Authorization = exact.Authorization with { Nonce = "0x1234" } }), ReasonCodes.InvalidPayload);
    }

    [Fact]
    public async Task Unfunded_payer_is_refused_at_verification()
    {
        var poor = new TestPayer();
        await AssertRefusedAsync(V2(poor.Sign(value: 1000)), ReasonCodes.InsufficientBalance);
    }

    [Fact]
    public async Task Oversize_payment_header_is_431_and_persists_nothing()
    {
        using var response = await _gate.SendAsync(HttpMethod.Get, Path, new string('A', 16 * 1024 + 4));

        Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Empty(_gate.Upstream.Calls);
        Assert.Empty(await _gate.PaymentsAsync());
    }
}
