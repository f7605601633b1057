using System.Net;
using System.Net.Http.Json;
using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using PaymentGate.Tests.Facilitator;
using PaymentGate.Tests.Paywall;
using Sessions.Payments.Crypto;
using Sessions.Payments.Mpp;
using Sessions.Payments.X402;
using Sessions.Testing;
using static PaymentGate.Tests.Mpp.MppClient;

namespace PaymentGate.Tests.Mpp;

// MPP (the Payment HTTP authentication scheme) at the paywall: the challenge on every 402 beside the x402 offer, a credential
// settled on the same ledger with the same replay guard, and each problem type of the draft with a fresh challenge.
public sealed class MppPaywallTests(InfrastructureFixture infrastructure) : IAsyncLifetime
{
    const string Path = "/api/content/notes/mpp";
    PaywallHarness _gate = null!;
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() =>
        _gate = await PaywallHarness.StartAsync(infrastructure, new() { ["Gate:Mpp:ChallengeKey"] = ChallengeKey });

    public ValueTask DisposeAsync() => _gate.DisposeAsync();

    async Task<PaymentChallenge> ChallengeAsync(HttpMethod? method = null, string path = Path)
    {
        using var response = await _gate.SendAsync(method ?? HttpMethod.Get, path, null);
        Assert.Equal(HttpStatusCode.PaymentRequired, response.StatusCode);
        return AssertFreshChallenge(response);
    }

    Task<HttpResponseMessage> SendAsync(string? authorization, HttpMethod? method = null, string path = Path, params string[] more)
    {
        var request = new HttpRequestMessage(method ?? HttpMethod.Get, path);
        if (authorization is not null)
            request.Headers.TryAddWithoutValidation("Authorization", [authorization, .. more]);
        return _gate.Http.SendAsync(request, Ct);
    }

    /// <summary>402 with the problem type, a fresh challenge and the x402 offer; nothing forwarded, nothing charged.</summary>
    async Task RefusedAsync(HttpResponseMessage response, string type, TestPayer? payer = null)
    {
        await ProblemAsync(response, HttpStatusCode.PaymentRequired, type);
        AssertFreshChallenge(response);
        Assert.False(response.Headers.Contains("Payment-Receipt"));
        Assert.Empty(_gate.Upstream.Calls);
        if (payer is not null)
            Assert.Equal("1000000", await _gate.BalanceAsync(payer.Lower));
    }

