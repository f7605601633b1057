using System.Text.Json;
using Sessions.ServiceDefaults.Payers;

namespace Sessions.McpServer.Mcp;

/// <summary>
/// Calls from tools to VaultApi and SessionApi (named HttpClients <c>http://vaultapi</c>, <c>http://sessionapi</c>, resolved
/// by service discovery), carrying the incoming request's signed <c>X-Payer-Context</c> unchanged: the services check the
/// gate's signature themselves, so a tool can never act for another payer than the one the gate vouched for.
/// </summary>
public sealed class Upstreams(IHttpClientFactory clients, IHttpContextAccessor http, ILogger<Upstreams> logger)
{
    public const string VaultApi = "vaultapi";
    public const string SessionApi = "sessionapi";

    /// <returns>The answer, or null when the service could not be reached or timed out (logged).</returns>
    public async Task<ServiceAnswer?> SendAsync(string service, HttpMethod method, string path, object? body, CancellationToken cancellationToken)
    {
        var payerContext = http.HttpContext?.Request.Headers[PayerContextSigner.HeaderName].ToString() is { Length: > 0 } context ? context : null;
        try
        {
            return await clients.CreateClient(service).SendJsonAsync(method, path, payerContext, body, cancellationToken, ToolResults.Json);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Connection refused, discovery without an address, resilience timeout or open circuit: the tool answers an error.
            logger.LogWarning(e, "{Service} {Method} {Path} failed", service, method, path);
            return null;
        }
    }
}

public static class ServiceAnswerDescriptions
{
    /// <summary>What a problem+json says, for a tool's error: its detail (with field errors of a validation problem), else its title.</summary>
    public static string Describe(this ServiceAnswer answer)
    {
        var text = answer.Text("detail") ?? answer.Text("title") ?? $"HTTP {(int)answer.Status}";
        if (answer.Body is { ValueKind: JsonValueKind.Object } body && body.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Object)
        {
            var fields = errors.EnumerateObject().Select(field => $"{field.Name}: {string.Join(" ", field.Value.EnumerateArray().Select(m => m.GetString()))}");
            text = $"{text.TrimEnd('.')}. {string.Join("; ", fields)}";
        }
        return text;
    }
}
