using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Sessions.Payments.X402;

/// <summary>Serialization helpers over <see cref="X402JsonContext.Strict"/>, failures as values.</summary>
public static class X402Json
{
    public static string Serialize<T>(T value, JsonTypeInfo<T> typeInfo) => JsonSerializer.Serialize(value, typeInfo);

    public static JsonElement ToElement<T>(T value, JsonTypeInfo<T> typeInfo) => JsonSerializer.SerializeToElement(value, typeInfo);

    public static bool TryDeserialize<T>(JsonElement element, JsonTypeInfo<T> typeInfo, out T? value, out string? error) where T : class
    {
        value = null;
        try
        {
            value = element.Deserialize(typeInfo);
            error = value is null ? "value is null" : null;
            return value is not null;
        }
        catch (JsonException exception)
        {
            error = JsonInput.DescribeShapeError(exception);
            return false;
        }
    }

    /// <summary>Reads a v2 facilitator request's payload and requirements.</summary>
    public static bool TryReadV2(FacilitatorRequest request, out PaymentPayload? payload, out PaymentRequirements? requirements, out string? error)
    {
        requirements = null;
        if (!TryDeserialize(request.PaymentPayload, X402JsonContext.Input.PaymentPayload, out payload, out error))
            return false;
        return TryDeserialize(request.PaymentRequirements, X402JsonContext.Input.PaymentRequirements, out requirements, out error);
    }

    /// <summary>Reads a v1 facilitator request's payload and requirements.</summary>
    public static bool TryReadV1(FacilitatorRequest request, out PaymentPayloadV1? payload, out PaymentRequirementsV1? requirements, out string? error)
    {
        requirements = null;
        if (!TryDeserialize(request.PaymentPayload, X402JsonContext.Input.PaymentPayloadV1, out payload, out error))
            return false;
        return TryDeserialize(request.PaymentRequirements, X402JsonContext.Input.PaymentRequirementsV1, out requirements, out error);
    }

    public static VerifyRequest VerifyRequestFor(PaymentPayload payload, PaymentRequirements requirements) => new()
    {
        X402Version = 2,
        PaymentPayload = ToElement(payload, X402JsonContext.Strict.PaymentPayload),
        PaymentRequirements = ToElement(requirements, X402JsonContext.Strict.PaymentRequirements),
    };

    public static VerifyRequest VerifyRequestFor(PaymentPayloadV1 payload, PaymentRequirementsV1 requirements) => new()
    {
        X402Version = 1,
        PaymentPayload = ToElement(payload, X402JsonContext.Strict.PaymentPayloadV1),
        PaymentRequirements = ToElement(requirements, X402JsonContext.Strict.PaymentRequirementsV1),
    };

    /// <summary>The {name, version} extra of an EIP-3009 asset.</summary>
    public static JsonElement Eip3009Extra(string name, string version) => JsonSerializer.SerializeToElement(
        new Dictionary<string, string> { ["name"] = name, ["version"] = version }, X402JsonContext.Strict.DictionaryStringString);
}
