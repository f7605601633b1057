using System.Globalization;
using System.Text;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using Sessions.McpServer.Storage;
using Sessions.ServiceDefaults.Errors;

namespace Sessions.McpServer.Content;

/// <summary>
/// The payer's key-value content over REST (the aixyz x402-sessions example; priced at the gate): values are UTF-8 text
/// stored as sent and read back as <c>text/plain</c>. Each payer sees only its own keys (<see cref="IPayerStore"/>).
/// </summary>
public static class ContentApi
{
    /// <summary>Longest TTL a client may ask for: one year.</summary>
    public const long MaxTtlSeconds = ContentRules.MaxTtlSeconds;

    public static RouteGroupBuilder MapContentApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/content").RequirePayer();
        api.AddEndpointFilter(MapStoreFailures);

        api.MapGet("", ListAsync);
        api.MapPut("/{**key}", PutAsync);
        var get = api.MapGet("/{**key}", GetAsync);
        // Development only: ?delayMs=N (at most 10 s) answers N ms late, a slow upstream to check SLA credits through the running
        // stack (docs/offers-and-sla.md, Interop OffersTests).
        if (app.ServiceProvider.GetRequiredService<IHostEnvironment>().IsDevelopment())
            get.AddEndpointFilter(async (context, next) =>
            {
                if (int.TryParse(context.HttpContext.Request.Query["delayMs"], out var delay) && delay is > 0 and <= 10_000)
                    await Task.Delay(delay, context.HttpContext.RequestAborted);
                return await next(context);
            });
        api.MapDelete("/{**key}", DeleteAsync);
        return api;
    }

    public sealed record PutResponse(string Key, long Size,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DateTimeOffset? ExpiresAt);

    public sealed record ListItem(string Key, [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Value);

    public sealed record ListResponse(IReadOnlyList<ListItem> Items, string? NextCursor);

    static async Task<Results<Ok<PutResponse>, ProblemHttpResult>> PutAsync(string key, string? ttl, HttpRequest request,
        IPayerStore store, CancellationToken cancellationToken)
    {
        if (ContentRules.CheckKey(key) is { } error) return BadRequest(error);
        TimeSpan? lifetime = null;
        if (ttl is not null)
        {
            if (!long.TryParse(ttl, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) || ContentRules.CheckTtl(seconds) is not null)
                return BadRequest(ContentRules.TtlError);
            lifetime = TimeSpan.FromSeconds(seconds);
        }
        if (request.ContentLength > PayerStoreLimits.MaxValueBytes) return TooLarge(request.ContentLength.Value);

        var body = await ReadBodyAsync(request, cancellationToken);
        if (body is null) return TooLarge(request.ContentLength ?? PayerStoreLimits.MaxValueBytes + 1);
        string value;
        try
        {
            value = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(body);
        }
        catch (DecoderFallbackException)
        {
            return BadRequest("The value must be UTF-8 text.");
        }
        var entry = await store.SetAsync(key, value, lifetime, cancellationToken);
        return TypedResults.Ok(new PutResponse(entry.Key, entry.Size, entry.ExpiresAt));
    }

    static async Task<Results<ContentHttpResult, ProblemHttpResult>> GetAsync(string key, IPayerStore store, CancellationToken cancellationToken)
    {
        if (ContentRules.CheckKey(key) is { } error) return BadRequest(error);
        return await store.GetAsync(key, cancellationToken) is { } entry
            ? TypedResults.Text(entry.Value, "text/plain", Encoding.UTF8)
            : NotFound(key);
    }

    static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(string key, IPayerStore store, CancellationToken cancellationToken)
    {
        if (ContentRules.CheckKey(key) is { } error) return BadRequest(error);
        return await store.DeleteAsync(key, cancellationToken) ? TypedResults.NoContent() : NotFound(key);
    }

    static async Task<Results<Ok<ListResponse>, ProblemHttpResult>> ListAsync(string? prefix, string? cursor, string? limit, string? keysOnly,
        IPayerStore store, CancellationToken cancellationToken)
    {
        if (ContentRules.CheckList(prefix, cursor, null) is { } error) return BadRequest(error);
        // The REST page stays bounded (the store itself lists everything when no limit is given).
        int? pageSize = PayerStoreLimits.DefaultListLimit;
        if (!string.IsNullOrEmpty(limit))
        {
            if (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) || ContentRules.CheckList(null, null, parsed) is not null)
                return BadRequest(ContentRules.LimitError);
            pageSize = parsed;
        }
        var onlyKeys = false;
        if (!string.IsNullOrEmpty(keysOnly) && !TryParseFlag(keysOnly, out onlyKeys))
            return BadRequest("keysOnly must be true, false, 1 or 0.");

        var page = await store.ListAsync(new PayerListOptions(prefix, string.IsNullOrEmpty(cursor) ? null : cursor, pageSize, onlyKeys), cancellationToken);
        return TypedResults.Ok(new ListResponse([.. page.Items.Select(item => new ListItem(item.Key, item.Value))], page.NextCursor));
    }

    /// <summary>Reads at most <see cref="PayerStoreLimits.MaxValueBytes"/>; null when the body is longer (chunked bodies have no length up front).</summary>
    static async Task<byte[]?> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > PayerStoreLimits.MaxValueBytes) return null;
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    static bool TryParseFlag(string text, out bool value)
    {
        value = text is "1" || text.Equals("true", StringComparison.OrdinalIgnoreCase);
        return value || text is "0" || text.Equals("false", StringComparison.OrdinalIgnoreCase);
    }

    // Redis down or too slow: the request may be retried, so 503 (not 500); nothing was served from a guess.
    static async ValueTask<object?> MapStoreFailures(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try
        {
            return await next(context);
        }
        catch (Exception e) when (DependencyUnavailableProblems.IsStoreOutage(e))
        {
            context.HttpContext.Response.Headers.RetryAfter = "1";
            return Problems.Coded(StatusCodes.Status503ServiceUnavailable, "content-store-unavailable", "Content store unavailable",
                "The content store (Redis) did not answer; try again shortly.");
        }
        catch (PayerValueTooLargeException e)
        {
            return TooLarge(e.Size);
        }
    }

    static ProblemHttpResult BadRequest(string detail) =>
        Problems.Coded(StatusCodes.Status400BadRequest, "invalid-content-request", "Invalid content request", detail);

    static ProblemHttpResult NotFound(string key) =>
        Problems.Coded(StatusCodes.Status404NotFound, "key-not-found", "No such key", ContentRules.NotFound(key));

    static ProblemHttpResult TooLarge(long size) =>
        Problems.Coded(StatusCodes.Status413PayloadTooLarge, "value-too-large", "Value too large", ContentRules.TooLarge(size));
}
