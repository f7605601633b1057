using System.Buffers;

namespace Sessions.McpServer.Storage;

/// <summary>
/// What a key and a value may be. Keys are 1..256 characters of <c>A-Z a-z 0-9 - _ . ~ : @ + =</c> in
/// <c>/</c>-separated segments (no leading, trailing or double <c>/</c>, no <c>.</c> or <c>..</c> segment): they
/// travel unescaped in URLs (<c>/api/content/notes/today</c>) and compare the same ordinally in .NET and bytewise in
/// Redis, which the listing order relies on.
/// </summary>
public static class PayerStoreLimits
{
    public const int MaxKeyLength = 256;
    public const int MaxValueBytes = 64 * 1024;
    public const int DefaultListLimit = 20;
    public const int MaxListLimit = 100;

    static readonly SearchValues<char> KeyCharacters =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~:@+=/");

    public static bool IsValidKey(string? key, out string? error)
    {
        error = key switch
        {
            null or "" => "The key is empty.",
            { Length: > MaxKeyLength } => $"The key is longer than {MaxKeyLength} characters.",
            _ when key.AsSpan().ContainsAnyExcept(KeyCharacters) => "The key may contain only A-Z a-z 0-9 - _ . ~ : @ + = and /.",
            _ when key.Split('/').Any(segment => segment is "" or "." or "..") =>
                "The key's '/'-separated segments must be non-empty and not '.' or '..'.",
            _ => null,
        };
        return error is null;
    }

    /// <summary>A prefix is any start of a valid key, so it may end with '/'.</summary>
    public static bool IsValidPrefix(string? prefix, out string? error)
    {
        error = prefix switch
        {
            null or "" => null,
            { Length: > MaxKeyLength } => $"The prefix is longer than {MaxKeyLength} characters.",
            _ when prefix.AsSpan().ContainsAnyExcept(KeyCharacters) => "The prefix may contain only A-Z a-z 0-9 - _ . ~ : @ + = and /.",
            _ => null,
        };
        return error is null;
    }

    /// <summary>The page size the REST API and the tools accept (the stores themselves take any limit; &lt;= 0 = all).</summary>
    public static bool IsValidLimit(int? limit, out string? error)
    {
        error = limit is null or (>= 1 and <= MaxListLimit) ? null : $"The limit must be between 1 and {MaxListLimit}.";
        return error is null;
    }

    internal static void ThrowIfInvalidKey(string key, string parameterName = "key")
    {
        if (!IsValidKey(key, out var error)) throw new ArgumentException(error, parameterName);
    }

    /// <returns>The value's UTF-8 size.</returns>
    internal static long ThrowIfInvalidValue(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var size = System.Text.Encoding.UTF8.GetByteCount(value);
        return size > MaxValueBytes ? throw new PayerValueTooLargeException(size) : size;
    }

    /// <summary>Null = the store's default, zero = never expires; a negative TTL is refused.</summary>
    internal static void ThrowIfInvalidTtl(TimeSpan? ttl)
    {
        if (ttl is { } value && value < TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(ttl), ttl, "A TTL is zero (never expires) or positive; null means the store's default.");
    }

    /// <summary>Whole milliseconds, rounded up so that a positive TTL never becomes 0 (= never expires).</summary>
    internal static long ToMilliseconds(TimeSpan ttl) => (long)Math.Ceiling(ttl.TotalMilliseconds);

    /// <summary>The checks of a (batch) set, before anything is written: returns each value's size in UTF-8 bytes.</summary>
    internal static long[] ThrowIfInvalidEntries(IReadOnlyList<KeyValuePair<string, string>> entries, TimeSpan? ttl)
    {
        ArgumentNullException.ThrowIfNull(entries);
        ThrowIfInvalidTtl(ttl);
        var sizes = new long[entries.Count];
        for (var i = 0; i < entries.Count; i++)
        {
            ThrowIfInvalidKey(entries[i].Key, nameof(entries));
            sizes[i] = ThrowIfInvalidValue(entries[i].Value);
        }
        return sizes;
    }
}
