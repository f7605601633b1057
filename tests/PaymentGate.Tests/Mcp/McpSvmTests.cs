using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using PaymentGate.Tests.Facilitator;
using PaymentGate.Tests.Paywall;
using Sessions.PaymentGate.Facilitator.Local.Svm;
using Sessions.Payments.Svm;
using Sessions.Payments.X402;
using Sessions.ServiceDefaults.Payers;
using Sessions.Testing;
using static PaymentGate.Tests.Mcp.McpClient;
using static Sessions.Payments.Tests.Svm.SvmTestTransactions;

namespace PaymentGate.Tests.Mcp;

// Issue 21: a priced MCP tool of an organisation with a Solana offer takes an exact SVM payment in _meta["x402/payment"].
public sealed class McpSvmTests(InfrastructureFixture infrastructure) : IAsyncLifetime
{
    McpGateHarness _harness = null!;
    PaywallHarness _gate = null!;
    FakeMcpServer _mcp = null!;

    public async ValueTask InitializeAsync()
    {
        _harness = await McpGateHarness.StartAsync(infrastructure, new() { ["Gate:Organizations:demo:Solana:PayTo"] = PayTo.Address.ToString() });
        (_gate, _mcp) = (_harness.Gate, _harness.Mcp);
    }

    public ValueTask DisposeAsync() => _harness.DisposeAsync();

    Task<string> BalanceAsync(SolanaAddress owner) => SvmGatePayments.BalanceAsync(_gate.Http, owner);

    [Fact]
    public async Task A_priced_tool_offers_solana_beside_evm_and_an_svm_payment_in_meta_is_settled_once()
    {
        var unpaid = await CallAsync(_gate.Http, ToolCall("put-content", new { key = "k", value = "v" }));
        var required = unpaid["result"]!["structuredContent"]!.Deserialize(X402JsonContext.Strict.PaymentRequired)!;
        Assert.Equal(["eip155:84532", Devnet], required.Accepts.Select(a => a.Network));
        var accepted = required.Accepts[1];
        Assert.Equal(LocalSvmFacilitator.FeePayer, accepted.Extra!.Value.GetProperty("feePayer").GetString());

        await SvmGatePayments.FundAsync(_gate.Http, Payer.Address, "50000");
        var payment = JsonSerializer.SerializeToNode(SvmGatePayments.Payment(_gate.Factory.Services, required.Resource, accepted, "mcp"),
            X402JsonContext.Strict.PaymentPayload)!;

        var answer = await CallAsync(_gate.Http, ToolCall("put-content", new { key = "k", value = "v" }, payment));
        var replay = await CallAsync(_gate.Http, ToolCall("put-content", new { key = "k", value = "v" }, payment.DeepClone()));

        var settlement = answer["result"]!["_meta"]!["x402/payment-response"]!.Deserialize(X402JsonContext.Strict.SettleResponse)!;
        Assert.True(settlement.Success);
        Assert.Equal((Devnet, Payer.Address.ToString()), (settlement.Network, settlement.Payer));
        var call = Assert.Single(_mcp.ToolCalls("put-content"));
        Assert.True(_gate.Factory.Services.GetRequiredService<PayerContextSigner>().TryVerify(call.PayerContext, out var context, out var error), error);
        Assert.Equal(Payer.Address.ToString(), context!.Payer);
        Assert.True(replay["result"]!["isError"]!.GetValue<bool>());   // the same payment again: payment required, not served
        Assert.Equal("40000", await BalanceAsync(Payer.Address));
        Assert.Equal("10000", await BalanceAsync(PayTo.Address));
    }
}
