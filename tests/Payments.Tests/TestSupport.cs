using System.Text.Json;
using Microsoft.Extensions.Time.Testing;

namespace Sessions.Payments.Tests;

/// <summary>A clock that stands still where the test puts it.</summary>
internal static class FixedClock
{
    public static FakeTimeProvider AtUnixSeconds(long seconds) => new(DateTimeOffset.FromUnixTimeSeconds(seconds));
}

/// <summary>The committed cross-check fixtures (see Fixtures/generate-fixtures.mjs).</summary>
internal static class Fixtures
{
    public static JsonElement Load(string fileName)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Fixtures", fileName);
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        return document.RootElement.Clone();
    }

    /// <summary>JSON to the plain values the EIP-712 encoder takes (numbers as their decimal text).</summary>
    public static object? ToEncoderValue(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => element.EnumerateObject().ToDictionary(p => p.Name, p => ToEncoderValue(p.Value)),
        JsonValueKind.Array => element.EnumerateArray().Select(ToEncoderValue).ToList(),
        JsonValueKind.String => element.GetString(),
        JsonValueKind.Number => element.GetRawText(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => null,
    };
}
