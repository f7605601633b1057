extern alias sessionapi;

using System.Net;
using System.Net.Http.Json;
using System.Numerics;
using System.Security.Cryptography;
using System.Text.Json;
using PaymentGate.Tests.Facilitator;
using PaymentGate.Tests.Sessions;
using Sessions.PaymentGate.Sessions;
using Sessions.Payments.Crypto;
using Sessions.Payments.Eip712;
using Sessions.Payments.Mpp;
using Sessions.Payments.X402;
using Sessions.Testing;
using sessionapi::Sessions.SessionApi.Mandates;
using static PaymentGate.Tests.Mpp.MppClient;
using static PaymentGate.Tests.Sessions.SessionGateHarness;

namespace PaymentGate.Tests.Mpp;

// Sessions and mandates over MPP: an evm charge pays the deposit of the same session x402 opens (MPP's own session intent
// needs a chain), and a mandate refusal is 403 without a challenge, as for x402.
public sealed class MppSessionTests(InfrastructureFixture infrastructure) : IAsyncLifetime
{
    SessionGateHarness _gate = null!;
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() =>
        _gate = await SessionGateHarness.StartAsync(infrastructure, new() { ["Gate:Mpp:ChallengeKey"] = ChallengeKey });

    public ValueTask DisposeAsync() => _gate.DisposeAsync();

