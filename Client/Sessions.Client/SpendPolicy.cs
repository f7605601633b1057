using Sessions.Payments;
using Sessions.Payments.Crypto;
using Sessions.Payments.X402;

namespace Sessions.Client;

/// <summary>Which spend control refused a payment.</summary>
public enum SpendLimit
{
    /// <summary>The network is not in <see cref="SpendPolicy.AllowedNetworks"/>.</summary>
    Network,
    /// <summary>The asset is not in <see cref="SpendPolicy.AllowedAssets"/>.</summary>
    Asset,
    /// <summary>The price is above <see cref="SpendPolicy.MaxPerPayment"/>.</summary>
    PerPayment,
    /// <summary>The price would take one host above <see cref="SpendPolicy.MaxPerHost"/> in the window.</summary>
    HostBudget,
    /// <summary>The price would take all hosts together above <see cref="SpendPolicy.MaxPerWindow"/>.</summary>
    WindowBudget,
}

/// <summary>
/// Limits checked before anything is signed. Amounts are atomic units of the asset (USDC: 1000000 = $1). Budgets count
/// payments made and payments in flight within the sliding <see cref="Window"/> (or for the client's lifetime when it is null).
/// A null limit is no limit.
/// </summary>
public sealed record SpendPolicy
{
    public static SpendPolicy Unlimited { get; } = new();

    public AtomicAmount? MaxPerPayment { get; init; }
    public AtomicAmount? MaxPerHost { get; init; }
    public AtomicAmount? MaxPerWindow { get; init; }
    public TimeSpan? Window { get; init; }
    /// <summary>CAIP-2 ids or x402 v1 names ("eip155:84532" and "base-sepolia" are the same network); null = any.</summary>
    public IReadOnlyCollection<string>? AllowedNetworks { get; init; }
    /// <summary>Token addresses (any casing); null = any.</summary>
    public IReadOnlyCollection<string>? AllowedAssets { get; init; }

    /// <summary>The static checks (network, asset, price): no state, no reservation.</summary>
    internal PaymentRefusedException? Check(string host, string network, EvmAddress asset, AtomicAmount amount)
    {
        if (AllowedNetworks is { } networks && !networks.Any(allowed => SameNetwork(allowed, network)))
            return new PaymentRefusedException(SpendLimit.Network, host, network, asset, amount, null, null);
        if (AllowedAssets is { } assets && !assets.Any(allowed => EvmAddress.TryParse(allowed, out var a) && a == asset))
            return new PaymentRefusedException(SpendLimit.Asset, host, network, asset, amount, null, null);
        if (MaxPerPayment is { } max && amount > max)
            return new PaymentRefusedException(SpendLimit.PerPayment, host, network, asset, amount, max, null);
        return null;
    }

    static bool SameNetwork(string left, string right) =>
        Networks.TryNormalizeToCaip2(left, out var l) && Networks.TryNormalizeToCaip2(right, out var r) ? l == r : left == right;
}

/// <summary>A payment the spend policy refused, before anything was signed or sent.</summary>
public sealed class PaymentRefusedException(SpendLimit limit, string host, string network, EvmAddress asset, AtomicAmount amount,
    AtomicAmount? limitAmount, AtomicAmount? alreadySpent)
    : Exception(Describe(limit, host, network, asset, amount, limitAmount, alreadySpent))
{
    public SpendLimit Limit { get; } = limit;
    public string Host { get; } = host;
    public string Network { get; } = network;
    public EvmAddress Asset { get; } = asset;
    /// <summary>The price asked.</summary>
    public AtomicAmount Amount { get; } = amount;
    /// <summary>The limit's amount (null for <see cref="SpendLimit.Network"/> and <see cref="SpendLimit.Asset"/>).</summary>
    public AtomicAmount? LimitAmount { get; } = limitAmount;
    /// <summary>What the budget already holds (spent and in flight) for the budget limits.</summary>
    public AtomicAmount? AlreadySpent { get; } = alreadySpent;

    static string Describe(SpendLimit limit, string host, string network, EvmAddress asset, AtomicAmount amount, AtomicAmount? limitAmount, AtomicAmount? spent) =>
        limit switch
        {
            SpendLimit.Network => $"Payment to {host} refused: network {network} is not allowed.",
            SpendLimit.Asset => $"Payment to {host} refused: asset {asset} is not allowed.",
            SpendLimit.PerPayment => $"Payment to {host} refused: {amount} is above the maximum per payment {limitAmount}.",
            _ => $"Payment to {host} refused: {amount} with {spent} already spent exceeds the {(limit == SpendLimit.HostBudget ? "host" : "window")} budget {limitAmount}.",
        };
}
