using System.Text;
using System.Text.Json;

namespace Sessions.VaultApi.Vaults;

public sealed record EnsureVaultRequest(string? Organization, string? Payer, DateTimeOffset? ExpiresAt);

/// <summary><c>content</c>: a JSON string is text; any other JSON value is stored as JSON (content type application/json).</summary>
public sealed record AddDocumentRequest(string? Name, JsonElement Content, string? ContentType, string? AddedBy);

/// <summary>
/// Keyset pagination: the last row's position in the chosen order (seq for newest first; name and seq by name), opaque to
/// clients (base64url). Offsets would skip or repeat documents added while a client pages.
/// </summary>
public sealed record DocumentCursor(string Order, long? Seq = null, string? Name = null)
{
    public const string Newest = "newest";
    public const string ByName = "name";

    public string Encode() => Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Order}|{Seq}|{Name}")).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static bool TryDecode(string? text, string order, out DocumentCursor cursor)
    {
        cursor = new(order);
        if (string.IsNullOrEmpty(text)) return true;
        try
        {
            var base64 = text.Replace('-', '+').Replace('_', '/');
            var parts = Encoding.UTF8.GetString(Convert.FromBase64String(base64.PadRight(base64.Length + (4 - base64.Length % 4) % 4, '='))).Split('|', 3);
            if (parts.Length != 3 || parts[0] != order || !long.TryParse(parts[1], out var seq)) return false;
            cursor = new(order, seq, order == ByName ? parts[2] : null);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}

public static class VaultRequests
{
    public const int MaxNameLength = 256;
    public const int MaxListLimit = 100;

    public static Dictionary<string, string[]> Validate(EnsureVaultRequest request)
    {
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(request.Organization)) errors["organization"] = ["Required."];
        if (request.Payer is null || !System.Text.RegularExpressions.Regex.IsMatch(request.Payer, "^(0x[0-9a-fA-F]{40}|[1-9A-HJ-NP-Za-km-z]{32,44})$"))
            errors["payer"] = ["An EVM address (0x + 40 hex) or a Solana address (base58) is required."];
        if (request.ExpiresAt is null) errors["expiresAt"] = ["The session's expiry is required."];
        return errors;
    }

    /// <summary>Checks the document and returns the text to store, its content type and its size in UTF-8 bytes.</summary>
    public static Dictionary<string, string[]> Validate(AddDocumentRequest request, out string content, out string contentType, out int size)
    {
        var errors = new Dictionary<string, string[]>();
        content = "";
        contentType = "";
        size = 0;
        if (string.IsNullOrWhiteSpace(request.Name) || request.Name.Length > MaxNameLength)
            errors["name"] = [$"Required, at most {MaxNameLength} characters."];
        var declared = request.ContentType?.Trim();
        switch (request.Content.ValueKind)
        {
            case JsonValueKind.Undefined or JsonValueKind.Null:
                errors["content"] = ["Required: a string (text) or any other JSON value."];
                break;
            case JsonValueKind.String:
                content = request.Content.GetString()!;
                contentType = string.IsNullOrEmpty(declared) ? "text/plain; charset=utf-8" : declared;
                if (IsJson(contentType) && !IsValidJson(content)) errors["content"] = ["The content type is JSON but the text is not valid JSON."];
                break;
            default:
                content = request.Content.GetRawText();
                contentType = string.IsNullOrEmpty(declared) ? "application/json" : declared;
                if (!IsJson(contentType)) errors["contentType"] = ["JSON content needs a JSON content type (application/json or */*+json)."];
                break;
        }
        size = Encoding.UTF8.GetByteCount(content);
        return errors;
    }

    public static bool IsJson(string contentType)
    {
        var media = contentType.Split(';', 2)[0].Trim();
        return media.Equals("application/json", StringComparison.OrdinalIgnoreCase) || media.EndsWith("+json", StringComparison.OrdinalIgnoreCase);
    }

    static bool IsValidJson(string text)
    {
        try
        {
            using var _ = JsonDocument.Parse(text);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