    [Fact]
    public async Task Every_402_of_a_paid_route_offers_an_evm_charge_challenge_beside_the_x402_offer()
    {
        using var response = await _gate.SendAsync(HttpMethod.Get, Path, null);

        Assert.Equal(HttpStatusCode.PaymentRequired, response.StatusCode);
        var challenge = AssertFreshChallenge(response);
        Assert.Equal(("evm", "charge", "localhost"), (challenge.Method, challenge.Intent, challenge.Realm));
        // mppx's evm.charge server request, JCS-canonical: what the official client signs.
        Assert.True(Base64Url.TryDecode(challenge.Request, out var request));
        Assert.Equal("""{"amount":"1000","currency":"0x036CbD53842c5426634e7929541eC2318f3dCF7e","methodDetails":{"chainId":84532,"credentialTypes":["authorization"],"decimals":6},"recipient":"0x209693Bc6afc0C5328bA36FaF03C514EF312287C"}""",
            Encoding.UTF8.GetString(request));
        var expires = DateTimeOffset.Parse(challenge.Expires!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(expires - DateTimeOffset.UtcNow, TimeSpan.FromMinutes(4), TimeSpan.FromMinutes(6));
        // x402 clients see exactly what they saw before: the v2 header and the v1 body.
        Assert.Equal(1, (await PaywallHarness.V1BodyAsync(response)).X402Version);

        // A client that says it speaks MPP gets the payment-required problem (same headers).
        var asking = new HttpRequestMessage(HttpMethod.Get, Path);
        asking.Headers.TryAddWithoutValidation("Accept-Payment", "evm/charge");
        using var mppAnswer = await _gate.Http.SendAsync(asking, Ct);
        await ProblemAsync(mppAnswer, HttpStatusCode.PaymentRequired, "payment-required");
        AssertFreshChallenge(mppAnswer);

        using var free = await _gate.SendAsync(HttpMethod.Get, "/api/ping", null);
        Assert.Equal(HttpStatusCode.OK, free.StatusCode);
        Assert.Empty(free.Headers.WwwAuthenticate);
    }

    [Fact]
    public async Task Paid_request_is_served_with_a_receipt_settled_on_the_ledger_and_the_same_credential_is_refused_afterwards()
    {
        var payer = new TestPayer();
        await _gate.FundAsync(payer);
        var credential = Pay(payer, await ChallengeAsync());

        using var response = await SendAsync(credential);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var receipt = PaymentReceipt.TryParseHeader(response.Headers.GetValues("Payment-Receipt").Single());
        Assert.NotNull(receipt);
        Assert.Equal(("success", "evm"), (receipt.Status, receipt.Method));
        var settlement = PaywallHarness.SettlementOf(response);
        Assert.Equal(settlement.Transaction, receipt.Reference);
        Assert.True(DateTimeOffset.TryParse(receipt.Timestamp, out _));
        Assert.Contains("private", response.Headers.CacheControl?.ToString());
        Assert.Equal("999000", await _gate.BalanceAsync(payer.Lower));
        var row = Assert.Single(await _gate.PaymentsAsync());
        Assert.Equal(("served", payer.Lower, "1000", settlement.Transaction), (row.Status, row.Payer, row.Amount, row.Transaction));
        var call = Assert.Single(_gate.Upstream.Calls);
        Assert.NotNull(call.PayerContext);

        // The replay guard is the x402 one: same authorization nonce, refused, charged once.
        using var replay = await SendAsync(credential);
        await ProblemAsync(replay, HttpStatusCode.PaymentRequired, "invalid-challenge");
        AssertFreshChallenge(replay);
        Assert.Equal("999000", await _gate.BalanceAsync(payer.Lower));
        Assert.Single(_gate.Upstream.Calls);
    }

    [Fact]
    public async Task Tampered_request_expires_or_realm_is_invalid_challenge()
    {
        var payer = new TestPayer();
        await _gate.FundAsync(payer);
        var challenge = await ChallengeAsync();
        var cheaper = Base64Url.Encode(Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(Base64Url.TryDecode(challenge.Request, out var r) ? r : [])
            .Replace("\"amount\":\"1000\"", "\"amount\":\"1\"")));
        PaymentChallenge[] tampered =
        [
            challenge with { Request = cheaper },
            challenge with { Expires = MppLater(challenge.Expires!) },
            challenge with { Realm = "evil.example" },
            challenge with { Id = challenge.Id[..^2] + (challenge.Id[^2..] == "AA" ? "AB" : "AA") },
        ];
        foreach (var bent in tampered)
        {
            // Signed by the payer over the bent challenge: only the binding is wrong.
            using var response = await SendAsync(Pay(payer, bent));
            await RefusedAsync(response, "invalid-challenge", payer);
        }
    }

    static string MppLater(string expires) =>
        global::Sessions.PaymentGate.Mpp.MppChallenger.FormatTime(DateTimeOffset.Parse(expires, System.Globalization.CultureInfo.InvariantCulture).AddHours(1));

    public static TheoryData<string, string> BentAuthorizations => new()
    {
        { "value-lower", "payment-insufficient" },
        { "value-higher", "verification-failed" },
        { "recipient", "verification-failed" },
        { "nonce", "verification-failed" },
        { "signer", "verification-failed" },
        { "valid-after-future", "verification-failed" },
        { "valid-before-past", "payment-expired" },
        { "source-chain", "verification-failed" },
        { "source-address", "verification-failed" },
        { "type-permit2", "verification-failed" },
        { "payload-incomplete", "malformed-credential" },
        { "not-base64url", "malformed-credential" },
        { "not-json", "malformed-credential" },
    };

