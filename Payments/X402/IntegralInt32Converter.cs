using System.Text.Json;
using System.Text.Json.Serialization;

namespace Sessions.Payments.X402;

/// <summary>
/// Reads an int from any JSON number whose value is an integer: 300, 300.0, 3e2 and 3.00E+2 are all 300,
/// as they are after JSON.parse in @x402/core (whose deepEqual matching is therefore number-semantic).
/// Fractions, out-of-range values and strings ("300") are refused. Writes the plain integer.
/// </summary>
public sealed class IntegralInt32Converter : JsonConverter<int>
{
    public override int Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.Number)
            throw new JsonException($"Expected a JSON number, got {reader.TokenType}.");
        if (reader.TryGetInt32(out var value))
            return value;
        if (reader.TryGetDecimal(out var number) && TryToInt32(number, out value))
            return value;
        throw new JsonException("Expected an integer in the Int32 range.");
    }

    public override void Write(Utf8JsonWriter writer, int value, JsonSerializerOptions options) => writer.WriteNumberValue(value);

    /// <summary>The same rule for a <see cref="JsonElement"/>.</summary>
    public static bool TryGetIntegral(JsonElement element, out int value)
    {
        value = 0;
        if (element.ValueKind != JsonValueKind.Number)
            return false;
        if (element.TryGetInt32(out value))
            return true;
        return element.TryGetDecimal(out var number) && TryToInt32(number, out value);
    }

    private static bool TryToInt32(decimal number, out int value)
    {
        value = 0;
        if (number != decimal.Truncate(number) || number < int.MinValue || number > int.MaxValue)
            return false;
        value = (int)number;
        return true;
    }
}
