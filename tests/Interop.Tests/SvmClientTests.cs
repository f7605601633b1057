using System.Globalization;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Sessions.Payments.Receipts;
using Sessions.Payments.Svm;

namespace Interop.Tests;

/// <summary>
/// x402 exact on Solana (issue 21): the official @x402/svm client with @x402/fetch, its RPC pointed at the gate's simulated
/// Solana JSON-RPC, pays content routes and a session's deposit and top-up through the gate and its local facilitator (the
/// session's refund goes back on Solana); bent copies of what it signs are
/// refused with the official reason codes and nothing moves (svm-fetch.mjs).
/// </summary>
public class SvmClientTests(StackFixture stack)
{
    const string Devnet = SvmNetworks.Devnet;
    const long Funding = PaymentAssertions.Funding;

    [Fact]
    public async Task Official_svm_client_pays_content_and_a_session_and_bent_or_replayed_payments_are_refused()
    {
        var ct = TestContext.Current.CancellationToken;
        var seed = RandomNumberGenerator.GetBytes(32);
        var payer = SolanaAddress.FromBytes(new Ed25519Key(seed).PublicKey).ToString();
        using (var funded = await stack.Gate.PostAsJsonAsync("dev/faucet", new { address = payer, amount = Funding.ToString(CultureInfo.InvariantCulture), network = Devnet }, ct))
            Assert.True(funded.IsSuccessStatusCode, await funded.Content.ReadAsStringAsync(ct));
        var merchantBefore = await BalanceAsync(StackFixture.SolanaMerchant, ct);

        var result = await stack.RunScriptAsync("svm-fetch.mjs", new Dictionary<string, string>
        {
            ["GATE_URL"] = stack.GateUrl,
            ["SVM_SECRET"] = Convert.ToHexStringLower(seed),
        }, ct);

        var context = NodeRunner.Pretty(result);
        Assert.Equal(payer, result.GetProperty("payer").GetString());
        var put = result.GetProperty("put");
        var get = result.GetProperty("get");
        Assert.True(put.GetProperty("status").GetInt32() is >= 200 and < 300, context);
        Assert.True(get.GetProperty("status").GetInt32() == 200, context);
        Assert.Contains(result.GetProperty("value").GetString()!, get.GetProperty("body").GetString()!);
        foreach (var paid in new[] { put, get })
        {
            var settlement = paid.GetProperty("paymentResponse");
            Assert.True(settlement.GetProperty("success").GetBoolean(), context);
            Assert.Equal(Devnet, settlement.GetProperty("network").GetString());
            Assert.Equal(payer, settlement.GetProperty("payer").GetString());
            Assert.True(SimpleBase.Base58.Bitcoin.Decode(settlement.GetProperty("transaction").GetString()).Length == 64, context);
        }
        var exchanges = result.GetProperty("exchanges").EnumerateArray().ToList();
        Assert.True(exchanges.Count == 2 && exchanges[0].GetProperty("status").GetInt32() == 402
            && exchanges[1].GetProperty("paymentHeader").GetString() == "PAYMENT-SIGNATURE", context);

        var refused = result.GetProperty("refused");
        foreach (var (name, reason) in new[]
                 {
                     ("underpaid", SvmReasonCodes.AmountMismatch), ("redirected", SvmReasonCodes.RecipientMismatch),
                     ("foreignSignature", SvmReasonCodes.SignatureInvalid), ("extraInstruction", SvmReasonCodes.UnknownFifthInstruction),
                     ("replayed", null),
                 })
        {
            var answer = refused.GetProperty(name);
            Assert.True(answer.GetProperty("status").GetInt32() == 402, $"{name}:\n{context}");
            if (reason is not null)
                Assert.True(answer.GetProperty("error").GetString()!.Contains(reason, StringComparison.Ordinal), $"{name} should be {reason}:\n{context}");
        }

        // The session: deposit 10000 and top-up 5000 settled on Solana, two GETs spent, the rest refunded on Solana.
        var session = result.GetProperty("session");
        Assert.True(session.GetProperty("opened").GetProperty("status").GetInt32() == 201, context);
        Assert.Equal(payer, session.GetProperty("opened").GetProperty("body").GetProperty("payer").GetString());
        Assert.Equal(Devnet, session.GetProperty("opened").GetProperty("settlement").GetProperty("network").GetString());
        Assert.All(session.GetProperty("spent").EnumerateArray(), status => Assert.Equal(200, status.GetInt32()));
        Assert.True(session.GetProperty("topUp").GetProperty("settlement").GetProperty("success").GetBoolean(), context);
        var closed = session.GetProperty("closed").GetProperty("body");
        var refund = 10_000 + 5_000 - 2 * PaymentAssertions.GetPrice;
        Assert.True(closed.GetProperty("refunded").GetString() == refund.ToString(CultureInfo.InvariantCulture), context);
        Assert.Equal("ledger", closed.GetProperty("method").GetString());

        // Charged exactly PUT + GET + the session's spending, to the demo merchant's Solana account; the refusals moved nothing.
        var charged = PaymentAssertions.PutPrice + PaymentAssertions.GetPrice + 2 * PaymentAssertions.GetPrice;
        Assert.Equal(Funding - charged, await BalanceAsync(payer, ct));
        Assert.Equal(merchantBefore + charged, await BalanceAsync(StackFixture.SolanaMerchant, ct));
    }

    async Task<long> BalanceAsync(string owner, CancellationToken ct)
    {
        var account = await stack.Gate.GetFromJsonAsync<JsonElement>($"dev/accounts/{owner}?network={Devnet}", ct);
        return long.Parse(account.GetProperty("balance").GetString()!, CultureInfo.InvariantCulture);
    }
}
