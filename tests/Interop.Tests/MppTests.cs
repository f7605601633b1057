using System.Globalization;
using System.Text.Json;

namespace Interop.Tests;

/// <summary>
/// Issue 8's acceptance through the running stack with the official MPP client: mppx 0.11 (evm.charge, EIP-3009
/// authorization credentials) pays PUT and GET /api/content through the gate's WWW-Authenticate challenge, the GET answers
/// the value with a decodable Payment-Receipt, the same credential sent again is refused, @x402/fetch pays the same route in
/// the same run, and an MPP-paid POST /api/sessions opens a session whose token pays 10 GETs with no further signature.
/// MCP over MPP: mppx's McpClient and mppx's fetch under the official MCP SDK transport pay priced tools (mpp-mcp.mjs).
/// </summary>
public class MppTests(StackFixture stack)
{
    const long Funding = PaymentAssertions.Funding;
    const long PutPrice = PaymentAssertions.PutPrice;
    const long GetPrice = PaymentAssertions.GetPrice;

    [Fact]
    public async Task Mppx_pays_through_the_gate_with_receipts_beside_x402_and_opens_a_session_whose_token_pays_ten_requests()
    {
        var ct = TestContext.Current.CancellationToken;
        var wallet = await stack.FundedWalletAsync(Funding, ct);

        var result = await stack.RunScriptAsync("mpp.mjs", new Dictionary<string, string>
        {
            ["GATE_URL"] = stack.GateUrl,
            ["PRIVATE_KEY"] = wallet.PrivateKey,
        }, ct);

        var context = NodeRunner.Pretty(result);
        Assert.True(result.GetProperty("price").GetString() == GetPrice.ToString(CultureInfo.InvariantCulture), context);

        // mppx chose the Payment challenge (not the x402 offer beside it): 402 with WWW-Authenticate, then Authorization: Payment.
        var exchanges = result.GetProperty("exchanges").EnumerateArray().ToList();
        var get = exchanges.Where(e => e.GetProperty("method").GetString() == "GET").ToList();
        Assert.True(get.Count == 2 && get[0].GetProperty("status").GetInt32() == 402 && get[1].GetProperty("status").GetInt32() == 200, context);
        Assert.StartsWith("Payment ", get[0].GetProperty("challenge").GetString());
        Assert.Equal("Authorization: Payment", get[1].GetProperty("sent").GetString());
        Assert.All(exchanges.Where(e => e.GetProperty("status").GetInt32() < 400),
            e => Assert.Equal("Authorization: Payment", e.GetProperty("sent").GetString()));

        // The resource and a receipt whose reference is the ledger transfer of the settlement.
        var paid = result.GetProperty("mppGet");
        Assert.True(paid.GetProperty("status").GetInt32() == 200, context);
        Assert.Contains(result.GetProperty("value").GetString()!, paid.GetProperty("body").GetString());
        var receipt = paid.GetProperty("receipt");
        Assert.Equal(("success", "evm"), (receipt.GetProperty("status").GetString(), receipt.GetProperty("method").GetString()));
        Assert.Equal(paid.GetProperty("paymentResponse").GetProperty("transaction").GetString(), receipt.GetProperty("reference").GetString());
        Assert.Contains("private", paid.GetProperty("cacheControl").GetString());

        // The same credential again: refused (the challenge is used), with a fresh challenge.
        var replay = result.GetProperty("replay");
        Assert.True(replay.GetProperty("status").GetInt32() == 402, context);
        Assert.Equal("https://paymentauth.org/problems/invalid-challenge", replay.GetProperty("problem").GetProperty("type").GetString());
        Assert.StartsWith("Payment ", replay.GetProperty("challenge").GetString());

        // @x402/fetch on the same route in the same run.
        var x402 = result.GetProperty("x402Get");
        Assert.True(x402.GetProperty("status").GetInt32() == 200, context);
        PaymentAssertions.Settlement(x402.GetProperty("paymentResponse"), wallet, ["eip155:84532"], context);

        // The MPP-paid session: 10 token-paid GETs, the 11th asks for a payment again.
        var open = result.GetProperty("open");
        Assert.Equal(201, open.GetProperty("status").GetInt32());
        Assert.Equal("success", open.GetProperty("receipt").GetProperty("status").GetString());
        Assert.Equal((wallet.AddressLower, "ACTIVE"), (open.GetProperty("body").GetProperty("payer").GetString(), open.GetProperty("body").GetProperty("state").GetString()));
        var served = result.GetProperty("served").EnumerateArray().ToList();
        Assert.Equal(10, served.Count);
        Assert.All(served, s => Assert.True(s.GetProperty("status").GetInt32() == 200 && s.GetProperty("matches").GetBoolean(), context));
        Assert.Equal(Enumerable.Range(1, 10).Select(i => (10 * GetPrice - i * GetPrice).ToString(CultureInfo.InvariantCulture)),
            served.Select(s => s.GetProperty("balance").GetString()));
        Assert.Equal(402, result.GetProperty("eleventh").GetProperty("status").GetInt32());

        // The ledger: PUT and GET paid with MPP, GET with x402, the deposit with MPP; nothing else, each nonce once.
        await PaymentAssertions.ChargedAsync(stack, wallet, [PutPrice, GetPrice, GetPrice, 10 * GetPrice], ct);
        var account = await stack.AccountAsync(wallet.Address, ct);
        Assert.Contains(account.Transfers, t => t.Transaction == receipt.GetProperty("reference").GetString());
    }

