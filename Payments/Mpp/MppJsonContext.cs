using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Sessions.Payments.Mpp;

/// <summary>Source-generated metadata for MPP wire types; same strictness as the x402 context.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(PaymentCredential))]
[JsonSerializable(typeof(PaymentReceipt))]
public sealed partial class MppJsonContext : JsonSerializerContext
{
    public static MppJsonContext Strict { get; } = new(new JsonSerializerOptions
    {
        // A client's JSON null where the type requires a value ("id":null) is refused, not passed on to code that trusts the type.
        RespectNullableAnnotations = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        PropertyNameCaseInsensitive = false,
        AllowDuplicateProperties = false,
        NumberHandling = JsonNumberHandling.Strict,
        MaxDepth = 32,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });
}
