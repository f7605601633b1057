using System.Globalization;
using System.Text.Json;

namespace Interop.Tests;

/// <summary>
/// Issue 13 through the running stack: one session-open payment header signed by the official client, sent 20 times at
/// once, 50 rounds. Every answer is the same session with the same token (201) or 409 payment-in-progress, never a second
/// token; the token works, and each payment is charged once.
/// </summary>
public class OpenOnceTests(StackFixture stack)
{
    const int Rounds = 50;
    const long Deposit = 2 * PaymentAssertions.GetPrice;

    [Fact]
    public async Task Twenty_copies_of_one_session_open_header_at_once_never_give_two_tokens_in_50_rounds()
    {
        var ct = TestContext.Current.CancellationToken;
        var wallet = await stack.FundedWalletAsync(PaymentAssertions.Funding, ct);

        var result = await stack.RunScriptAsync("open-once.mjs", new Dictionary<string, string>
        {
            ["GATE_URL"] = stack.GateUrl,
            ["PRIVATE_KEY"] = wallet.PrivateKey,
            ["DEPOSIT"] = Deposit.ToString(CultureInfo.InvariantCulture),
            ["ROUNDS"] = Rounds.ToString(CultureInfo.InvariantCulture),
            ["CONCURRENCY"] = "20",
            ["SCRIPT_TIMEOUT_MS"] = "140000",
        }, ct);

        var context = NodeRunner.Pretty(result);
        var rounds = result.GetProperty("rounds").EnumerateArray().ToList();
        Assert.True(rounds.Count == Rounds, context);
        var tokens = new HashSet<string>();
        foreach (var round in rounds)
        {
            var at = $"round {round.GetProperty("round").GetInt32()}: {round}";
            Assert.True(round.GetProperty("created").GetInt32() >= 1, at);
            Assert.True(round.GetProperty("ids").GetArrayLength() == 1 && round.GetProperty("tokens").GetArrayLength() == 1, at);
            Assert.True(round.GetProperty("distinctBodies").GetInt32() == 1, at);
            Assert.True(round.GetProperty("others").EnumerateObject().All(other => other.Name == "409 payment-in-progress"), at);
            var check = round.GetProperty("check");
            Assert.True(check.ValueKind == JsonValueKind.Object && check.GetProperty("status").GetInt32() == 200
                && check.GetProperty("balance").GetString() == Deposit.ToString(CultureInfo.InvariantCulture), at);
            Assert.True(tokens.Add(round.GetProperty("tokens")[0].GetString()!), at);
        }
        await PaymentAssertions.ChargedAsync(stack, wallet, [.. Enumerable.Repeat(Deposit, Rounds)], ct);
    }
}
