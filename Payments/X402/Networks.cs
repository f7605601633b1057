using System.Collections.Frozen;
using System.Globalization;
using Sessions.Payments.Crypto;

namespace Sessions.Payments.X402;

/// <summary>
/// EVM network names: x402 v1 uses plain names ("base-sepolia"), v2 uses CAIP-2 ("eip155:84532").
/// </summary>
public static class Networks
{
    public const string Eip155Prefix = "eip155:";

    public const string BaseSepolia = "eip155:84532";
    public const string Base = "eip155:8453";

    private static readonly FrozenDictionary<string, long> ChainIdByV1Name = new Dictionary<string, long>(StringComparer.Ordinal)
    {
        ["base-sepolia"] = 84532,
        ["base"] = 8453,
        ["avalanche-fuji"] = 43113,
        ["avalanche"] = 43114,
        ["polygon"] = 137,
        ["polygon-amoy"] = 80002,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    private static readonly FrozenDictionary<long, string> V1NameByChainId =
        ChainIdByV1Name.ToFrozenDictionary(pair => pair.Value, pair => pair.Key);

    public static IReadOnlyCollection<string> V1Names => ChainIdByV1Name.Keys;

    /// <summary>Chain id of a v1 name or of "eip155:&lt;decimal chain id&gt;" (no sign, no leading zeros).</summary>
    public static bool TryGetChainId(string? network, out long chainId)
    {
        chainId = 0;
        if (network is null)
            return false;
        if (ChainIdByV1Name.TryGetValue(network, out chainId))
            return true;
        return TryParseCaip2(network, out chainId);
    }

    /// <summary>Chain id of a CAIP-2 eip155 identifier only.</summary>
    public static bool TryParseCaip2(string? network, out long chainId)
    {
        chainId = 0;
        if (network is null || !network.StartsWith(Eip155Prefix, StringComparison.Ordinal))
            return false;
        var digits = network.AsSpan(Eip155Prefix.Length);
        return digits.Length is > 0 and <= 18 && digits[0] != '0' && !digits.ContainsAnyExceptInRange('0', '9')
            && long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out chainId);
    }

    public static string ToCaip2(long chainId) =>
        chainId > 0 ? Eip155Prefix + chainId.ToString(CultureInfo.InvariantCulture) : throw new ArgumentOutOfRangeException(nameof(chainId));

    public static bool TryGetV1Name(long chainId, out string name) => V1NameByChainId.TryGetValue(chainId, out name!);

    /// <summary>A v1 name or CAIP-2 id normalised to CAIP-2.</summary>
    public static bool TryNormalizeToCaip2(string? network, out string caip2)
    {
        caip2 = "";
        if (!TryGetChainId(network, out var chainId))
            return false;
        caip2 = ToCaip2(chainId);
        return true;
    }
}

/// <summary>An EIP-3009 token on one network, with the EIP-712 domain name/version clients sign with.</summary>
public sealed record AssetInfo(string Network, EvmAddress Address, string Symbol, string Eip712Name, string Eip712Version, int Decimals)
{
    public long ChainId => Networks.TryParseCaip2(Network, out var id) ? id : throw new InvalidOperationException($"'{Network}' is not CAIP-2.");
}

/// <summary>Tokens this system knows without configuration.</summary>
public static class KnownAssets
{
    public static AssetInfo UsdcBaseSepolia { get; } = new(
        Networks.BaseSepolia, EvmAddress.Parse("0x036CbD53842c5426634e7929541eC2318f3dCF7e"), "USDC", "USDC", "2", 6);

    // Note the different EIP-712 name on mainnet: signing with "USDC" there yields a signature for someone else.
    public static AssetInfo UsdcBase { get; } = new(
        Networks.Base, EvmAddress.Parse("0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913"), "USDC", "USD Coin", "2", 6);

    public static IReadOnlyList<AssetInfo> All { get; } = [UsdcBaseSepolia, UsdcBase];

    /// <summary>The default USDC of a network given as v1 name or CAIP-2.</summary>
    public static bool TryGetUsdc(string? network, out AssetInfo asset)
    {
        asset = UsdcBaseSepolia;
        if (!Networks.TryNormalizeToCaip2(network, out var caip2))
            return false;
        var found = All.FirstOrDefault(a => a.Network == caip2);
        if (found is null)
            return false;
        asset = found;
        return true;
    }

    public static bool TryFind(string? network, EvmAddress address, out AssetInfo asset)
    {
        asset = UsdcBaseSepolia;
        if (!Networks.TryNormalizeToCaip2(network, out var caip2))
            return false;
        var found = All.FirstOrDefault(a => a.Network == caip2 && a.Address == address);
        if (found is null)
            return false;
        asset = found;
        return true;
    }
}