    [Fact]
    public async Task Mppx_pays_mcp_tools_through_the_gate_with_McpClient_and_with_its_fetch_and_a_replayed_credential_is_32043()
    {
        var ct = TestContext.Current.CancellationToken;
        var wallet = await stack.FundedWalletAsync(Funding, ct);

        var result = await stack.RunScriptAsync("mpp-mcp.mjs", new Dictionary<string, string>
        {
            ["GATE_URL"] = stack.GateUrl,
            ["PRIVATE_KEY"] = wallet.PrivateKey,
        }, ct);
        var context = NodeRunner.Pretty(result);

        // A. McpClient.wrap on a plain transport: the x402 tool result's org.paymentauth/payment-required, then the credential in _meta.
        var a = result.GetProperty("exchangesA").EnumerateArray().ToList();
        Assert.True(a.Count == 2, context);
        Assert.All(a, e => Assert.Equal(JsonValueKind.Null, e.GetProperty("acceptPayment").ValueKind));
        Assert.True(a[0].GetProperty("isError").GetBoolean() && a[0].GetProperty("paymentRequiredMeta").GetBoolean() && !a[0].GetProperty("credential").GetBoolean(), context);
        Assert.True(a[1].GetProperty("credential").GetBoolean() && a[1].GetProperty("receipt").ValueKind == JsonValueKind.Object, context);
        var put = result.GetProperty("put");
        Assert.False(put.GetProperty("isError").GetBoolean(), context);
        var putReceipt = put.GetProperty("receipt");
        Assert.Equal(("success", "evm"), (putReceipt.GetProperty("status").GetString(), putReceipt.GetProperty("method").GetString()));
        // mppx's McpClient hands the receipt to the caller as result.receipt.
        Assert.Equal(putReceipt.GetProperty("reference").GetString(), put.GetProperty("mppxReceipt").GetProperty("reference").GetString());

        // B. mppx's fetch (Accept-Payment): -32042 in a 200 body, paid by the fetch layer; the value written in A comes back.
        var b = result.GetProperty("exchangesB").EnumerateArray().ToList();
        Assert.True(b.Count == 2, context);
        Assert.True(b[0].GetProperty("status").GetInt32() == 200 && b[0].GetProperty("errorCode").GetInt32() == -32042, context);
        Assert.False(string.IsNullOrEmpty(b[0].GetProperty("acceptPayment").GetString()), context);
        Assert.True(b[1].GetProperty("credential").GetBoolean() && b[1].GetProperty("receipt").ValueKind == JsonValueKind.Object, context);
        var get = result.GetProperty("get");
        Assert.False(get.GetProperty("isError").GetBoolean(), context);
        Assert.Contains(result.GetProperty("value").GetString()!, get.GetProperty("text").GetString());
        var getReceipt = get.GetProperty("receipt");

        // The credential that paid B, again: -32043, invalid-challenge, with a fresh challenge.
        var replay = result.GetProperty("replay");
        Assert.True(replay.GetProperty("status").GetInt32() == 200 && replay.GetProperty("code").GetInt32() == -32043, context);
        Assert.Equal("https://paymentauth.org/problems/invalid-challenge", replay.GetProperty("problem").GetProperty("type").GetString());
        Assert.Equal(1, replay.GetProperty("challenges").GetInt32());

        // The ledger: put-content and get-content once each; the receipts name their transfers.
        await PaymentAssertions.ChargedAsync(stack, wallet, [PutPrice, GetPrice], ct);
        var account = await stack.AccountAsync(wallet.Address, ct);
        Assert.Contains(account.Transfers, t => t.Transaction == putReceipt.GetProperty("reference").GetString());
        Assert.Contains(account.Transfers, t => t.Transaction == getReceipt.GetProperty("reference").GetString());
    }
}
