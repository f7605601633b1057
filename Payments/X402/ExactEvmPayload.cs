using System.Text.Json;

namespace Sessions.Payments.X402;

/// <summary>EIP-3009 authorization fields as they travel: addresses and decimal-string numbers.</summary>
public sealed record ExactEvmAuthorization
{
    public required string From { get; init; }
    public required string To { get; init; }
    public required string Value { get; init; }
    public required string ValidAfter { get; init; }
    public required string ValidBefore { get; init; }
    /// <summary>"0x" + 64 hex digits.</summary>
    public required string Nonce { get; init; }
}

/// <summary>The "exact" scheme's EVM payload: {signature, authorization}.</summary>
public sealed record ExactEvmPayload
{
    /// <summary>"0x" + 130 hex digits (r||s||v); null when the client sent none.</summary>
    public string? Signature { get; init; }
    public required ExactEvmAuthorization Authorization { get; init; }

    public JsonElement ToJsonElement() => JsonSerializer.SerializeToElement(this, X402JsonContext.Strict.ExactEvmPayload);

    /// <summary>
    /// Reads the payload member of a PaymentPayload. Fails (no exception) when it is not an object with an
    /// authorization of six strings; the values themselves are checked by the verifier.
    /// </summary>
    public static bool TryRead(JsonElement payload, out ExactEvmPayload? exactPayload, out string? error)
    {
        exactPayload = null;
        if (payload.ValueKind != JsonValueKind.Object)
        {
            error = "payload must be an object";
            return false;
        }
        try
        {
            exactPayload = payload.Deserialize(X402JsonContext.Input.ExactEvmPayload);
        }
        catch (JsonException exception)
        {
            error = $"payload is not an exact EVM payload: {JsonInput.DescribeShapeError(exception)}";
            return false;
        }
        error = exactPayload is null ? "payload is null" : null;
        return exactPayload is not null;
    }
}
