using System.Text.Json.Serialization;

namespace Sessions.ServiceDefaults.Payers;

/// <summary>
/// Who paid for the request being served, as the gate vouches for it: the payer's address (lowercase), the
/// organisation (merchant) whose route was paid, and the payment, session and vault it belongs to. Services
/// read it with <c>HttpContext.GetPayerContext()</c> or <see cref="IPayerContextAccessor"/>; they never see
/// an unsigned or expired one.
/// </summary>
public sealed record PayerContext
{
    /// <summary>
    /// EVM address, lowercase <c>0x</c> + 40 hex (checksummed and lowercase spellings are one payer), or a Solana address
    /// (base58, case-sensitive, kept as written).
    /// </summary>
    [JsonPropertyName("payer")] public required string Payer { get; init; }

    [JsonPropertyName("org")] public required string Organization { get; init; }

    /// <summary>The settled (or pending) payment that paid for this request; null when a session paid.</summary>
    [JsonPropertyName("pid")] public string? PaymentId { get; init; }

    [JsonPropertyName("sid")] public string? SessionId { get; init; }

    [JsonPropertyName("vid")] public string? VaultId { get; init; }

    /// <summary>
    /// The session's balance (atomic units) as the gate had it live when it forwarded the request (after this request's hold when
    /// the session pays it); null when the gate did not have it. SessionApi's ledger trails it by the gate's fold.
    /// </summary>
    [JsonPropertyName("sbal")] public string? SessionBalance { get; init; }

    /// <summary>The gate's request id, so that services can record what added a document or a key.</summary>
    [JsonPropertyName("rid")] public string? RequestId { get; init; }

    /// <summary>
    /// True when the gate only identified the payer (a session token on a free route, e.g. a vault read or a free MCP tool):
    /// nothing was paid or debited for this request, so a service must not do priced work on it.
    /// </summary>
    [JsonPropertyName("idn")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool IdentifiedOnly { get; init; }

    /// <summary>Unix seconds after which the context is refused (it covers one forwarded request).</summary>
    [JsonPropertyName("exp")] public required long ExpiresAt { get; init; }

    /// <summary>An EVM address lowercased; anything else (a base58 Solana address, where case is meaning) only trimmed.</summary>
    public static string NormalizeAddress(string address)
    {
        var trimmed = address.Trim();
        return trimmed.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? trimmed.ToLowerInvariant() : trimmed;
    }
}

[JsonSerializable(typeof(PayerContext))]
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
internal sealed partial class PayerContextJsonContext : JsonSerializerContext;
