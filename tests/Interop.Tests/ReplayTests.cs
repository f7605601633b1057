using System.Text.Json;

namespace Interop.Tests;

/// <summary>
/// A payment header made by the official client (@x402/fetch) is served at most once, whether it is replayed
/// after it was used or sent 20 times at once before it was ever used; the ledger charges it once.
/// </summary>
public class ReplayTests(StackFixture stack)
{
    [Fact]
    public async Task The_same_payment_header_is_served_once_sequentially_and_concurrently()
    {
        var ct = TestContext.Current.CancellationToken;
        var wallet = await stack.FundedWalletAsync(PaymentAssertions.Funding, ct);

        var result = await stack.RunScriptAsync("replay.mjs", new Dictionary<string, string>
        {
            ["GATE_URL"] = stack.GateUrl,
            ["PRIVATE_KEY"] = wallet.PrivateKey,
            ["CONCURRENCY"] = "20",
        }, ct);

        var context = NodeRunner.Pretty(result);
        Assert.True(result.GetProperty("put").GetProperty("status").GetInt32() is >= 200 and < 300, context);

        // Used once by the client, then sent twice more: only the first is served.
        var sequential = result.GetProperty("sequential");
        Assert.True(sequential.GetProperty("original").GetProperty("status").GetInt32() == 200, context);
        Assert.True(sequential.GetProperty("served").GetInt32() == 1, context);
        AssertRefused(sequential.GetProperty("replays"), context);

        // Never used, sent 20 times at once: exactly one is served.
        var concurrent = result.GetProperty("concurrent");
        Assert.True(concurrent.GetProperty("served").GetInt32() == 1, context);
        var refused = concurrent.GetProperty("results").EnumerateArray().Where(r => r.GetProperty("status").GetInt32() is < 200 or >= 300);
        Assert.True(refused.Count() == 19, context);
        AssertRefused(JsonSerializer.SerializeToElement(refused), context);

        // PUT, the client's GET, and the one concurrent GET that was served: three charges, nothing more.
        await PaymentAssertions.ChargedAsync(stack, wallet,
            [PaymentAssertions.PutPrice, PaymentAssertions.GetPrice, PaymentAssertions.GetPrice], ct);
    }

    /// <summary>A refused replay is a client error (402 with a fresh requirement, or 409), never a 5xx.</summary>
    static void AssertRefused(JsonElement responses, string context)
    {
        foreach (var response in responses.EnumerateArray())
            Assert.True(response.GetProperty("status").GetInt32() is 402 or 409, $"a replayed payment must be refused with 402 or 409:\n{context}");
    }
}
