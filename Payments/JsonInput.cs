using System.Text.Json;

namespace Sessions.Payments;

/// <summary>Reading JSON a client sent: what the serializer lets through, and errors that name no internal type.</summary>
internal static class JsonInput
{
    const string MissingMembers = "missing required properties including: ";

    /// <summary>
    /// False for a JSON escape such as <c>"\ud800"</c> (a lone surrogate): valid JSON syntax but no string, so every later
    /// read or re-serialization of it throws. Decoders of client input refuse such documents up front, as invalid JSON.
    /// </summary>
    public static bool HasOnlyWellFormedStrings(JsonElement element)
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

    /// <summary>A deserialization error for the client: which members or where, never the .NET type it was read into.</summary>
    public static string DescribeShapeError(JsonException exception)
    {
        var missing = exception.Message.IndexOf(MissingMembers, StringComparison.Ordinal);
        return missing >= 0
            ? "missing required members " + exception.Message[(missing + MissingMembers.Length)..].TrimEnd('.')
            : $"a member has the wrong type or value at {exception.Path ?? "$"}";
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
