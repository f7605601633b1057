extern alias sessionapi;

using System.Net;
using System.Net.Http.Json;
using System.Numerics;
using System.Security.Cryptography;
using System.Text.Json;
using PaymentGate.Tests.Facilitator;
using PaymentGate.Tests.Paywall;
using Sessions.PaymentGate.Sessions;
using Sessions.Payments.Crypto;
using Sessions.Payments.Eip712;
using Sessions.Payments.X402;
using Sessions.Testing;
using sessionapi::Sessions.SessionApi.Mandates;
using static PaymentGate.Tests.Sessions.SessionGateHarness;

namespace PaymentGate.Tests.Sessions;

// x402 payments of a mandated agent at the gate: charged against the mandate after verify and claim, before forwarding and
// settling; a refusal settles nothing and is SessionApi's problem+json without a payment challenge.
public sealed partial class MandateGateTests(InfrastructureFixture infrastructure) : IAsyncLifetime
{
    SessionGateHarness _gate = null!;
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _gate = await SessionGateHarness.StartAsync(infrastructure);

    public ValueTask DisposeAsync() => _gate.DisposeAsync();

    sealed class UserWallet
    {
        public byte[] Key { get; } = RandomNumberGenerator.GetBytes(32);
        public EvmAddress Address => Secp256k1.AddressOf(Key);
        public string Sign(byte[] digest) => Hex.Encode(Secp256k1.Sign(digest, Key));
    }

    /// <summary>Consent terms signed by a fresh user wallet and by the agent (or by <paramref name="agentKey"/>): (POST /api/mandates body, user).</summary>
    (object Body, UserWallet User) Consent(TestPayer agent, long? perTransaction = null, long? perDay = null, long? approvalAbove = null,
        byte[]? agentKey = null)
    {
        var user = new UserWallet();
        var expiresAt = (_gate.Clock.GetUtcNow() + TimeSpan.FromHours(24)).ToUnixTimeSeconds();
        var nonce = Hex.Encode(RandomNumberGenerator.GetBytes(32));
        BigInteger? Big(long? v) => v is { } x ? new BigInteger(x) : null;
        var terms = new MandateTerms(user.Address, agent.Address, Big(perTransaction), Big(perDay), null, null, Big(approvalAbove), [], expiresAt,
            Bytes32.Parse(nonce));
        var digest = MandateTypedData.Digest(terms);
        var body = new
        {
            user = user.Address.ToChecksumString(), agent = agent.Address.ToChecksumString(), maxPerTransaction = (perTransaction ?? 0).ToString(),
            maxPerDay = (perDay ?? 0).ToString(), maxPerWeek = "0", maxPerMonth = "0", requireApprovalAbove = (approvalAbove ?? 0).ToString(),
            allowedMerchants = Array.Empty<string>(), expiresAt, nonce,
        };
        return (new { terms = body, signature = user.Sign(digest), agentSignature = Hex.Encode(Secp256k1.Sign(digest, agentKey ?? agent.Key)) }, user);
    }

    /// <summary>A mandate signed by a fresh user wallet and by the agent, created through the gate as its owner does; returns (id, user).</summary>
    async Task<(string Id, UserWallet User)> MandateAsync(TestPayer agent, long? perTransaction = null, long? perDay = null, long? approvalAbove = null)
    {
        var (body, user) = Consent(agent, perTransaction, perDay, approvalAbove);
        using var response = await _gate.Http.PostAsJsonAsync("/api/mandates", body, Ct);
        return ((await JsonAsync(response, HttpStatusCode.Created)).GetProperty("id").GetString()!, user);
    }

    /// <summary>The user's decision, through the gate.</summary>
    async Task<JsonElement> DecideAsync(string approvalId, string decision, UserWallet user)
    {
        var ts = _gate.Clock.GetUtcNow().ToUnixTimeSeconds();
        using var response = await _gate.Http.PostAsJsonAsync($"/api/approvals/{approvalId}/{decision}",
            new { timestamp = ts, signature = user.Sign(MandateTypedData.DecisionDigest(approvalId, decision, ts)) }, Ct);
        return await JsonAsync(response, HttpStatusCode.OK);
    }

    /// <summary>The mandate as SessionApi has it (read directly, unsigned: the cluster's view).</summary>
    async Task<JsonElement> MandateJsonAsync(string id) => await _gate.SessionApiHttp.GetFromJsonAsync<JsonElement>($"/api/mandates/{id}", Ct);