    [Theory]
    [MemberData(nameof(BentAuthorizations))]
    public async Task Each_failing_check_answers_its_problem_type_with_a_fresh_challenge_and_charges_nothing(string bend, string type)
    {
        var payer = new TestPayer();
        await _gate.FundAsync(payer);
        var challenge = await ChallengeAsync();
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var source = MppEvm.SourceDid(84532, payer.Address);
        var credential = bend switch
        {
            "value-lower" => Credential(challenge, Authorization(payer, challenge, value: 999), source),
            "value-higher" => Credential(challenge, Authorization(payer, challenge, value: 1001), source),
            "recipient" => Credential(challenge, Authorization(payer, challenge, to: new TestPayer().Address.ToString()), source),
            "nonce" => Credential(challenge, Authorization(payer, challenge, nonce: Hex.Encode(RandomNumberGenerator.GetBytes(32))), source),
            "signer" => Credential(challenge, Authorization(payer, challenge, signingKey: new TestPayer().Key), source),
            "valid-after-future" => Credential(challenge, Authorization(payer, challenge, validAfter: now + 3600), source),
            "valid-before-past" => Credential(challenge, Authorization(payer, challenge, validBefore: now - 1), source),
            "source-chain" => Credential(challenge, Authorization(payer, challenge), MppEvm.SourceDid(8453, payer.Address)),
            "source-address" => Credential(challenge, Authorization(payer, challenge), MppEvm.SourceDid(84532, new TestPayer().Address)),
            "type-permit2" => Credential(challenge, Authorization(payer, challenge, type: "permit2"), source),
            "payload-incomplete" => Credential(challenge, JsonSerializer.SerializeToElement(new { type = "authorization", from = payer.Address.ToString() }), source),
            "not-base64url" => "Payment not+base64/url==",
            "not-json" => "Payment " + Base64Url.Encode("{\"challenge\":"u8),
            _ => throw new ArgumentOutOfRangeException(nameof(bend)),
        };

        using var response = await SendAsync(credential);

        await RefusedAsync(response, type, payer);
        Assert.Empty(await _gate.PaymentsAsync());
    }

    [Fact]
    public async Task A_challenge_of_a_cheaper_route_is_payment_insufficient_here()
    {
        var payer = new TestPayer();
        await _gate.FundAsync(payer);
        // GET costs $0.001, PUT $0.01: the GET challenge is genuine but does not pay the PUT.
        var credential = Pay(payer, await ChallengeAsync());
        using var response = await SendAsync(credential, HttpMethod.Put);
        await RefusedAsync(response, "payment-insufficient", payer);
        Assert.Equal("10000", MppClient.RequestOf(ChallengeOf(response)).GetProperty("amount").GetString());
    }

