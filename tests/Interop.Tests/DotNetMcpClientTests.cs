using System.Globalization;
using System.Numerics;
using System.Reflection;
using System.Text.Json;

namespace Interop.Tests;

/// <summary>
/// Issue 18's "the .NET MCP client pays a priced tool through the gate": the ModelContextProtocol .NET client with
/// Sessions.Client.Mcp (tests/Interop.McpAgent, run as a process: this project cannot load ModelContextProtocol 2.4.0) against
/// the running stack's gate and McpServer. put-content paid with x402 in _meta, get-content with MPP, a free tool untouched,
/// a session's token paying three calls with no payment, and the session closed with its refund; the ledger agrees.
/// </summary>
public class DotNetMcpClientTests(StackFixture stack)
{
    const long PutPrice = PaymentAssertions.PutPrice;
    const long GetPrice = PaymentAssertions.GetPrice;
    const long Deposit = 100_000;

    static readonly string AgentDll = typeof(DotNetMcpClientTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "McpAgentDll").Value!;

    [Fact]
    public async Task The_dotnet_MCP_client_pays_priced_tools_through_the_gate_with_x402_MPP_and_a_session()
    {
        var ct = TestContext.Current.CancellationToken;
        var payer = await stack.FundedWalletAsync(PaymentAssertions.Funding, ct);

        var result = await RunAgentAsync(payer, ct);
        var context = result.GetRawText() + stack.TailOfLogs("paymentgate", 30) + stack.TailOfLogs("mcpserver", 30);
        var value = result.GetProperty("value").GetString();

        Assert.Contains("put-content", result.GetProperty("tools").EnumerateArray().Select(t => t.GetString()));

        // x402 in _meta["x402/payment"]: stored, settled, by this payer.
        var put = result.GetProperty("put");
        Assert.False(put.GetProperty("isError").GetBoolean(), context);
        Payment(put, "X402V2", PutPrice, payer, context);

        // MPP: the credential for the challenge the gate put beside the x402 result; the value comes back with a receipt.
        var get = result.GetProperty("get");
        Assert.False(get.GetProperty("isError").GetBoolean(), context);
        Assert.Equal(value, get.GetProperty("structuredContent").GetProperty("value").GetString());
        Payment(get, "Mpp", GetPrice, payer, context);
        Assert.True(get.GetProperty("payment").GetProperty("receipt").GetBoolean(), context);

        // A free tool: its own answer (no payer without a payment or session), nothing paid, no payment asked.
        var free = result.GetProperty("free");
        Assert.Equal(JsonValueKind.Null, free.GetProperty("payment").ValueKind);
        Assert.False(free.GetProperty("structuredContent") is { ValueKind: JsonValueKind.Object } s && s.TryGetProperty("x402Version", out _), context);

        // The session: opened by the REST read, then three tool calls paid by its token alone.
        Assert.Equal((200, false), (result.GetProperty("sessionRead").GetProperty("status").GetInt32(), result.GetProperty("sessionRead").GetProperty("paid").GetBoolean()));
        var calls = result.GetProperty("sessionCalls").EnumerateArray().ToList();
        Assert.Equal(3, calls.Count);
        Assert.All(calls, c => Assert.False(c.GetProperty("isError").GetBoolean(), context));
        Assert.All(calls, c => Assert.Equal(JsonValueKind.Null, c.GetProperty("payment").ValueKind));
        Assert.All(calls, c => Assert.Equal(value, c.GetProperty("structuredContent").GetProperty("value").GetString()));
        const long sessionSpent = 4 * GetPrice;
        // session-status (free) sees the session by its token (SessionApi's balance there lags the gate's debits: not checked).
        var status = result.GetProperty("sessionStatus");
        Assert.False(status.GetProperty("isError").GetBoolean(), context);
        var closed = result.GetProperty("sessionClosed");
        Assert.Equal(closed.GetProperty("id").GetString(), status.GetProperty("structuredContent").GetProperty("session").GetProperty("id").GetString());
        Assert.True((Atomic(Deposit - sessionSpent), "ledger") == (closed.GetProperty("refunded").GetString(), closed.GetProperty("method").GetString()), context);

        var account = await stack.AccountAsync(payer.Address, ct);
        Assert.Equal(new BigInteger(PaymentAssertions.Funding - PutPrice - GetPrice - sessionSpent), BigInteger.Parse(account.Balance, CultureInfo.InvariantCulture));
    }

    static void Payment(JsonElement call, string protocol, long amount, Wallet payer, string context)
    {
        var payment = call.GetProperty("payment");
        Assert.True(payment.ValueKind == JsonValueKind.Object, context);
        Assert.Equal((protocol, Atomic(amount), true), (payment.GetProperty("protocol").GetString(), payment.GetProperty("amount").GetString(), payment.GetProperty("settled").GetBoolean()));
        Assert.False(string.IsNullOrEmpty(payment.GetProperty("transaction").GetString()), context);
        Assert.Equal(payer.AddressLower, payment.GetProperty("payer").GetString()!.ToLowerInvariant());
    }

    static string Atomic(long amount) => amount.ToString(CultureInfo.InvariantCulture);

    async Task<JsonElement> RunAgentAsync(Wallet payer, CancellationToken cancellationToken)
    {
        Assert.True(File.Exists(AgentDll), $"the .NET MCP agent is not built at {AgentDll}");
        var (exit, stdout, stderr) = await stack.Node.RunAsync("dotnet", [AgentDll],
            new Dictionary<string, string> { ["GATE_URL"] = stack.GateUrl, ["PRIVATE_KEY"] = payer.PrivateKey }, TimeSpan.FromMinutes(2), cancellationToken);
        Assert.True(exit == 0, $"Interop.McpAgent exited {exit}:\n{stderr}\n{stdout}{stack.TailOfLogs("paymentgate", 20)}");
        using var json = JsonDocument.Parse(stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)[^1]);
        return json.RootElement.Clone();
    }
}
