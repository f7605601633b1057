using System.Text.Json;
using System.Text.Json.Serialization;

namespace Sessions.Payments.X402;

// x402 v2 wire types (@x402/core 2.x types/payments.ts). Optional members are null and omitted when
// written; extra, outputSchema and extensions stay raw JSON so they round-trip exactly.

/// <summary>The protected resource a v2 PaymentRequired / PaymentPayload refers to.</summary>
public sealed record ResourceInfo
{
    public required string Url { get; init; }
    public string? Description { get; init; }
    public string? MimeType { get; init; }
    public string? ServiceName { get; init; }
    public IReadOnlyList<string>? Tags { get; init; }
    public string? IconUrl { get; init; }
}

/// <summary>One way to pay (v2): scheme, CAIP-2 network, atomic amount, asset, recipient, extra.</summary>
public sealed record PaymentRequirements
{
    public const int DefaultMaxTimeoutSeconds = 300;

    public required string Scheme { get; init; }
    public required string Network { get; init; }
    /// <summary>Atomic units as a decimal string.</summary>
    public required string Amount { get; init; }
    public required string Asset { get; init; }
    public required string PayTo { get; init; }
    public int MaxTimeoutSeconds { get; init; } = DefaultMaxTimeoutSeconds;
    /// <summary>For EIP-3009 assets: {"name": ..., "version": ...} of the token's EIP-712 domain.</summary>
    public JsonElement? Extra { get; init; }

    /// <summary>Members this library does not model, kept so that deep-equality matching sees them.</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? AdditionalProperties { get; set; }
}

/// <summary>The v2 402 answer, sent base64-encoded in the PAYMENT-REQUIRED header.</summary>
public sealed record PaymentRequired
{
    public int X402Version { get; init; } = 2;
    public string? Error { get; init; }
    public required ResourceInfo Resource { get; init; }
    public required IReadOnlyList<PaymentRequirements> Accepts { get; init; }
    public JsonElement? Extensions { get; init; }
}

/// <summary>The v2 client proof, sent base64-encoded in the PAYMENT-SIGNATURE header.</summary>
public sealed record PaymentPayload
{
    public int X402Version { get; init; } = 2;
    public ResourceInfo? Resource { get; init; }
    /// <summary>The offered requirement the client chose; must deep-equal one the server offered.</summary>
    public required PaymentRequirements Accepted { get; init; }
    /// <summary>Scheme-specific proof; for "exact" on EVM see <see cref="ExactEvmPayload"/>.</summary>
    public required JsonElement Payload { get; init; }
    public JsonElement? Extensions { get; init; }
}
