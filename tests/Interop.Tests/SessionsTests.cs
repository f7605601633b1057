using System.Globalization;
using System.Numerics;
using System.Text.Json;

namespace Interop.Tests;

/// <summary>
/// Issue 5's acceptance through the running stack with the official client: @x402/fetch opens a session with a deposit of
/// 100 GET prices, 100 GETs with the Payment-Session header and no payment are served, the 101st is a 402 with a fresh
/// challenge and a top-up hint, a paid top-up reactivates it, and closing refunds exactly the remainder on the ledger.
/// </summary>
public class SessionsTests(StackFixture stack)
{
    const long Funding = PaymentAssertions.Funding;
    const long PutPrice = PaymentAssertions.PutPrice;
    const long GetPrice = PaymentAssertions.GetPrice;

    [Fact]
    public async Task Official_client_opens_a_session_spends_100_requests_tops_up_and_closes_with_an_exact_refund()
    {
        var ct = TestContext.Current.CancellationToken;
        var wallet = await stack.FundedWalletAsync(Funding, ct);

        var result = await stack.RunScriptAsync("sessions.mjs", new Dictionary<string, string>
        {
            ["GATE_URL"] = stack.GateUrl,
            ["PRIVATE_KEY"] = wallet.PrivateKey,
        }, ct);

        var context = NodeRunner.Pretty(result);
        Assert.True(result.GetProperty("price").GetString() == GetPrice.ToString(CultureInfo.InvariantCulture), context);
        const long deposit = 100 * GetPrice;
        const long topUp = 5 * GetPrice;

        // Open: unpaid POST -> 402 asking for the deposit -> paid retry -> 201 with the session and its token.
        var offer = result.GetProperty("openOffer").EnumerateArray().ToList();
        Assert.True(offer.Count == 2 && offer[0].GetProperty("status").GetInt32() == 402 && offer[1].GetProperty("status").GetInt32() == 201, context);
        Assert.True(offer[1].GetProperty("paymentHeader").GetString() == "PAYMENT-SIGNATURE", context);
        PaymentAssertions.Settlement(result.GetProperty("open").GetProperty("paymentResponse"), wallet, ["eip155:84532"], context);
        var session = result.GetProperty("session");
        Assert.Equal(("ACTIVE", deposit.ToString(CultureInfo.InvariantCulture), wallet.AddressLower),
            (session.GetProperty("state").GetString(), session.GetProperty("balance").GetString(), session.GetProperty("payer").GetString()));

        // 100 served, the balance going down by the price each time.
        var balances = result.GetProperty("balances").EnumerateArray().Select(b => long.Parse(b.GetString()!, CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(Enumerable.Range(1, 100).Select(i => deposit - i * GetPrice), balances);

        // The 101st: a fresh x402 challenge for the GET price (both generations) plus the top-up hint.
        var refused = result.GetProperty("refused");
        Assert.True(refused.GetProperty("status").GetInt32() == 402, context);
        Assert.Equal(GetPrice.ToString(CultureInfo.InvariantCulture), refused.GetProperty("paymentRequired").GetProperty("accepts")[0].GetProperty("amount").GetString());
        Assert.Equal(1, refused.GetProperty("x402Version").GetInt32());
        Assert.Equal(GetPrice.ToString(CultureInfo.InvariantCulture), refused.GetProperty("accepts")[0].GetProperty("maxAmountRequired").GetString());
        Assert.Equal($"/api/sessions/{session.GetProperty("id").GetString()}/topup", refused.GetProperty("topUp").GetProperty("path").GetString());

        // Top-up paid by the official client reactivates the session.
        var toppedUp = result.GetProperty("topUp");
        Assert.True(toppedUp.GetProperty("status").GetInt32() == 200, context);
        Assert.Equal(("ACTIVE", topUp.ToString(CultureInfo.InvariantCulture)),
            (toppedUp.GetProperty("body").GetProperty("state").GetString(), toppedUp.GetProperty("body").GetProperty("balance").GetString()));
        PaymentAssertions.Settlement(toppedUp.GetProperty("paymentResponse"), wallet, ["eip155:84532"], context);
        Assert.All(result.GetProperty("afterTopUp").EnumerateArray(), r => Assert.Equal(200, r.GetProperty("status").GetInt32()));

        // Close refunds exactly what is left, through the local ledger; the token is worth nothing afterwards.
        const long remainder = topUp - 3 * GetPrice;
        var closed = result.GetProperty("closed");
        Assert.True(closed.GetProperty("status").GetInt32() == 200, context);
        Assert.Equal((remainder.ToString(CultureInfo.InvariantCulture), "ledger"),
            (closed.GetProperty("body").GetProperty("refunded").GetString(), closed.GetProperty("body").GetProperty("method").GetString()));
        Assert.Equal(402, result.GetProperty("afterClose").GetProperty("status").GetInt32());

        var account = await stack.AccountAsync(wallet.Address, ct);
        Assert.Equal(new BigInteger(Funding - PutPrice - deposit - topUp + remainder), BigInteger.Parse(account.Balance, CultureInfo.InvariantCulture));
        var refund = Assert.Single(account.Transfers, t => t.Kind == "refund");
        Assert.Equal((PaymentAssertions.DemoPayTo.ToLowerInvariant(), wallet.AddressLower, remainder.ToString(CultureInfo.InvariantCulture)),
            (refund.From, refund.To, refund.Value));
        var charges = account.Transfers.Where(t => t.Kind == "transfer" && t.From == wallet.AddressLower).Select(t => long.Parse(t.Value, CultureInfo.InvariantCulture));
        Assert.Equal(new[] { PutPrice, deposit, topUp }.Order(), charges.Order());
    }
}