    Task<HttpResponseMessage> PayAsync(TestPayer payer, string path, string? approvalId = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.TryAddWithoutValidation(X402HeaderCodec.PaymentHeaderV1, PaywallHarness.V1Header(payer.Sign(value: GetPrice)));
        if (approvalId is not null) request.Headers.TryAddWithoutValidation(MandateGuard.ApprovalHeader, approvalId);
        return _gate.Http.SendAsync(request, Ct);
    }

    static async Task<JsonElement> RefusedAsync(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        var problem = await JsonAsync(response, status);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(code, problem.GetProperty("code").GetString());
        // No challenge: paying again would not help.
        Assert.False(response.Headers.Contains(X402HeaderCodec.PaymentRequiredHeader));
        Assert.False(response.Headers.Contains(X402HeaderCodec.PaymentResponseHeader));
        return problem;
    }

    [Fact]
    public async Task Payer_without_a_mandate_pays_as_usual()
    {
        var payer = await _gate.FundedPayerAsync(10_000);
        using var response = await PayAsync(payer, "/api/content/free-agent");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(9_000, await _gate.BalanceAsync(payer.Lower));
    }

    [Fact]
    public async Task Over_the_limit_is_403_limit_exceeded_without_a_charge_on_the_ledger_and_the_payment_stays_usable()
    {
        var agent = await _gate.FundedPayerAsync(10_000);
        var (mandateId, _) = await MandateAsync(agent, perTransaction: GetPrice / 2);

        using (var refused = await PayAsync(agent, "/api/content/notes/1"))
        {
            var problem = await RefusedAsync(refused, HttpStatusCode.Forbidden, "limit-exceeded");
            Assert.Equal(("maxPerTransaction", mandateId), (problem.GetProperty("limit").GetString(), problem.GetProperty("mandateId").GetString()));
        }
        Assert.Equal(10_000, await _gate.BalanceAsync(agent.Lower));
        Assert.Equal(1, (await _gate.TransfersAsync(agent.Lower)).GetArrayLength()); // the faucet's, nothing else
        Assert.Empty(_gate.Upstream.Calls);
        Assert.Equal("0", (await MandateJsonAsync(mandateId)).GetProperty("spentToday").GetString());
    }

    [Fact]
    public async Task Above_the_threshold_waits_for_approval_approved_is_served_once_denied_is_403()
    {
        var agent = await _gate.FundedPayerAsync(10_000);
        var (mandateId, user) = await MandateAsync(agent, approvalAbove: GetPrice / 2);

        string approvalId;
        using (var held = await PayAsync(agent, "/api/content/a"))
        {
            var problem = await RefusedAsync(held, HttpStatusCode.Conflict, "approval-required");
            Assert.Equal("pending_approval", problem.GetProperty("state").GetString());
            approvalId = problem.GetProperty("approvalId").GetString()!;
        }
        // Still pending: the retry with the approval id is held again; nothing moved.
        using (var pending = await PayAsync(agent, "/api/content/a", approvalId))
            await RefusedAsync(pending, HttpStatusCode.Conflict, "approval-required");
        Assert.Equal(10_000, await _gate.BalanceAsync(agent.Lower));

        Assert.Equal("approved", (await DecideAsync(approvalId, "approve", user)).GetProperty("state").GetString());
        using (var paid = await PayAsync(agent, "/api/content/a", approvalId))
        {
            Assert.Equal(HttpStatusCode.OK, paid.StatusCode);
            Assert.True(PaywallHarness.SettlementOf(paid).Success);
        }
        Assert.Equal(9_000, await _gate.BalanceAsync(agent.Lower));
        Assert.Equal(GetPrice.ToString(), (await MandateJsonAsync(mandateId)).GetProperty("spentToday").GetString());
        // An approval pays once.
        using (var again = await PayAsync(agent, "/api/content/a", approvalId))
            await RefusedAsync(again, HttpStatusCode.Conflict, "approval-used");

        string second;
        using (var held = await PayAsync(agent, "/api/content/b"))
            second = (await RefusedAsync(held, HttpStatusCode.Conflict, "approval-required")).GetProperty("approvalId").GetString()!;
        Assert.Equal("denied", (await DecideAsync(second, "deny", user)).GetProperty("state").GetString());
        using (var denied = await PayAsync(agent, "/api/content/b", second))
            await RefusedAsync(denied, HttpStatusCode.Forbidden, "approval-denied");
        Assert.Equal(9_000, await _gate.BalanceAsync(agent.Lower));
        Assert.Single(_gate.Upstream.Calls);
    }

