using System.Net;
using Npgsql;
using PaymentGate.Tests.Facilitator;
using Sessions.PaymentGate.Paywall;
using Sessions.PaymentGate.Sessions;
using Sessions.Payments.Svm;
using Sessions.Payments.X402;
using Sessions.Testing;
using static Sessions.Payments.Tests.Svm.SvmTestTransactions;

namespace PaymentGate.Tests.Sessions;

// Issue 21: a prepaid session opened and topped up with exact SVM payments; its payer is the Solana address, and the
// refund at close goes back on Solana, from the organisation's Solana payTo to the payer.
public sealed class SvmSessionTests(InfrastructureFixture infrastructure) : IAsyncLifetime
{
    SessionGateHarness _gate = null!;

    public async ValueTask InitializeAsync() => _gate = await SessionGateHarness.StartAsync(infrastructure,
        new() { ["Gate:Organizations:demo:Solana:PayTo"] = PayTo.Address.ToString() });

    public ValueTask DisposeAsync() => _gate.DisposeAsync();

    async Task<long> BalanceAsync(SolanaAddress owner) => long.Parse(await SvmGatePayments.BalanceAsync(_gate.Http, owner));

    /// <summary>Asks <paramref name="path"/> unpaid and pays its SVM offer (with <paramref name="memo"/> as the nonce).</summary>
    async Task<string> PaySvmAsync(string path, object body, string memo)
    {
        using var offer = await _gate.PostJsonAsync(path, body);
        Assert.Equal(HttpStatusCode.PaymentRequired, offer.StatusCode);
        var required = X402HeaderCodec.Decode(offer.Headers.GetValues(X402HeaderCodec.PaymentRequiredHeader).Single(), X402JsonContext.Strict.PaymentRequired).Value!;
        var accepted = required.Accepts.Single(a => a.Network == Devnet);
        return X402HeaderCodec.Encode(SvmGatePayments.Payment(_gate.GateServices, required.Resource, accepted, memo));
    }

    [Fact]
    public async Task A_session_opened_and_topped_up_on_solana_is_refunded_on_solana_to_the_payer()
    {
        await SvmGatePayments.FundAsync(_gate.Http, Payer.Address, "1000000");
        var body = new { deposit = "100000" };
        using var opened = await _gate.PostJsonAsync("/api/sessions", body, await PaySvmAsync("/api/sessions", body, "open"));
        var session = await SessionGateHarness.JsonAsync(opened, HttpStatusCode.Created);
        Assert.Equal((Payer.Address.ToString(), "100000"), (session.GetProperty("payer").GetString(), session.GetProperty("balance").GetString()));
        var (id, token) = (session.GetProperty("id").GetString()!, opened.Headers.GetValues(SessionSpending.TokenHeader).Single());
        Assert.Equal(900_000, await BalanceAsync(Payer.Address));

        for (var i = 0; i < 3; i++)
        {
            using var response = await _gate.WithTokenAsync(HttpMethod.Get, $"/api/content/svm/{i}", token);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        var topUpBody = new { amount = "5000" };
        using (var toppedUp = await _gate.PostJsonAsync($"/api/sessions/{id}/topup", topUpBody, await PaySvmAsync($"/api/sessions/{id}/topup", topUpBody, "topup")))
            Assert.Equal("102000", (await SessionGateHarness.JsonAsync(toppedUp, HttpStatusCode.OK)).GetProperty("balance").GetString());

        using (var closed = await _gate.WithTokenAsync(HttpMethod.Post, $"/api/sessions/{id}/close", token))
        {
            var answer = await SessionGateHarness.JsonAsync(closed, HttpStatusCode.OK);
            Assert.Equal(("102000", "ledger", SessionRefunds.TransactionOf(id)),
                (answer.GetProperty("refunded").GetString(), answer.GetProperty("method").GetString(), answer.GetProperty("transaction").GetString()));
        }
        using (var again = await _gate.WithTokenAsync(HttpMethod.Post, $"/api/sessions/{id}/close", token))
            Assert.Equal("102000", (await SessionGateHarness.JsonAsync(again, HttpStatusCode.OK)).GetProperty("refunded").GetString());

        Assert.Equal(1_000_000 - 100_000 - 5000 + 102_000, await BalanceAsync(Payer.Address));
        Assert.Equal(3000, await BalanceAsync(PayTo.Address));
    }

    // An SVM payment's claim lives PaymentAttempt.SvmClaimLifetime on the gate's clock, not the machine's: with the clock a day
    // ahead, the same header again within the lifetime still answers the session it opened, and the claim's valid_before is
    // the gate's now + 120 s.
    [Fact]
    public async Task An_svm_claim_lives_its_lifetime_on_the_gate_clock()
    {
        _gate.Clock.Advance(TimeSpan.FromDays(1));
        await SvmGatePayments.FundAsync(_gate.Http, Payer.Address, "1000000");
        var body = new { deposit = "100000" };
        var payment = await PaySvmAsync("/api/sessions", body, "clock");
        string opened;
        using (var first = await _gate.PostJsonAsync("/api/sessions", body, payment))
        {
            opened = await first.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        }
        var claimedAt = _gate.Clock.GetUtcNow();

        using var repeat = await _gate.PostJsonAsync("/api/sessions", body, payment);

        Assert.Equal((HttpStatusCode.Created, opened), (repeat.StatusCode, await repeat.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)));
        Assert.Equal(900_000, await BalanceAsync(Payer.Address));
        await using var connection = new NpgsqlConnection(_gate.GateDatabase);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = new NpgsqlCommand("SELECT valid_before FROM payments WHERE payer = $1", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = Payer.Address.ToString() });
        var validBefore = (DateTime)(await command.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;
        Assert.InRange(new DateTimeOffset(validBefore, TimeSpan.Zero) - claimedAt, PaymentAttempt.SvmClaimLifetime - TimeSpan.FromSeconds(30),
            PaymentAttempt.SvmClaimLifetime);
    }
}
