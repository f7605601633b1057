using Sessions.Payments.Crypto;

namespace Sessions.Payments.X402;

/// <summary>
/// Builds "exact" EVM payment requirements for an EIP-3009 asset: amount from a price ("$0.01" or atomic
/// "10000"), extra = the asset's EIP-712 {name, version}, asset and payTo in EIP-55 form.
/// </summary>
public static class ExactEvmRequirements
{
    /// <summary>v2 requirements (CAIP-2 network). Throws <see cref="ArgumentException"/> on a bad price or payTo.</summary>
    public static PaymentRequirements For(AssetInfo asset, string price, string payTo, int maxTimeoutSeconds = PaymentRequirements.DefaultMaxTimeoutSeconds)
    {
        ArgumentNullException.ThrowIfNull(asset);
        return new PaymentRequirements
        {
            Scheme = ExactEvmVerifier.Scheme,
            Network = asset.Network,
            Amount = AtomicUnits(asset, price),
            Asset = asset.Address.ToString(),
            PayTo = ParsePayTo(payTo),
            MaxTimeoutSeconds = CheckTimeout(maxTimeoutSeconds),
            Extra = X402Json.Eip3009Extra(asset.Eip712Name, asset.Eip712Version),
        };
    }

    /// <summary>v1 requirements: v1 network name, maxAmountRequired, resource URL, description and mime type.</summary>
    public static PaymentRequirementsV1 ForV1(AssetInfo asset, string price, string payTo, string resourceUrl,
        string description = "", string mimeType = "", int maxTimeoutSeconds = PaymentRequirements.DefaultMaxTimeoutSeconds)
    {
        ArgumentNullException.ThrowIfNull(asset);
        if (!Networks.TryGetV1Name(asset.ChainId, out var network))
            throw new ArgumentException($"network {asset.Network} has no x402 v1 name", nameof(asset));
        return new PaymentRequirementsV1
        {
            Scheme = ExactEvmVerifier.Scheme,
            Network = network,
            MaxAmountRequired = AtomicUnits(asset, price),
            Asset = asset.Address.ToString(),
            PayTo = ParsePayTo(payTo),
            Resource = resourceUrl,
            Description = description,
            MimeType = mimeType,
            MaxTimeoutSeconds = CheckTimeout(maxTimeoutSeconds),
            Extra = X402Json.Eip3009Extra(asset.Eip712Name, asset.Eip712Version),
        };
    }

    private static string AtomicUnits(AssetInfo asset, string price) =>
        AtomicAmount.TryParsePrice(price, asset.Decimals, out var amount, out var error)
            ? amount.ToString()
            : throw new ArgumentException(error, nameof(price));

    private static string ParsePayTo(string payTo) =>
        EvmAddress.TryParse(payTo, out var address, out var error) ? address.ToString() : throw new ArgumentException($"payTo: {error}", nameof(payTo));

    private static int CheckTimeout(int seconds) =>
        seconds > 0 ? seconds : throw new ArgumentOutOfRangeException(nameof(seconds), "maxTimeoutSeconds must be positive");
}
