using System.Text.Json;
using Sessions.Payments.X402;

namespace Sessions.Payments.Svm;

/// <summary>
/// Builds "exact" SVM payment requirements: amount in atomic units, asset = the mint, payTo = the owner whose associated
/// token account receives, <c>extra.feePayer</c> = the facilitator's fee payer (the spec's required extra).
/// </summary>
public static class ExactSvmRequirements
{
    public static PaymentRequirements For(SvmAssetInfo asset, string amount, SolanaAddress payTo, SolanaAddress feePayer,
        int maxTimeoutSeconds = PaymentRequirements.DefaultMaxTimeoutSeconds)
    {
        ArgumentNullException.ThrowIfNull(asset);
        return new PaymentRequirements
        {
            Scheme = ExactSvmVerifier.Scheme,
            Network = asset.Network,
            Amount = AtomicAmount.TryParse(amount, out var atomic) && atomic.Value <= ulong.MaxValue
                ? atomic.ToString()
                : throw new ArgumentException("amount must be u64 atomic units", nameof(amount)),
            Asset = asset.Mint.ToString(),
            PayTo = payTo.ToString(),
            MaxTimeoutSeconds = maxTimeoutSeconds > 0 ? maxTimeoutSeconds : throw new ArgumentOutOfRangeException(nameof(maxTimeoutSeconds)),
            Extra = JsonSerializer.SerializeToElement(new Dictionary<string, string> { ["feePayer"] = feePayer.ToString() }),
        };
    }
}

/// <summary>The <c>payload</c> of an exact SVM payment: <c>{"transaction": base64}</c>, and what a server keys it by.</summary>
public static class ExactSvmPayload
{
    public static bool TryRead(JsonElement payload, out SolanaTransaction? transaction, out string? error)
    {
        transaction = null;
        if (payload.ValueKind != JsonValueKind.Object || !payload.TryGetProperty("transaction", out var text) || text.ValueKind != JsonValueKind.String)
        {
            error = "payload.transaction must be a base64 string";
            return false;
        }
        return SolanaTransaction.TryDecodeBase64(text.GetString(), out transaction, out error);
    }
}
