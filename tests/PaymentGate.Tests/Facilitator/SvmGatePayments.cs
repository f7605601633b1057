using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Sessions.PaymentGate.Facilitator.Local.Svm;
using Sessions.Payments.Svm;
using Sessions.Payments.Tests.Svm;
using Sessions.Payments.X402;
using static Sessions.Payments.Tests.Svm.SvmTestTransactions;

namespace PaymentGate.Tests.Facilitator;

/// <summary>
/// The gate's simulated Solana devnet as its SVM tests use it: the faucet, balances, the recent blockhash, and the exact SVM
/// PaymentPayload a client sends for an offer (the official client's four instructions, left for the offer's fee payer to co-sign).
/// </summary>
internal static class SvmGatePayments
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static async Task FundAsync(HttpClient gate, SolanaAddress owner, string amount)
    {
        using var response = await gate.PostAsJsonAsync("/dev/faucet", new { address = owner.ToString(), amount, network = Devnet }, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    public static async Task<string> BalanceAsync(HttpClient gate, SolanaAddress owner) =>
        (await gate.GetFromJsonAsync<JsonElement>($"/dev/accounts/{owner}?network={Devnet}", Ct)).GetProperty("balance").GetString()!;

    public static byte[] RecentBlockhash(IServiceProvider gate) =>
        SimpleBase.Base58.Bitcoin.Decode(gate.GetRequiredService<SimulatedSolanaChain>().LatestBlockhash(Devnet).Blockhash);

    /// <summary>
    /// Pays <paramref name="accepted"/>, an SVM offer: Payer's transfer of its amount to its payTo with <paramref name="memo"/>,
    /// or <paramref name="instructions"/> signed by <paramref name="signers"/> (default Payer) to bend it.
    /// </summary>
    public static PaymentPayload Payment(IServiceProvider gate, ResourceInfo? resource, PaymentRequirements accepted, string memo,
        List<TestInstruction>? instructions = null, TestKey[]? signers = null)
    {
        var feePayer = SolanaAddress.Parse(accepted.Extra!.Value.GetProperty("feePayer").GetString()!);
        var transfer = TransferChecked(amount: ulong.Parse(accepted.Amount), payTo: SolanaAddress.Parse(accepted.PayTo));
        var transaction = Build(instructions ?? [ComputeLimit(20_000), ComputePrice(1), transfer, Memo(memo)], signers, feePayer,
            blockhash: RecentBlockhash(gate));
        return new PaymentPayload { Resource = resource, Accepted = accepted, Payload = JsonSerializer.SerializeToElement(new { transaction }) };
    }
}
