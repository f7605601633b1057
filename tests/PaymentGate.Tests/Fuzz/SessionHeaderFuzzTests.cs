extern alias sessionapi;

using System.Net.Http.Json;
using System.Numerics;
using System.Security.Cryptography;
using Npgsql;
using PaymentGate.Tests.Facilitator;
using PaymentGate.Tests.Paywall;
using PaymentGate.Tests.Sessions;
using Sessions.PaymentGate.Sessions;
using Sessions.Payments.Crypto;
using Sessions.Payments.Eip712;
using Sessions.Payments.X402;
using Sessions.Testing;
using Sessions.Testing.Fuzz;
using sessionapi::Sessions.SessionApi.Mandates;

namespace PaymentGate.Tests.Fuzz;

// The session headers fuzzed through the in-process gate and SessionApi (real Postgres, Redis): Payment-Session tokens mutated
// from a live session's token, and Mandate-Approval ids on a mandated agent's payment. Oracle per request: no 5xx, no internals;
// after all: no upstream call, no debit or new session, no payment settled, no balance changed.
public sealed class SessionHeaderFuzzTests(InfrastructureFixture infrastructure) : IAsyncLifetime
{
    const int Requests = 300;
    SessionGateHarness _gate = null!;
    int _forwarded;
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _gate = await SessionGateHarness.StartAsync(infrastructure);

    public ValueTask DisposeAsync() => _gate.DisposeAsync();

    Task<long> SessionRowsAsync() => SessionGateHarness.CountAsync(_gate.SessionsDatabase, "SELECT (SELECT count(*) FROM sessions) + (SELECT count(*) FROM session_ledger)");

    Task<long> PaymentRowsAsync() => SessionGateHarness.CountAsync(_gate.GateDatabase, "SELECT count(*) FROM payments WHERE status <> 'released'");

