using System.Text.Json;

namespace Sessions.Payments.X402;

// Facilitator HTTP API: POST /verify, POST /settle, GET /supported (@x402/core types/facilitator.ts).

/// <summary>
/// Body of POST /verify and POST /settle. Payload and requirements stay raw because their shape depends
/// on x402Version; read them with <see cref="X402Json"/> (ReadV1 / ReadV2).
/// </summary>
public record FacilitatorRequest
{
    public required int X402Version { get; init; }
    public required JsonElement PaymentPayload { get; init; }
    public required JsonElement PaymentRequirements { get; init; }
}

public sealed record VerifyRequest : FacilitatorRequest;

public sealed record SettleRequest : FacilitatorRequest;

public sealed record VerifyResponse
{
    public required bool IsValid { get; init; }
    public string? InvalidReason { get; init; }
    public string? InvalidMessage { get; init; }
    public string? Payer { get; init; }
    public JsonElement? Extensions { get; init; }
}

/// <summary>May arrive as HTTP 200 with success=false; transaction is "" on failure.</summary>
public sealed record SettleResponse
{
    public required bool Success { get; init; }
    public string? ErrorReason { get; init; }
    public string? ErrorMessage { get; init; }
    public string? Payer { get; init; }
    public string Transaction { get; init; } = "";
    public string Network { get; init; } = "";
    /// <summary>Actually settled atomic amount, for schemes where it may differ from the authorised one.</summary>
    public string? Amount { get; init; }
    public JsonElement? Extensions { get; init; }
}

public sealed record SupportedKind
{
    public required int X402Version { get; init; }
    public required string Scheme { get; init; }
    public required string Network { get; init; }
    public JsonElement? Extra { get; init; }
}

public sealed record SupportedResponse
{
    public required IReadOnlyList<SupportedKind> Kinds { get; init; }
    public IReadOnlyList<string> Extensions { get; init; } = [];
    /// <summary>CAIP family pattern (e.g. "eip155:*") to facilitator signer addresses.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> Signers { get; init; } = new Dictionary<string, IReadOnlyList<string>>();
}