    Task<HttpResponseMessage> PostAsync(string path, object body, string? authorization)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
        if (authorization is not null)
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        return _gate.Http.SendAsync(request, Ct);
    }

    [Fact]
    public async Task Mpp_paid_open_gives_a_session_token_that_pays_ten_requests_without_another_signature()
    {
        var payer = await _gate.FundedPayerAsync(100_000);
        var body = new { deposit = (10 * GetPrice).ToString() };
        using var offer = await PostAsync("/api/sessions", body, null);
        Assert.Equal(HttpStatusCode.PaymentRequired, offer.StatusCode);
        var challenge = AssertFreshChallenge(offer);
        Assert.Equal("10000", RequestOf(challenge).GetProperty("amount").GetString());

        using var opened = await PostAsync("/api/sessions", body, Pay(payer, challenge));

        var session = await JsonAsync(opened, HttpStatusCode.Created);
        var receipt = PaymentReceipt.TryParseHeader(opened.Headers.GetValues("Payment-Receipt").Single());
        Assert.Equal(("success", "evm"), (receipt!.Status, receipt.Method));
        var token = opened.Headers.GetValues(SessionSpending.TokenHeader).Single();
        Assert.Equal(session.GetProperty("token").GetString(), token);
        Assert.Equal(payer.Lower, session.GetProperty("payer").GetString());
        Assert.Equal(90_000, await _gate.BalanceAsync(payer.Lower));

        for (var i = 0; i < 10; i++)
        {
            using var served = await _gate.WithTokenAsync(HttpMethod.Get, $"/api/content/mpp-session/{i}", token);
            Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        }
        using var eleventh = await _gate.WithTokenAsync(HttpMethod.Get, "/api/content/mpp-session/10", token);
        Assert.Equal(HttpStatusCode.PaymentRequired, eleventh.StatusCode);
        AssertFreshChallenge(eleventh);
        // Only the deposit moved on the ledger: the ten requests were debits of the session.
        Assert.Equal(90_000, await _gate.BalanceAsync(payer.Lower));
        Assert.Equal(10, _gate.Upstream.Calls.Count);
    }

    // Review finding: a deposit settled while SessionApi was down must still open its session with the same credential after
    // the challenge (5 min) and the authorization expired, as an x402 header is redeemed; an expired credential that never
    // paid stays payment-expired and charges nothing.
    [Fact]
    public async Task A_settled_mpp_deposit_is_redeemed_with_the_same_credential_after_it_expired()
    {
        var payer = await _gate.FundedPayerAsync(100_000);
        var body = new { deposit = (10 * GetPrice).ToString() };
        using var offer = await PostAsync("/api/sessions", body, null);
        var credential = Pay(payer, ChallengeOf(offer));
        var unused = await _gate.FundedPayerAsync(100_000);
        using var unusedOffer = await PostAsync("/api/sessions", body, null);
        var unusedCredential = Pay(unused, ChallengeOf(unusedOffer));

        _gate.SessionApiLink.Down = true;
        using (var down = await PostAsync("/api/sessions", body, credential))
            Assert.Equal(HttpStatusCode.ServiceUnavailable, down.StatusCode);
        Assert.Equal(90_000, await _gate.BalanceAsync(payer.Lower));   // settled before SessionApi was asked
        _gate.SessionApiLink.Down = false;
        _gate.Clock.Advance(TimeSpan.FromMinutes(30));

        using var late = await PostAsync("/api/sessions", body, credential);
        var session = await JsonAsync(late, HttpStatusCode.Created);
        Assert.Equal(payer.Lower, session.GetProperty("payer").GetString());
        Assert.Equal(90_000, await _gate.BalanceAsync(payer.Lower));   // charged once

        using var expired = await PostAsync("/api/sessions", body, unusedCredential);
        await ProblemAsync(expired, HttpStatusCode.PaymentRequired, "payment-expired");
        AssertFreshChallenge(expired);
        Assert.Equal(100_000, await _gate.BalanceAsync(unused.Lower));
    }

    [Fact]
    public async Task Mandate_refusal_of_a_valid_mpp_payment_is_403_without_a_challenge()
    {
        var agent = await _gate.FundedPayerAsync(10_000);
        await MandateAsync(agent, perTransaction: GetPrice / 2);
        using var offer = await _gate.WithTokenAsync(HttpMethod.Get, "/api/content/mandated", null);
        var credential = Pay(agent, ChallengeOf(offer));

        var request = new HttpRequestMessage(HttpMethod.Get, "/api/content/mandated");
        request.Headers.TryAddWithoutValidation("Authorization", credential);
        using var refused = await _gate.Http.SendAsync(request, Ct);

        var problem = await JsonAsync(refused, HttpStatusCode.Forbidden);
        Assert.Equal("limit-exceeded", problem.GetProperty("code").GetString());
        Assert.Empty(refused.Headers.WwwAuthenticate);
        Assert.False(refused.Headers.Contains(X402HeaderCodec.PaymentRequiredHeader));
        Assert.False(refused.Headers.Contains("Payment-Receipt"));
        Assert.Equal(10_000, await _gate.BalanceAsync(agent.Lower));
        Assert.Empty(_gate.Upstream.Calls);
    }

    /// <summary>A mandate for <paramref name="agent"/> signed by a fresh user wallet and by the agent itself.</summary>
    async Task MandateAsync(TestPayer agent, long perTransaction)
    {
        var userKey = RandomNumberGenerator.GetBytes(32);
        var user = Secp256k1.AddressOf(userKey);
        var expiresAt = (_gate.Clock.GetUtcNow() + TimeSpan.FromHours(24)).ToUnixTimeSeconds();
        var nonce = Hex.Encode(RandomNumberGenerator.GetBytes(32));
        var terms = new MandateTerms(user, agent.Address, new BigInteger(perTransaction), null, null, null, null, [], expiresAt, Bytes32.Parse(nonce));
        var digest = MandateTypedData.Digest(terms);
        var body = new
        {
            user = user.ToChecksumString(), agent = agent.Address.ToChecksumString(), maxPerTransaction = perTransaction.ToString(),
            maxPerDay = "0", maxPerWeek = "0", maxPerMonth = "0", requireApprovalAbove = "0", allowedMerchants = Array.Empty<string>(), expiresAt, nonce,
        };
        using var response = await _gate.SessionApiHttp.PostAsJsonAsync("/api/mandates", new
        {
            terms = body, signature = Hex.Encode(Secp256k1.Sign(digest, userKey)), agentSignature = Hex.Encode(Secp256k1.Sign(digest, agent.Key)),
        }, Ct);
        await JsonAsync(response, HttpStatusCode.Created);
    }
}
