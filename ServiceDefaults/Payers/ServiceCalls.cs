using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Sessions.ServiceDefaults.Payers;

/// <summary>
/// One answer of a sibling service: its status and JSON body (<c>default</c> when it had none or it was not JSON).
/// <paramref name="UnreadableText"/>: the body (its first 500 characters) when it was there but not JSON (a proxy's error
/// page), for the log.
/// </summary>
public sealed record ServiceAnswer(HttpStatusCode Status, JsonElement Body, string? UnreadableText = null)
{
    public bool IsSuccess => (int)Status is >= 200 and < 300;

    /// <summary>A body that is not JSON: not the service's answer (the gate treats it as no answer).</summary>
    public bool IsUnreadable => UnreadableText is not null;

    /// <summary>A string member of the body, or null.</summary>
    public string? Text(string name) => Body.ValueKind == JsonValueKind.Object && Body.TryGetProperty(name, out var value)
        && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    /// <summary>The problem's <c>code</c> (every service's problems carry one).</summary>
    public string? Code => Text("code");
}

/// <summary>No HTTP answer at all: connection refused, no address from discovery, a resilience timeout or an open circuit.</summary>
public sealed class ServiceUnreachableException(string message, Exception inner) : Exception(message, inner);

/// <summary>
/// The one way the services call each other (gate → SessionApi/VaultApi, SessionApi → VaultApi, VaultApi → SessionApi,
/// McpServer → both): a JSON request on a named, service-discovered <see cref="HttpClient"/>, with the signed
/// <c>X-Payer-Context</c> the callee checks. What "unavailable" means (a 5xx too?) stays each caller's decision.
/// </summary>
public static class ServiceCalls
{
    /// <param name="headers">More request headers (a user's signature the callee checks), or null.</param>
    /// <exception cref="ServiceUnreachableException">No answer (anything but the caller's own cancellation).</exception>
    public static async Task<ServiceAnswer> SendJsonAsync(this HttpClient client, HttpMethod method, string path, string? payerContext, object? body,
        CancellationToken cancellationToken, JsonSerializerOptions? json = null, IEnumerable<KeyValuePair<string, string>>? headers = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (payerContext is not null)
            request.Headers.TryAddWithoutValidation(PayerContextSigner.HeaderName, payerContext);
        foreach (var (name, value) in headers ?? [])
            request.Headers.TryAddWithoutValidation(name, value);
        if (body is not null)
            request.Content = JsonContent.Create(body, options: json ?? JsonSerializerOptions.Web);
        try
        {
            using var response = await client.SendAsync(request, cancellationToken);
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            if (text.Length == 0)
                return new ServiceAnswer(response.StatusCode, default);
            return TryParse(text, out var parsed) ? new ServiceAnswer(response.StatusCode, parsed)
                : new ServiceAnswer(response.StatusCode, default, text.Length <= 500 ? text : text[..500] + "…");
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            throw new ServiceUnreachableException($"{method} {path} had no answer: {exception.Message}", exception);
        }
    }

    static bool TryParse(string text, out JsonElement json)
    {
        try
        {
            json = JsonDocument.Parse(text).RootElement.Clone();
            return true;
        }
        catch (JsonException)
        {
            json = default;
            return false;
        }
    }
}
