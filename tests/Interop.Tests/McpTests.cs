using System.Globalization;
using System.Numerics;
using System.Text.Json;

namespace Interop.Tests;

/// <summary>
/// Issue 7's acceptance through the running stack with the official MCP client (@modelcontextprotocol/sdk over Streamable
/// HTTP, through the gate): tools listed with input schemas; a priced call unpaid gets the x402 payment-required tool result,
/// paid in _meta["x402/payment"] it succeeds with the settlement in _meta; a second payer sees none of the first's keys; a
/// session token pays 10 calls without a signature; MCP-written content is read over REST by the same payer only. And the
/// MCP inspector's CLI lists the tools through the gate.
/// </summary>
public class McpTests(StackFixture stack)
{
    const long PutPrice = PaymentAssertions.PutPrice;    // put-content: $0.01 ([ToolPrice] in McpServer/Mcp/Tools)
    const long GetPrice = PaymentAssertions.GetPrice;    // get-content, list-content: $0.001
    static readonly string[] Tools = ["add-document", "get-content", "list-content", "list-documents", "put-content", "session-status"];
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Official_client_pays_tools_in_meta_and_with_a_session_and_the_content_is_the_payers_over_REST_too()
    {
        var wallet = await stack.FundedWalletAsync(PaymentAssertions.Funding, Ct);
        var other = await stack.FundedWalletAsync(PaymentAssertions.Funding, Ct);

        var result = await stack.RunScriptAsync("mcp.mjs", new Dictionary<string, string>
        {
            ["GATE_URL"] = stack.GateUrl,
            ["PRIVATE_KEY"] = wallet.PrivateKey,
            ["PRIVATE_KEY_2"] = other.PrivateKey,
        }, Ct);
        var context = NodeRunner.Pretty(result);
        var key = result.GetProperty("key").GetString()!;
        var value = result.GetProperty("value").GetString()!;

        // tools/list through the gate: all six, each with its input schema.
        var tools = result.GetProperty("tools").EnumerateArray().ToDictionary(t => t.GetProperty("name").GetString()!);
        Assert.Equal(Tools, tools.Keys.Order(StringComparer.Ordinal));
        Assert.All(tools.Values, t => Assert.Equal("object", t.GetProperty("inputSchema").GetProperty("type").GetString()));
        var putSchema = tools["put-content"].GetProperty("inputSchema").GetProperty("properties");
        Assert.True(putSchema.TryGetProperty("key", out _) && putSchema.TryGetProperty("value", out _), context);

        // put-content: unpaid -> payment required for $0.01 at mcp://tool/put-content; paid -> stored, settled in _meta.
        var put = result.GetProperty("put");
        var required = put.GetProperty("unpaid").GetProperty("structuredContent");
        Assert.True(put.GetProperty("unpaid").GetProperty("isError").GetBoolean(), context);
        Assert.Equal("mcp://tool/put-content", required.GetProperty("resource").GetProperty("url").GetString());
        var accepted = required.GetProperty("accepts")[0];
        Assert.Equal(("exact", "eip155:84532", PutPrice.ToString(CultureInfo.InvariantCulture), PaymentAssertions.DemoPayTo),
            (accepted.GetProperty("scheme").GetString(), accepted.GetProperty("network").GetString(), accepted.GetProperty("amount").GetString(),
             accepted.GetProperty("payTo").GetString()));
        // content[0].text is the same PaymentRequired as JSON text.
        using (var text = JsonDocument.Parse(put.GetProperty("unpaid").GetProperty("text").GetString()!))
            Assert.True(JsonElement.DeepEquals(required, text.RootElement), context);
        Assert.False(put.GetProperty("paid").GetProperty("isError").GetBoolean(), context);
        Assert.Equal(key, put.GetProperty("paid").GetProperty("structuredContent").GetProperty("key").GetString());
        PaymentAssertions.Settlement(put.GetProperty("paid").GetProperty("settlement"), wallet, ["eip155:84532"], context);

        // get-content reads it back, paid the same way.
        var get = result.GetProperty("get").GetProperty("paid");
        Assert.False(get.GetProperty("isError").GetBoolean(), context);
        Assert.Equal(value, get.GetProperty("structuredContent").GetProperty("value").GetString());
        PaymentAssertions.Settlement(get.GetProperty("settlement"), wallet, ["eip155:84532"], context);

        // The second payer: its paid listing has none of the first's keys; reading the key is a tool error, not settled.
        var otherList = result.GetProperty("otherList").GetProperty("paid");
        Assert.False(otherList.GetProperty("isError").GetBoolean(), context);
        Assert.Empty(otherList.GetProperty("structuredContent").GetProperty("items").EnumerateArray());
        var otherGet = result.GetProperty("otherGet").GetProperty("paid");
        Assert.True(otherGet.GetProperty("isError").GetBoolean(), context);
        Assert.Equal(JsonValueKind.Null, otherGet.GetProperty("settlement").ValueKind);

        // REST: the same payer reads the MCP-written value; the other payer gets 404 (and is not charged).
        Assert.Equal((200, value), (result.GetProperty("restSame").GetProperty("status").GetInt32(), result.GetProperty("restSame").GetProperty("body").GetString()));
        Assert.Equal(404, result.GetProperty("restOther").GetProperty("status").GetInt32());

        // The session: 10 calls with the token only, none an error, no signature, no settlement; session-status shows what is left.
        var session = result.GetProperty("session");
        Assert.Equal(0, session.GetProperty("signaturesDuringSession").GetInt32());
        var calls = session.GetProperty("calls").EnumerateArray().ToList();
        Assert.Equal(10, calls.Count);
        Assert.All(calls, c => Assert.False(c.GetProperty("isError").GetBoolean(), context));
        Assert.All(calls, c => Assert.Equal(JsonValueKind.Null, c.GetProperty("settlement").ValueKind));
        Assert.Equal("session value 8", calls[9].GetProperty("structuredContent").GetProperty("value").GetString());
        const long sessionSpent = 5 * PutPrice + 5 * GetPrice;
        var status = session.GetProperty("status");
        Assert.False(status.GetProperty("isError").GetBoolean(), context);
        Assert.Equal((100_000 - sessionSpent).ToString(CultureInfo.InvariantCulture),
            status.GetProperty("structuredContent").GetProperty("session").GetProperty("balance").GetString());
        Assert.Equal((200, "session value 8"),
            (session.GetProperty("restSession").GetProperty("status").GetInt32(), session.GetProperty("restSession").GetProperty("body").GetString()));
        Assert.Equal(404, session.GetProperty("restSessionOther").GetProperty("status").GetInt32());

        // The ledger: the first payer paid put + get over MCP, the REST read, the deposit; the second only its listing.
        var account = await stack.AccountAsync(wallet.Address, Ct);
        Assert.Equal(new BigInteger(PaymentAssertions.Funding - PutPrice - GetPrice - GetPrice - 100_000), BigInteger.Parse(account.Balance, CultureInfo.InvariantCulture));
        var otherAccount = await stack.AccountAsync(other.Address, Ct);
        Assert.Equal(new BigInteger(PaymentAssertions.Funding - GetPrice), BigInteger.Parse(otherAccount.Balance, CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Inspector_cli_lists_the_tools_through_the_gate()
    {
        var result = await stack.RunScriptAsync("mcp-inspector.mjs", new Dictionary<string, string> { ["GATE_URL"] = stack.GateUrl }, Ct);

        Assert.Equal(0, result.GetProperty("exitCode").GetInt32());
        Assert.Equal(Tools, result.GetProperty("tools").EnumerateArray().Select(t => t.GetString()!).Order(StringComparer.Ordinal));
    }
}