    [Fact]
    public async Task Session_debit_above_the_threshold_waits_for_approval_then_the_same_request_with_Mandate_Approval_is_served_once()
    {
        var agent = await _gate.FundedPayerAsync(100_000);
        var (id, token, _) = await _gate.OpenAsync(agent, 10 * GetPrice);   // a deposit is not spending: no approval needed
        var (mandateId, user) = await MandateAsync(agent, approvalAbove: GetPrice / 2);
        Task<HttpResponseMessage> Spend(string? approvalId)
        {
            var request = new HttpRequestMessage(HttpMethod.Get, "/api/content/report");
            request.Headers.TryAddWithoutValidation(SessionSpending.TokenHeader, token);
            if (approvalId is not null) request.Headers.TryAddWithoutValidation(MandateGuard.ApprovalHeader, approvalId);
            return _gate.Http.SendAsync(request, Ct);
        }

        string approvalId;
        using (var held = await Spend(null))
            approvalId = (await RefusedAsync(held, HttpStatusCode.Conflict, "approval-required")).GetProperty("approvalId").GetString()!;
        Assert.Empty(_gate.Upstream.Calls);
        using (var malformed = await Spend("apr_not-an-id"))
            Assert.True((await JsonAsync(malformed, HttpStatusCode.BadRequest)).GetProperty("errors").TryGetProperty("approvalId", out _));

        Assert.Equal("approved", (await DecideAsync(approvalId, "approve", user)).GetProperty("state").GetString());
        using (var served = await Spend(approvalId))
        {
            Assert.Equal(HttpStatusCode.OK, served.StatusCode);
            Assert.Equal("9000", Header(served, SessionSpending.BalanceHeader));
        }
        Assert.Single(_gate.Upstream.Calls);
        Assert.Equal("1000", (await MandateJsonAsync(mandateId)).GetProperty("spentToday").GetString());

        // An approval is used once: the next request above the threshold needs a new one, and nothing more is debited.
        using (var again = await Spend(approvalId))
            await RefusedAsync(again, HttpStatusCode.Conflict, "approval-used");
        using var get = await _gate.WithTokenAsync(HttpMethod.Get, $"/api/sessions/{id}", token);
        var session = await JsonAsync(get, HttpStatusCode.OK);
        Assert.Equal(("9000", 1L), (session.GetProperty("balance").GetString(), session.GetProperty("requestCount").GetInt64()));
    }

    [Fact]
    public async Task Failed_upstream_releases_the_mandate_charge()
    {
        var agent = await _gate.FundedPayerAsync(10_000);
        // Room for exactly one payment a day: a charge left behind by the failure would refuse the next one.
        var (mandateId, _) = await MandateAsync(agent, perDay: GetPrice);

        using (var failed = await PayAsync(agent, "/api/content/fail-1"))
            Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
        Assert.Equal(10_000, await _gate.BalanceAsync(agent.Lower));
        Assert.Equal("0", (await MandateJsonAsync(mandateId)).GetProperty("spentToday").GetString());

        using (var ok = await PayAsync(agent, "/api/content/ok"))
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal(9_000, await _gate.BalanceAsync(agent.Lower));
        var mandate = await MandateJsonAsync(mandateId);
        Assert.Equal(("1000", "0"), (mandate.GetProperty("spentToday").GetString(), mandate.GetProperty("remainingToday").GetString()));

        using (var over = await PayAsync(agent, "/api/content/ok2"))
            await RefusedAsync(over, HttpStatusCode.Forbidden, "limit-exceeded");
        Assert.Equal(9_000, await _gate.BalanceAsync(agent.Lower));
    }

    [Fact]
    public async Task Release_that_SessionApi_misses_is_owed_and_applied_once_it_answers()
    {
        var agent = await _gate.FundedPayerAsync(10_000);
        var (mandateId, _) = await MandateAsync(agent, perDay: GetPrice);
        _gate.SessionApiLink.DownFor = request => request.RequestUri!.AbsolutePath.EndsWith("/release", StringComparison.Ordinal);
        using (var failed = await PayAsync(agent, "/api/content/fail-1"))
            Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
        // Nothing settled, but the charge still counts against the day until the release lands.
        Assert.Equal(10_000, await _gate.BalanceAsync(agent.Lower));
        Assert.Equal("1000", (await MandateJsonAsync(mandateId)).GetProperty("spentToday").GetString());
        var owed = Assert.Single(await _gate.CompensationsAsync());
        Assert.Equal(("mandate-release", "pending"), (owed.Kind, owed.Status));
        Assert.StartsWith("pay_", owed.Key);

        Assert.Equal(0, await _gate.RetryCompensationsNowAsync());
        _gate.SessionApiLink.DownFor = null;
        Assert.Equal(1, await _gate.RetryCompensationsNowAsync());
        var done = Assert.Single(await _gate.CompensationsAsync());
        Assert.Equal(("done", "released", 2), (done.Status, done.Outcome, done.Attempts));
        Assert.Equal("0", (await MandateJsonAsync(mandateId)).GetProperty("spentToday").GetString());
        using (var ok = await PayAsync(agent, "/api/content/ok"))
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
    }

