using System.Text.Json;
using System.Text.Json.Nodes;

namespace Sessions.ServiceDefaults.Json;

/// <summary>
/// JSON read from outside where two readers must agree on what it says (the gate prices a JSON-RPC message, the MCP server
/// runs it): member names unique at every depth, also ignoring case, because System.Text.Json's web defaults bind members
/// case-insensitively (last one wins) while a plain reader takes the exact name.
/// </summary>
public static class UnambiguousJson
{
    static readonly JsonDocumentOptions Options = new() { MaxDepth = 64 };

    /// <summary>The parsed body, or null when it is not JSON, or not writable JSON (<paramref name="ambiguous"/> false), or repeats a member name,
    /// exactly or in another case (<paramref name="ambiguous"/> true).</summary>
    public static JsonNode? TryParse(ReadOnlyMemory<byte> utf8, out bool ambiguous)
    {
        ambiguous = false;
        try
        {
            // JsonDocument keeps repeated members (JsonObject would throw on them), so one walk finds both kinds of repeat.
            using (var document = JsonDocument.Parse(utf8, Options))
                if (HasRepeatedNames(document.RootElement))
                {
                    ambiguous = true;
                    return null;
                }
            return JsonNode.Parse(utf8.Span, documentOptions: Options);
        }
        catch (Exception exception) when (exception is JsonException or InvalidOperationException)
        {
            // InvalidOperationException: a name or string escaping half a surrogate pair ("\ud800"), which no writer can
            // write back (the gate re-serialises the message it forwards).
            return null;
        }
    }

    static bool HasRepeatedNames(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                HashSet<string>? seen = null;
                foreach (var member in element.EnumerateObject())
                {
                    seen ??= new HashSet<string>(StringComparer.OrdinalIgnoreCase);
                    if (!seen.Add(member.Name) || HasRepeatedNames(member.Value)) return true;
                }
                return false;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                    if (HasRepeatedNames(item)) return true;
                return false;
            case JsonValueKind.String:
                _ = element.GetString(); // throws InvalidOperationException for an unpaired surrogate escape
                return false;
            default:
                return false;
        }
    }
}