    [Fact]
    public async Task Several_payments_in_one_request_and_unknown_methods_are_400()
    {
        var payer = new TestPayer();
        await _gate.FundAsync(payer);
        var challenge = await ChallengeAsync();
        var credential = Pay(payer, challenge);

        using (var two = await SendAsync(credential, null, Path, Pay(payer, await ChallengeAsync())))
            await ProblemAsync(two, HttpStatusCode.BadRequest, "bad-request");
        using (var commaSeparated = await SendAsync($"{credential}, {credential}"))
            await ProblemAsync(commaSeparated, HttpStatusCode.BadRequest, "bad-request");
        var both = new HttpRequestMessage(HttpMethod.Get, Path);
        both.Headers.TryAddWithoutValidation("Authorization", credential);
        both.Headers.TryAddWithoutValidation(X402HeaderCodec.PaymentSignatureHeader, await _gate.PayV2Async(payer, HttpMethod.Get, Path));
        // A Payment credential beside an x402 header is refused by the gate itself, before any payment scheme reads it.
        using (var mixed = await _gate.Http.SendAsync(both, Ct))
        {
            Assert.Equal(HttpStatusCode.BadRequest, mixed.StatusCode);
            Assert.Equal("ambiguous-payment", (await mixed.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("code").GetString());
        }

        using (var tempo = await SendAsync(Pay(payer, challenge with { Method = "tempo" })))
        {
            await ProblemAsync(tempo, HttpStatusCode.BadRequest, "method-unsupported");
            Assert.Equal("evm", ChallengeOf(tempo).Method);
        }
        Assert.Empty(_gate.Upstream.Calls);
        Assert.Equal("1000000", await _gate.BalanceAsync(payer.Lower));

        // The credential itself was never used: it still pays.
        using var paid = await SendAsync(credential);
        Assert.Equal(HttpStatusCode.OK, paid.StatusCode);
    }

    // Review finding: on free routes (and /mcp) nothing reads a Payment credential, and no upstream may see one; other
    // Authorization values (a vault access token) still pass.
    [Fact]
    public async Task A_payment_credential_on_a_free_route_is_not_forwarded_but_a_bearer_token_is()
    {
        var payer = new TestPayer();
        await _gate.FundAsync(payer);
        var credential = Pay(payer, await ChallengeAsync());
        using (var withCredential = await SendAsync(credential, path: "/api/ping"))
            Assert.Equal(HttpStatusCode.OK, withCredential.StatusCode);
        Assert.Null(_gate.Upstream.Calls.Last().Authorization);
        using (var withBearer = await SendAsync("Bearer vat_abc", path: "/api/ping"))
            Assert.Equal(HttpStatusCode.OK, withBearer.StatusCode);
        Assert.Equal("Bearer vat_abc", _gate.Upstream.Calls.Last().Authorization);
    }

    [Fact]
    public async Task A_bearer_authorization_is_not_a_payment_and_gets_the_x402_answer()
    {
        using var bearer = await SendAsync("Bearer abc");
        Assert.Equal(HttpStatusCode.PaymentRequired, bearer.StatusCode);
        Assert.Equal(1, (await PaywallHarness.V1BodyAsync(bearer)).X402Version);
    }
}

// A challenge whose expires has passed is payment-expired, even though its id is genuine.
public sealed class MppExpiryTests(InfrastructureFixture infrastructure) : IAsyncLifetime
{
    PaywallHarness _gate = null!;

    public async ValueTask InitializeAsync() => _gate = await PaywallHarness.StartAsync(infrastructure, new()
    {
        ["Gate:Mpp:ChallengeKey"] = ChallengeKey,
        ["Gate:Mpp:ChallengeLifetime"] = "00:00:01",
    });

    public ValueTask DisposeAsync() => _gate.DisposeAsync();

    [Fact]
    public async Task Expired_challenge_is_payment_expired_with_a_fresh_challenge()
    {
        var payer = new TestPayer();
        await _gate.FundAsync(payer);
        using var offer = await _gate.SendAsync(HttpMethod.Get, "/api/content/late", null);
        var challenge = ChallengeOf(offer);
        // Signed valid for longer than the challenge: the challenge's own expiry decides.
        var credential = Credential(challenge, Authorization(payer, challenge, validBefore: DateTimeOffset.UtcNow.AddMinutes(5).ToUnixTimeSeconds()),
            MppEvm.SourceDid(84532, payer.Address));
        await Task.Delay(TimeSpan.FromSeconds(1.5), TestContext.Current.CancellationToken);

        using var response = await _gate.SendAsync(HttpMethod.Get, "/api/content/late", credential, "Authorization");

        await ProblemAsync(response, HttpStatusCode.PaymentRequired, "payment-expired");
        AssertFreshChallenge(response);
        Assert.Equal("1000000", await _gate.BalanceAsync(payer.Lower));
        Assert.Empty(_gate.Upstream.Calls);
    }
}