    [Fact]
    public async Task A_payment_whose_release_is_missed_twice_is_owed_twice_and_released_twice()
    {
        var agent = await _gate.FundedPayerAsync(10_000);
        var (mandateId, _) = await MandateAsync(agent, perDay: GetPrice);
        var header = PaywallHarness.V1Header(agent.Sign(value: GetPrice));
        async Task FailOnceMissingTheReleaseAsync()
        {
            _gate.SessionApiLink.DownFor = request => request.RequestUri!.AbsolutePath.EndsWith("/release", StringComparison.Ordinal);
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/content/fail-1");
            request.Headers.TryAddWithoutValidation(X402HeaderCodec.PaymentHeaderV1, header);
            using var failed = await _gate.Http.SendAsync(request, Ct);
            Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
            _gate.SessionApiLink.DownFor = null;
            Assert.Equal("1000", (await MandateJsonAsync(mandateId)).GetProperty("spentToday").GetString());
        }

        await FailOnceMissingTheReleaseAsync();
        Assert.Equal(1, await _gate.RetryCompensationsNowAsync());
        Assert.Equal("0", (await MandateJsonAsync(mandateId)).GetProperty("spentToday").GetString());
        // The same (released) payment presented again, charged again under the same key, fails again, release missed again:
        // the row that was done is owed again, not swallowed.
        await FailOnceMissingTheReleaseAsync();
        var reopened = Assert.Single(await _gate.CompensationsAsync());
        Assert.Equal(("pending", 0), (reopened.Status, reopened.Attempts));
        Assert.Equal(1, await _gate.RetryCompensationsNowAsync());
        Assert.Equal("done", Assert.Single(await _gate.CompensationsAsync()).Status);
        Assert.Equal("0", (await MandateJsonAsync(mandateId)).GetProperty("spentToday").GetString());
        Assert.Equal(10_000, await _gate.BalanceAsync(agent.Lower));
    }

    [Fact]
    public async Task Owed_release_of_a_payment_presented_again_and_settled_leaves_the_charge_standing()
    {
        var agent = await _gate.FundedPayerAsync(10_000);
        var (mandateId, _) = await MandateAsync(agent, perDay: 10 * GetPrice);
        var header = PaywallHarness.V1Header(agent.Sign(value: GetPrice));
        Task<HttpResponseMessage> Send(string path)
        {
            var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.TryAddWithoutValidation(X402HeaderCodec.PaymentHeaderV1, header);
            return _gate.Http.SendAsync(request, Ct);
        }
        _gate.SessionApiLink.DownFor = request => request.RequestUri!.AbsolutePath.EndsWith("/release", StringComparison.Ordinal);
        using (var failed = await Send("/api/content/fail-1"))
            Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
        _gate.SessionApiLink.DownFor = null;
        // A released payment may be presented again: this time it is served and settled, under the same charge.
        using (var ok = await Send("/api/content/ok"))
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal(9_000, await _gate.BalanceAsync(agent.Lower));

        Assert.Equal(1, await _gate.RetryCompensationsNowAsync());
        var done = Assert.Single(await _gate.CompensationsAsync());
        Assert.Equal("done", done.Status);
        Assert.Contains("the charge stands", done.Outcome);
        Assert.Equal("1000", (await MandateJsonAsync(mandateId)).GetProperty("spentToday").GetString());
    }

    [Fact]
    public async Task SessionApi_down_answers_503_and_settles_nothing()
    {
        var agent = await _gate.FundedPayerAsync(10_000);
        await MandateAsync(agent, perDay: 10 * GetPrice);
        _gate.SessionApiLink.Down = true;
        using (var response = await PayAsync(agent, "/api/content/down"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
        Assert.Empty(_gate.Upstream.Calls);
        Assert.Equal(10_000, await _gate.BalanceAsync(agent.Lower));
        _gate.SessionApiLink.Down = false;
    }
}
