using System.Text.Json;

namespace Sessions.Client;

/// <summary>The gate's session wire: the token header and the JSON answers the handler reads.</summary>
internal static class SessionHeaders
{
    public const string Token = "Payment-Session";

    /// <summary>Marks the handler's own session calls: paid per request, never given a session token.</summary>
    public static readonly HttpRequestOptionsKey<bool> Internal = new("Sessions.Client.SessionCall");

    public static async Task<JsonElement?> JsonAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.Content.Headers.ContentType?.MediaType is not ("application/json" or "application/problem+json"))
            return null;
        try
        {
            using var document = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync(cancellationToken));
            return document.RootElement.ValueKind == JsonValueKind.Object ? document.RootElement.Clone() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The top-up hint of a session's 402: <c>{topUp: {path, minimum}}</c> beside the v1 offer.</summary>
    public static (string Path, Sessions.Payments.AtomicAmount Minimum)? TopUpHint(JsonElement? body) =>
        body is { } json && json.TryGetProperty("topUp", out var topUp) && topUp.ValueKind == JsonValueKind.Object
        && topUp.TryGetProperty("path", out var path) && path.ValueKind == JsonValueKind.String
        && topUp.TryGetProperty("minimum", out var minimum) && Sessions.Payments.AtomicAmount.TryParse(minimum.GetString(), out var amount)
            ? (path.GetString()!, amount)
            : null;
}
