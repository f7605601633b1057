using System.Text.Json;

namespace Sessions.Payments.X402;

// x402 v1 wire types (legacy `x402` 1.x): requirements travel in the 402 JSON body, the proof in X-PAYMENT.

/// <summary>One way to pay (v1). Network is a v1 name such as "base-sepolia".</summary>
public sealed record PaymentRequirementsV1
{
    public required string Scheme { get; init; }
    public required string Network { get; init; }
    /// <summary>Atomic units as a decimal string.</summary>
    public required string MaxAmountRequired { get; init; }
    public required string Asset { get; init; }
    public required string PayTo { get; init; }
    /// <summary>URL of the resource.</summary>
    public required string Resource { get; init; }
    public string Description { get; init; } = "";
    public string MimeType { get; init; } = "";
    public JsonElement? OutputSchema { get; init; }
    public int MaxTimeoutSeconds { get; init; } = PaymentRequirements.DefaultMaxTimeoutSeconds;
    public JsonElement? Extra { get; init; }
}

/// <summary>The v1 402 body.</summary>
public sealed record PaymentRequiredV1
{
    public int X402Version { get; init; } = 1;
    public string Error { get; init; } = "";
    public required IReadOnlyList<PaymentRequirementsV1> Accepts { get; init; }
}

/// <summary>The v1 client proof (X-PAYMENT header).</summary>
public sealed record PaymentPayloadV1
{
    public int X402Version { get; init; } = 1;
    public required string Scheme { get; init; }
    public required string Network { get; init; }
    public required JsonElement Payload { get; init; }
}