    [Fact]
    public async Task Fuzzed_session_tokens_never_fail_the_gate_or_spend()
    {
        var payer = await _gate.FundedPayerAsync();
        var (id, token, _) = await _gate.OpenAsync(payer, 10 * SessionGateHarness.GetPrice);
        var (sessionRows, paymentRows, balance) = (await SessionRowsAsync(), await PaymentRowsAsync(), await _gate.BalanceAsync(payer.Lower));
        _gate.VaultApiLink.OnSend = _ => Interlocked.Increment(ref _forwarded);
        var random = new Random(13201);
        string[] valid = [token, "st_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_')];

        await HeaderFuzz.RunTextAsync(13201, Requests, valid, async mutated =>
        {
            var value = HeaderFuzz.AsDelivered(mutated);
            if (value.Trim() == token)
                return;   // still the live token: spending it is right
            // A paid route (the token pays), a free route of the organisation (it identifies), the session's own endpoints (it proves).
            var (method, path) = random.Next(5) switch
            {
                0 or 1 => (HttpMethod.Get, "/api/content/notes/fuzz"),
                2 => (HttpMethod.Get, "/api/vaults/current"),
                3 => (HttpMethod.Get, random.Next(2) == 0 ? $"/api/sessions/{id}" : "/api/sessions"),
                _ => (HttpMethod.Post, $"/api/sessions/{id}/close"),
            };
            using var response = await _gate.WithTokenAsync(method, path, value);
            await GateFuzz.AssertAnsweredAsync(response);
        });

        Assert.Empty(_gate.Upstream.Calls);
        Assert.Equal(0, _forwarded);
        Assert.Equal(0, await _gate.LedgerCountAsync(id, "debit"));
        Assert.Equal((sessionRows, paymentRows, balance), (await SessionRowsAsync(), await PaymentRowsAsync(), await _gate.BalanceAsync(payer.Lower)));
        using var session = await _gate.WithTokenAsync(HttpMethod.Get, $"/api/sessions/{id}", token);
        var json = await SessionGateHarness.JsonAsync(session, System.Net.HttpStatusCode.OK);
        Assert.Equal(("ACTIVE", "10000"), (json.GetProperty("state").GetString(), json.GetProperty("balance").GetString()));
    }

    [Fact]
    public async Task Fuzzed_mandate_approval_ids_never_fail_the_gate_or_spend()
    {
        // A mandated agent whose every payment needs an approval: each request reaches SessionApi's approval lookup with the id.
        var agent = await _gate.FundedPayerAsync(10_000);
        await MandateRequiringApprovalAsync(agent);
        var payment = PaywallHarness.V1Header(agent.Sign(value: SessionGateHarness.GetPrice));
        using (var first = await _gate.Http.SendAsync(Request(payment, null), Ct))
            await GateFuzz.AssertAnsweredAsync(first);   // no approval id: an approval is requested
        var approvalIds = await SessionGateHarness.CountAsync(_gate.SessionsDatabase, "SELECT count(*) FROM mandate_approvals");
        Assert.Equal(1, approvalIds);
        var pending = await SessionApiIdAsync();

        // Fewer cases: each one verifies a signature and reaches SessionApi's mandate lookup.
        await HeaderFuzz.RunTextAsync(13202, Requests / 2, [pending, "apr_" + new string('0', 32), "00000000-0000-0000-0000-000000000000"], async approval =>
        {
            using var response = await _gate.Http.SendAsync(Request(payment, HeaderFuzz.AsDelivered(approval)), Ct);
            await GateFuzz.AssertAnsweredAsync(response);
        });

        Assert.Empty(_gate.Upstream.Calls);
        Assert.Equal(10_000, await _gate.BalanceAsync(agent.Lower));
        Assert.Equal(0, await PaymentRowsAsync());
        Assert.Equal(0, await SessionGateHarness.CountAsync(_gate.SessionsDatabase, "SELECT count(*) FROM mandate_charges WHERE released_at IS NULL"));
    }

    static HttpRequestMessage Request(string payment, string? approval)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/api/content/notes/mandated");
        request.Headers.TryAddWithoutValidation(X402HeaderCodec.PaymentHeaderV1, payment);
        if (approval is not null)
            request.Headers.TryAddWithoutValidation(MandateGuard.ApprovalHeader, approval);
        return request;
    }

    async Task<string> SessionApiIdAsync()
    {
        await using var connection = new NpgsqlConnection(_gate.SessionsDatabase);
        await connection.OpenAsync(Ct);
        await using var command = new NpgsqlCommand("SELECT id FROM mandate_approvals", connection);
        return (string)(await command.ExecuteScalarAsync(Ct))!;
    }

    async Task MandateRequiringApprovalAsync(TestPayer agent)
    {
        var userKey = RandomNumberGenerator.GetBytes(32);
        var user = Secp256k1.AddressOf(userKey);
        var expiresAt = (_gate.Clock.GetUtcNow() + TimeSpan.FromHours(24)).ToUnixTimeSeconds();
        var nonce = Hex.Encode(RandomNumberGenerator.GetBytes(32));
        var terms = new MandateTerms(user, agent.Address, null, null, null, null, BigInteger.One, [], expiresAt, Bytes32.Parse(nonce));
        var digest = MandateTypedData.Digest(terms);
        var body = new
        {
            user = user.ToChecksumString(), agent = agent.Address.ToChecksumString(), maxPerTransaction = "0", maxPerDay = "0", maxPerWeek = "0",
            maxPerMonth = "0", requireApprovalAbove = "1", allowedMerchants = Array.Empty<string>(), expiresAt, nonce,
        };
        using var response = await _gate.SessionApiHttp.PostAsJsonAsync("/api/mandates",
            new { terms = body, signature = Hex.Encode(Secp256k1.Sign(digest, userKey)), agentSignature = Hex.Encode(Secp256k1.Sign(digest, agent.Key)) }, Ct);
        Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
    }
}
