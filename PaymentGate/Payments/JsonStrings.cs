using System.Text.Json;

namespace Sessions.Payments;

/// <summary>
/// A JSON escape such as <c>"\ud800"</c> (a lone surrogate) is valid JSON syntax but no string: every later read or
/// re-serialization of it throws. Decoders of client input refuse such documents up front, as invalid JSON.
/// </summary>
internal static class JsonStrings
{
    public static bool AreWellFormed(JsonElement element)
    {
        try
        {
            Visit(element);
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    static void Visit(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    _ = property.Name;
                    Visit(property.Value);
                }
                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                    Visit(item);
                break;
            case JsonValueKind.String:
                _ = element.GetString();
                break;
        }
    }
}
