using Sessions.McpServer.Storage;

namespace Sessions.McpServer.Content;

/// <summary>
/// The content API's checks and error texts, shared by the REST routes (<see cref="ContentApi"/>) and the MCP content
/// tools, so both refuse the same input with the same words. Each check returns null when the input is fine.
/// </summary>
public static class ContentRules
{
    /// <summary>Longest TTL a client may ask for: one year.</summary>
    public const long MaxTtlSeconds = 365L * 24 * 3600;

    public static readonly string TtlError = $"ttl must be a whole number of seconds between 1 and {MaxTtlSeconds}.";

    public static readonly string LimitError = $"limit must be a whole number between 1 and {PayerStoreLimits.MaxListLimit}.";

    public static string? CheckKey(string? key) => PayerStoreLimits.IsValidKey(key, out var error) ? null : error;

    public static string? CheckTtl(long? seconds) => seconds is null or (>= 1 and <= MaxTtlSeconds) ? null : TtlError;

    /// <summary>The listing's prefix, cursor (a key; empty = none) and page size.</summary>
    public static string? CheckList(string? prefix, string? cursor, int? limit)
    {
        if (!PayerStoreLimits.IsValidPrefix(prefix, out var error)) return error;
        if (!string.IsNullOrEmpty(cursor) && !PayerStoreLimits.IsValidKey(cursor, out error)) return $"Invalid cursor: {error}";
        return limit is null || PayerStoreLimits.IsValidLimit(limit, out _) ? null : LimitError;
    }

    public static string TooLarge(long size) =>
        $"The value ({size} bytes or more) exceeds the limit of {PayerStoreLimits.MaxValueBytes} bytes (64 KiB) per key.";

    public static string NotFound(string key) => $"The key '{key}' does not exist or has expired.";
}
