using Sessions.Payments;
using Sessions.Payments.Crypto;
using Sessions.Payments.Svm;
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
    /// <summary>Token addresses (EVM: any casing; Solana: the mint, base58); null = any.</summary>
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

    /// <summary>The static checks for a Solana offer: the network as written (CAIP-2), the mint in base58.</summary>
    internal PaymentRefusedException? Check(string host, string network, SolanaAddress mint, AtomicAmount amount)
    {
        var asset = mint.ToString();
        if (AllowedNetworks is { } networks && !networks.Contains(network, StringComparer.Ordinal))
            return new PaymentRefusedException(SpendLimit.Network, host, network, asset, amount, null, null);
        if (AllowedAssets is { } assets && !assets.Contains(asset, StringComparer.Ordinal))
            return new PaymentRefusedException(SpendLimit.Asset, host, network, asset, amount, null, null);
        if (MaxPerPayment is { } max && amount > max)
            return new PaymentRefusedException(SpendLimit.PerPayment, host, network, asset, amount, max, null);
        return null;
    }

    static bool SameNetwork(string left, string right) =>
        Networks.TryNormalizeToCaip2(left, out var l) && Networks.TryNormalizeToCaip2(right, out var r) ? l == r : left == right;
}

/// <summary>A payment the spend policy refused, before anything was signed or sent.</summary>
public sealed class PaymentRefusedException : Exception
{
    public PaymentRefusedException(SpendLimit limit, string host, string network, EvmAddress asset, AtomicAmount amount,
        AtomicAmount? limitAmount, AtomicAmount? alreadySpent)
        : this(limit, host, network, asset.ToString(), amount, limitAmount, alreadySpent) => Asset = asset;

    /// <summary>A refusal of a payment in a non-EVM asset (a Solana mint): <see cref="Asset"/> is then null.</summary>
    public PaymentRefusedException(SpendLimit limit, string host, string network, string assetId, AtomicAmount amount,
        AtomicAmount? limitAmount, AtomicAmount? alreadySpent)
        : base(Describe(limit, host, network, assetId, amount, limitAmount, alreadySpent))
    {
        (Limit, Host, Network, AssetId, Amount, LimitAmount, AlreadySpent) = (limit, host, network, assetId, amount, limitAmount, alreadySpent);
    }

    public SpendLimit Limit { get; }
    public string Host { get; }
    public string Network { get; }
    /// <summary>The EVM token, null for a Solana payment.</summary>
    public EvmAddress? Asset { get; }
    /// <summary>The asset as the offer wrote it: the EVM token address or the Solana mint.</summary>
    public string AssetId { get; }
    /// <summary>The price asked.</summary>
    public AtomicAmount Amount { get; }
    /// <summary>The limit's amount (null for <see cref="SpendLimit.Network"/> and <see cref="SpendLimit.Asset"/>).</summary>
    public AtomicAmount? LimitAmount { get; }
    /// <summary>What the budget already holds (spent and in flight) for the budget limits.</summary>
    public AtomicAmount? AlreadySpent { get; }

    static string Describe(SpendLimit limit, string host, string network, string asset, AtomicAmount amount, AtomicAmount? limitAmount, AtomicAmount? spent) =>
        limit switch
        {
            SpendLimit.Network => $"Payment to {host} refused: network {network} is not allowed.",
            SpendLimit.Asset => $"Payment to {host} refused: asset {asset} is not allowed.",
            SpendLimit.PerPayment => $"Payment to {host} refused: {amount} is above the maximum per payment {limitAmount}.",
            _ => $"Payment to {host} refused: {amount} with {spent} already spent exceeds the {(limit == SpendLimit.HostBudget ? "host" : "window")} budget {limitAmount}.",
        };
}
