namespace Sessions.Payments.Svm;

/// <summary>Solana networks as x402 v2 names them (CAIP-2: "solana:" + the first 32 characters of the genesis hash).</summary>
public static class SvmNetworks
{
    public const string Prefix = "solana:";
    public const string Mainnet = "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp";
    public const string Devnet = "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1";
    public const string Testnet = "solana:4uhcVJyU9pJkvQyS88uRDiswHXSCkY3z";

    public static bool IsSvm(string? network) => network is not null && network.StartsWith(Prefix, StringComparison.Ordinal);
}

/// <summary>An SPL token: its mint, decimals and the token program that owns it.</summary>
public sealed record SvmAssetInfo(string Network, SolanaAddress Mint, string Symbol, byte Decimals, SolanaAddress TokenProgram);

/// <summary>SPL tokens this system knows without configuration (the official client's defaults).</summary>
public static class KnownSvmAssets
{
    public static SvmAssetInfo UsdcDevnet { get; } = new(SvmNetworks.Devnet, SolanaAddress.Parse("4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU"), "USDC", 6, SolanaPrograms.Token);

    public static SvmAssetInfo UsdcMainnet { get; } = new(SvmNetworks.Mainnet, SolanaAddress.Parse("EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"), "USDC", 6, SolanaPrograms.Token);

    public static IReadOnlyList<SvmAssetInfo> All { get; } = [UsdcDevnet, UsdcMainnet];

    public static bool TryFind(string? network, SolanaAddress mint, out SvmAssetInfo asset)
    {
        asset = All.FirstOrDefault(a => a.Network == network && a.Mint == mint)!;
        return asset is not null;
    }

    public static bool TryGetUsdc(string? network, out SvmAssetInfo asset)
    {
        asset = All.FirstOrDefault(a => a.Network == network && a.Symbol == "USDC")!;
        return asset is not null;
    }
}
