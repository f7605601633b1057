using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Sessions.Payments.X402;

/// <summary>
/// Source-generated metadata for every x402 wire type. Use <see cref="Strict"/>: camelCase names,
/// nulls omitted, case-sensitive names, duplicate properties refused (a smuggling vector between parsers
/// that keep the first and those that keep the last), numbers only as JSON numbers; an int member takes
/// any integral JSON number (300, 300.0, 3e2: see <see cref="IntegralInt32Converter"/>).
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    Converters = [typeof(IntegralInt32Converter)])]
[JsonSerializable(typeof(PaymentRequired))]
[JsonSerializable(typeof(PaymentPayload))]
[JsonSerializable(typeof(PaymentRequiredV1))]
[JsonSerializable(typeof(PaymentPayloadV1))]
[JsonSerializable(typeof(ExactEvmPayload))]
[JsonSerializable(typeof(VerifyRequest))]
[JsonSerializable(typeof(SettleRequest))]
[JsonSerializable(typeof(FacilitatorRequest))]
[JsonSerializable(typeof(VerifyResponse))]
[JsonSerializable(typeof(SettleResponse))]
[JsonSerializable(typeof(SupportedResponse))]
[JsonSerializable(typeof(Dictionary<string, string>))]
public sealed partial class X402JsonContext : JsonSerializerContext
{
    public static X402JsonContext Strict { get; } = new(CreateStrictOptions());

    /// <summary>
    /// <see cref="Strict"/> that also refuses a JSON null where the type requires a value (<c>"accepted":null</c>): for reading
    /// what clients send (payment headers, facilitator requests), so that no null reaches code that trusts the type.
    /// </summary>
    public static X402JsonContext Input { get; } = new(CreateStrictOptions(respectNullableAnnotations: true));

    private static JsonSerializerOptions CreateStrictOptions(bool respectNullableAnnotations = false) => new()
    {
        RespectNullableAnnotations = respectNullableAnnotations,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        PropertyNameCaseInsensitive = false,
        AllowDuplicateProperties = false,
        NumberHandling = JsonNumberHandling.Strict,
        MaxDepth = 32,
        Converters = { new IntegralInt32Converter() },
        // JSON.stringify does not escape '+', '<', non-ASCII...: keep the text close to what JS clients send.
        // Safe here: the JSON is base64-wrapped in headers or served as application/json.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };
}
