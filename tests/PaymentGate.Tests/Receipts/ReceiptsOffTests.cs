using System.Net;
using Microsoft.Extensions.DependencyInjection;
using PaymentGate.Tests.Facilitator;
using PaymentGate.Tests.Paywall;
using PaymentGate.Tests.Sessions;
using Sessions.PaymentGate.Receipts;
using Sessions.PaymentGate.Sessions;
using Sessions.Payments.Receipts;
using Sessions.ServiceDefaults.Ledger;
using Sessions.Testing;

namespace PaymentGate.Tests.Receipts;

// Gate:Receipts:Enabled false (measuring the receipts' cost, or an operator who does not want them): charged answers carry no
// Sessions-Receipt and none is stored, while the keys stay published (offers and checkpoints are signed with them).
public sealed class ReceiptsOffPaymentTests(InfrastructureFixture infrastructure) : IAsyncLifetime
{
    PaywallHarness _gate = null!;
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _gate = await PaywallHarness.StartAsync(infrastructure, new()
    {
        ["Gate:Receipts:Enabled"] = "false",
        ["Gate:Receipts:SigningKeys:0"] = "receipts-off-key-secret",
    });

    public ValueTask DisposeAsync() => _gate.DisposeAsync();

    [Fact]
    public async Task A_paid_request_answers_without_a_receipt_and_stores_none_and_the_keys_stay_published()
    {
        var payer = new TestPayer();
        await _gate.FundAsync(payer);
        using var response = await _gate.SendAsync(HttpMethod.Get, "/api/content/notes/off",
            await _gate.PayV2Async(payer, HttpMethod.Get, "/api/content/notes/off"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(response.Headers.Contains("PAYMENT-RESPONSE"));
        Assert.False(response.Headers.Contains(ReceiptIssuer.HeaderName));
        await _gate.Factory.Services.GetRequiredService<ReceiptStore>().FlushAsync(Ct);
        Assert.Equal(0L, await SessionGateHarness.CountAsync(_gate.Database, "SELECT count(*) FROM receipt_batches"));
        var jwks = JwkSet.TryParse(await _gate.Http.GetStringAsync("/.well-known/jwks.json", Ct));
        Assert.Equal(Ed25519Key.FromSecret("receipts-off-key-secret").Kid, Assert.Single(jwks!.Keys).Kid);
    }
}

// Both switches of the benchmark's RECEIPTS=off on the gate: a session debit gets no receipt, and the gate's chainer
// (Ledger:Chain:Enabled false) does not chain the deposit's settlement and transfer; the rows wait for a chainer that runs.
public sealed class ReceiptsAndChainOffSessionTests(InfrastructureFixture infrastructure) : IAsyncLifetime
{
    SessionGateHarness _gate = null!;
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _gate = await SessionGateHarness.StartAsync(infrastructure, new()
    {
        ["Gate:Receipts:Enabled"] = "false",
        ["Ledger:Chain:Enabled"] = "false",
    });

    public ValueTask DisposeAsync() => _gate.DisposeAsync();

    [Fact]
    public async Task A_session_debit_answers_without_a_receipt_and_the_gate_chains_nothing()
    {
        var payer = await _gate.FundedPayerAsync();
        var (_, token, _) = await _gate.OpenAsync(payer, 100_000);

        using var response = await _gate.WithTokenAsync(HttpMethod.Get, "/api/content/notes/off", token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("99000", SessionGateHarness.Header(response, SessionSpending.BalanceHeader));
        Assert.False(response.Headers.Contains(ReceiptIssuer.HeaderName));
        await _gate.GateServices.GetRequiredService<ReceiptStore>().FlushAsync(Ct);
        Assert.Equal(0L, await SessionGateHarness.CountAsync(_gate.GateDatabase, "SELECT count(*) FROM receipt_batches"));

        // The chainer runs at start and every second when on: three intervals without an entry.
        var chainer = _gate.GateServices.GetRequiredService<LedgerChainer>();
        await Task.Delay(chainer.Options.Interval * 3, Ct);
        Assert.Equal(0L, await SessionGateHarness.CountAsync(_gate.GateDatabase, "SELECT count(*) FROM ledger_chain"));
        var waiting = await chainer.UnchainedAsync(Ct);
        Assert.True(waiting >= 2, $"{waiting} movements waiting");   // the faucet, the deposit's transfer and settlement

        // Nothing is lost: a chainer that runs (the switch back on) chains them all, in order.
        await chainer.ChainAllAsync();
        Assert.Equal(waiting, await SessionGateHarness.CountAsync(_gate.GateDatabase, "SELECT count(*) FROM ledger_chain"));
    }
}
