using System.Text.Json;

namespace Interop.Tests;

/// <summary>
/// Agents that speak x402 with the official, unmodified clients pay the gate: v2 (@x402/fetch + @x402/evm with a
/// viem local account) and v1 (x402-fetch 1.2 with a viem wallet client), each funded by the faucet, PUT then GET
/// content; and the official @x402/express resource server settles through our local facilitator.
/// </summary>
public class OfficialClientTests(StackFixture stack)
{
    const long Funding = PaymentAssertions.Funding;
    const long PutPrice = PaymentAssertions.PutPrice;
    const long GetPrice = PaymentAssertions.GetPrice;

    [Fact]
    public async Task V2_fetch_client_pays_put_and_get_through_the_gate()
    {
        var ct = TestContext.Current.CancellationToken;
        var wallet = await stack.FundedWalletAsync(Funding, ct);

        var result = await stack.RunScriptAsync("v2-fetch.mjs", ScriptEnvironment(wallet), ct);

        var context = NodeRunner.Pretty(result);
        AssertPaidFlow(result.GetProperty("exchanges"), "PAYMENT-SIGNATURE", context);
        var put = result.GetProperty("put");
        var get = result.GetProperty("get");
        Assert.True(put.GetProperty("status").GetInt32() is >= 200 and < 300, context);
        Assert.True(get.GetProperty("status").GetInt32() == 200, context);
        Assert.Contains(result.GetProperty("value").GetString()!, get.GetProperty("body").GetString()!);
        PaymentAssertions.Settlement(put.GetProperty("paymentResponse"), wallet, ["eip155:84532"], context);
        PaymentAssertions.Settlement(get.GetProperty("paymentResponse"), wallet, ["eip155:84532"], context);
        await PaymentAssertions.ChargedAsync(stack, wallet, [PutPrice, GetPrice], ct);
    }

    [Fact]
    public async Task V1_x402_fetch_client_pays_put_and_get_through_the_gate()
    {
        var ct = TestContext.Current.CancellationToken;
        var wallet = await stack.FundedWalletAsync(Funding, ct);

        var result = await stack.RunScriptAsync("v1-fetch.mjs", ScriptEnvironment(wallet), ct);

        var context = NodeRunner.Pretty(result);
        AssertPaidFlow(result.GetProperty("exchanges"), "X-PAYMENT", context);
        var put = result.GetProperty("put");
        var get = result.GetProperty("get");
        Assert.True(put.GetProperty("status").GetInt32() is >= 200 and < 300, context);
        Assert.True(get.GetProperty("status").GetInt32() == 200, context);
        Assert.Contains(result.GetProperty("value").GetString()!, get.GetProperty("body").GetString()!);
        // A v1 client reads X-PAYMENT-RESPONSE; its network may be written in v1 ("base-sepolia") or CAIP-2 form.
        PaymentAssertions.Settlement(put.GetProperty("xPaymentResponse"), wallet, ["base-sepolia", "eip155:84532"], context);
        PaymentAssertions.Settlement(get.GetProperty("xPaymentResponse"), wallet, ["base-sepolia", "eip155:84532"], context);
        await PaymentAssertions.ChargedAsync(stack, wallet, [PutPrice, GetPrice], ct);
    }

    [Fact]
    public async Task Express_resource_server_settles_a_v2_payment_through_our_facilitator()
    {
        var ct = TestContext.Current.CancellationToken;
        var wallet = await stack.FundedWalletAsync(Funding, ct);

        var result = await stack.RunScriptAsync("express-facilitator.mjs", ScriptEnvironment(wallet), ct);

        var context = NodeRunner.Pretty(result);
        Assert.True(result.GetProperty("unpaid").GetProperty("status").GetInt32() == 402, context);
        var paid = result.GetProperty("paid");
        Assert.True(paid.GetProperty("status").GetInt32() == 200, context);
        Assert.Contains("\"premium\":true", paid.GetProperty("body").GetString()!);
        PaymentAssertions.Settlement(paid.GetProperty("paymentResponse"), wallet, ["eip155:84532"], context);

        // The express app asked our facilitator what it supports, then verified and settled there.
        var calls = result.GetProperty("facilitatorCalls").EnumerateArray().ToList();
        Assert.True(calls.All(c => !c.TryGetProperty("error", out _)), context);
        var supported = calls.First(c => c.GetProperty("method").GetString() == "getSupported").GetProperty("result");
        Assert.Contains(supported.GetProperty("kinds").EnumerateArray(), k =>
            k.GetProperty("x402Version").GetInt32() == 2 && k.GetProperty("scheme").GetString() == "exact" && k.GetProperty("network").GetString() == "eip155:84532");
        var verify = calls.Single(c => c.GetProperty("method").GetString() == "verify").GetProperty("result");
        Assert.True(verify.GetProperty("isValid").GetBoolean(), context);
        Assert.Equal(wallet.AddressLower, verify.GetProperty("payer").GetString()!.ToLowerInvariant());
        var settle = calls.Single(c => c.GetProperty("method").GetString() == "settle").GetProperty("result");
        Assert.True(settle.GetProperty("success").GetBoolean(), context);
        await PaymentAssertions.ChargedAsync(stack, wallet, [GetPrice], ct);
    }

    Dictionary<string, string> ScriptEnvironment(Wallet wallet) => new()
    {
        ["GATE_URL"] = stack.GateUrl,
        ["PRIVATE_KEY"] = wallet.PrivateKey,
    };

    /// <summary>Each paid call of the client went: unpaid request -> 402 -> the same request with a payment header -> 2xx.</summary>
    static void AssertPaidFlow(JsonElement exchanges, string paymentHeader, string context)
    {
        var list = exchanges.EnumerateArray().ToList();
        Assert.True(list.Count == 4, $"expected 4 HTTP exchanges (402 + paid retry, twice):\n{context}");
        for (var i = 0; i < list.Count; i += 2)
        {
            Assert.True(list[i].GetProperty("status").GetInt32() == 402 && list[i].GetProperty("paymentHeader").ValueKind == JsonValueKind.Null, context);
            Assert.True(list[i + 1].GetProperty("paymentHeader").GetString() == paymentHeader, context);
            Assert.True(list[i + 1].GetProperty("status").GetInt32() is >= 200 and < 300, context);
        }
    }
}
