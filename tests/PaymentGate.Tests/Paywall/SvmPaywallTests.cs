using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Sessions.PaymentGate.Facilitator.Local.Svm;
using PaymentGate.Tests.Facilitator;
using Sessions.Payments.Svm;
using Sessions.Payments.Tests.Svm;
using Sessions.Payments.X402;
using Sessions.ServiceDefaults.Payers;
using Sessions.Testing;
using static Sessions.Payments.Tests.Svm.SvmTestTransactions;

namespace PaymentGate.Tests.Paywall;

// Issue 21: an organisation with a Solana offer is paid in exact SVM beside EVM, through the facilitator interface.
public sealed class SvmPaywallTests(InfrastructureFixture infrastructure) : IAsyncLifetime
{
    const string Path = "/api/content/notes/svm";
    static readonly SolanaAddress Merchant = PayTo.Address;
    PaywallHarness _gate = null!;
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _gate = await PaywallHarness.StartAsync(infrastructure,
        new() { ["Gate:Organizations:demo:Solana:PayTo"] = Merchant.ToString() });

    public ValueTask DisposeAsync() => _gate.DisposeAsync();

    Task FundAsync(SolanaAddress owner, string amount) => SvmGatePayments.FundAsync(_gate.Http, owner, amount);

    Task<string> BalanceAsync(SolanaAddress owner) => SvmGatePayments.BalanceAsync(_gate.Http, owner);

    /// <summary>A PAYMENT-SIGNATURE for the route's SVM offer, the transaction bent by <paramref name="instructions"/> if given.</summary>
    async Task<string> PayAsync(string memo = "0123456789abcdef0123456789abcdef", List<TestInstruction>? instructions = null, TestKey[]? signers = null)
    {
        var (offer, _) = await _gate.OfferAsync(HttpMethod.Get, Path);
        var accepted = offer.Accepts.Single(a => SvmNetworks.IsSvm(a.Network));
        return X402HeaderCodec.Encode(SvmGatePayments.Payment(_gate.Factory.Services, offer.Resource, accepted, memo, instructions, signers));
    }

    [Fact]
    public async Task The_402_lists_the_evm_and_the_svm_requirement_side_by_side()
    {
        var (v2, v1) = await _gate.OfferAsync(HttpMethod.Get, Path);

        Assert.Equal(["eip155:84532", Devnet], v2.Accepts.Select(a => a.Network));
        var svm = v2.Accepts[1];
        Assert.Equal(("exact", "1000", UsdcDevnet.ToString(), Merchant.ToString()), (svm.Scheme, svm.Amount, svm.Asset, svm.PayTo));
        Assert.Equal(LocalSvmFacilitator.FeePayer, svm.Extra!.Value.GetProperty("feePayer").GetString());
        Assert.Equal("base-sepolia", Assert.Single(v1.Accepts).Network);   // x402 v1 stays EVM
    }

    [Fact]
    public async Task A_fresh_svm_payment_is_verified_settled_served_once_and_a_replay_is_refused()
    {
        await FundAsync(Payer.Address, "5000");
        var header = await PayAsync();

        using var response = await _gate.SendAsync(HttpMethod.Get, Path, header);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var settlement = PaywallHarness.SettlementOf(response);
        Assert.True(settlement.Success);
        Assert.Equal((Devnet, Payer.Address.ToString()), (settlement.Network, settlement.Payer));
        Assert.Equal(64, SimpleBase.Base58.Bitcoin.Decode(settlement.Transaction).Length);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        var signer = _gate.Factory.Services.GetRequiredService<PayerContextSigner>();
        Assert.True(signer.TryVerify(body.GetProperty("payerContext").GetString(), out var context, out var error), error);
        Assert.Equal(Payer.Address.ToString(), context!.Payer);   // the Solana address is the payer identity
        var row = Assert.Single(await _gate.PaymentsAsync());
        Assert.Equal(("served", Payer.Address.ToString(), "1000", settlement.Transaction), (row.Status, row.Payer, row.Amount, row.Transaction));
        Assert.Equal("4000", await BalanceAsync(Payer.Address));
        Assert.Equal("1000", await BalanceAsync(Merchant));

        using var replay = await _gate.SendAsync(HttpMethod.Get, Path, header);
        Assert.Equal(HttpStatusCode.PaymentRequired, replay.StatusCode);
        Assert.Equal("4000", await BalanceAsync(Payer.Address));
        Assert.Equal(1, _gate.Upstream.CallsTo(Path));
    }

    [Fact]
    public async Task Twenty_concurrent_copies_of_one_svm_payment_are_served_once()
    {
        await FundAsync(Payer.Address, "5000");
        var header = await PayAsync();

        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => _gate.SendAsync(HttpMethod.Get, Path, header)));

        Assert.Equal(1, responses.Count(r => r.StatusCode == HttpStatusCode.OK));
        Assert.Equal(19, responses.Count(r => r.StatusCode == HttpStatusCode.PaymentRequired));
        Assert.Equal(1, _gate.Upstream.CallsTo(Path));
        Assert.Equal("4000", await BalanceAsync(Payer.Address));
        Assert.Equal("served", Assert.Single(await _gate.PaymentsAsync()).Status);
        foreach (var response in responses)
            response.Dispose();
    }

    [Fact]
    public async Task A_bent_svm_payment_is_refused_with_the_facilitators_reason_and_nothing_moves()
    {
        await FundAsync(Payer.Address, "5000");
        var tooLittle = await PayAsync(instructions: [ComputeLimit(20_000), ComputePrice(1), TransferChecked(amount: 999, payTo: Merchant), Memo("a")]);
        var elsewhere = await PayAsync(instructions: [ComputeLimit(20_000), ComputePrice(1), TransferChecked(amount: 1000, payTo: TestKey.FromSeedByte(8).Address), Memo("b")]);
        var extra = await PayAsync(instructions: [ComputeLimit(20_000), ComputePrice(1), TransferChecked(amount: 1000, payTo: Merchant), Memo("c"),
            new TestInstruction(SolanaPrograms.System, [new(Payer.Address, true, true)], [2, 0, 0, 0])]);
        var forged = await PayAsync(signers: [TestKey.FromSeedByte(7)]);

        foreach (var (header, reason) in new[] { (tooLittle, SvmReasonCodes.AmountMismatch), (elsewhere, SvmReasonCodes.RecipientMismatch),
                     (extra, SvmReasonCodes.UnknownFifthInstruction), (forged, SvmReasonCodes.SignatureInvalid) })
        {
            using var response = await _gate.SendAsync(HttpMethod.Get, Path, header);
            Assert.True(response.StatusCode == HttpStatusCode.PaymentRequired, $"{reason}: {response.StatusCode}");
            var refusal = X402HeaderCodec.Decode(response.Headers.GetValues("PAYMENT-REQUIRED").Single(), X402JsonContext.Strict.PaymentRequired).Value!;
            Assert.Contains(reason, refusal.Error);
        }
        Assert.Equal("5000", await BalanceAsync(Payer.Address));
        Assert.Empty(await _gate.PaymentsAsync());
        Assert.Equal(0, _gate.Upstream.CallsTo(Path));
    }
}
