using System.Globalization;
using System.Numerics;
using System.Text.Json;

namespace Interop.Tests;

/// <summary>What every paid interop scenario checks: the settlement header and the ledger.</summary>
public static class PaymentAssertions
{
    /// <summary>The development merchant (Gate:Organizations:demo:PayTo).</summary>
    public const string DemoPayTo = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C";
    public const long Funding = 1_000_000;   // $1.00
    public const long PutPrice = 10_000;     // $0.01, PUT /api/content/{key}
    public const long GetPrice = 1_000;      // $0.001, GET /api/content/{key}

    /// <summary>A decodable SettleResponse: success, a transaction, the network, the payer.</summary>
    public static void Settlement(JsonElement settlement, Wallet wallet, string[] networks, string context)
    {
        Assert.True(settlement.ValueKind == JsonValueKind.Object && !settlement.TryGetProperty("undecodable", out _), $"no decodable settlement header:\n{context}");
        Assert.True(settlement.GetProperty("success").GetBoolean(), context);
        Assert.False(string.IsNullOrEmpty(settlement.GetProperty("transaction").GetString()), context);
        Assert.Contains(settlement.GetProperty("network").GetString(), networks);
        Assert.Equal(wallet.AddressLower, settlement.GetProperty("payer").GetString()!.ToLowerInvariant());
    }

    /// <summary>The ledger charged exactly these transfers, from the payer to the demo merchant, and nothing else.</summary>
    public static async Task ChargedAsync(StackFixture stack, Wallet wallet, long[] charges, CancellationToken ct)
    {
        var account = await stack.AccountAsync(wallet.Address, ct);
        Assert.Equal(new BigInteger(Funding - charges.Sum()), BigInteger.Parse(account.Balance, CultureInfo.InvariantCulture));
        var outgoing = account.Transfers.Where(t => string.Equals(t.From, wallet.AddressLower, StringComparison.OrdinalIgnoreCase)).ToList();
        Assert.Equal(charges.Order(), outgoing.Select(t => long.Parse(t.Value, CultureInfo.InvariantCulture)).Order());
        Assert.All(outgoing, t => Assert.Equal(DemoPayTo.ToLowerInvariant(), t.To.ToLowerInvariant()));
        Assert.Equal(outgoing.Count, outgoing.Select(t => t.Nonce).Distinct().Count());
    }
}
