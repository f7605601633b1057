namespace Sessions.McpServer.Storage;

/// <summary>
/// Key-value storage of the payer of the current request (aixyz SessionPlugin, PROTOCOLS.md §3): every call works on
/// the keys of <see cref="Microsoft.Extensions.Hosting.IPayerContextAccessor.Current"/>'s payer, resolved per call, so
/// one instance serves every request and a request without a payer gets no storage at all
/// (<see cref="PayerRequiredException"/>). Keys and values are checked against <see cref="PayerStoreLimits"/>
/// (<see cref="ArgumentException"/> / <see cref="PayerValueTooLargeException"/>).
/// </summary>
public interface IPayerStore
{
    /// <summary>The current payer's storage id (lowercase address).</summary>
    /// <exception cref="PayerRequiredException">The current request has no payer.</exception>
    string Payer { get; }

    /// <summary>
    /// The entry, or null when the key was never set, was deleted, was evicted or has expired. Reading slides the
    /// entry's expiry: <see cref="PayerEntry.ExpiresAt"/> is now + the entry's own TTL.
    /// </summary>
    Task<PayerEntry?> GetAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>
    /// Creates or overwrites. <paramref name="ttl"/>: null = the store's default TTL, <see cref="TimeSpan.Zero"/> = never
    /// expires, otherwise this entry's own TTL (an overwrite replaces the old one). Every <see cref="GetAsync"/> restarts
    /// the entry's TTL (sliding expiry); an entry is expired once the clock is past its expiry (strictly).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="ttl"/> is negative.</exception>
    Task<PayerEntry> SetAsync(string key, string value, TimeSpan? ttl = null, CancellationToken cancellationToken = default);

    /// <summary>True when the key existed (and had not expired).</summary>
    Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>
    /// A page of the payer's live entries after <see cref="PayerListOptions.Cursor"/>. Order: first insertion in the
    /// in-memory store (as aixyz), ordinal key order in Redis (docs/payer-storage.md). Listing neither
    /// slides TTLs nor promotes entries.
    /// </summary>
    Task<PayerPage> ListAsync(PayerListOptions options, CancellationToken cancellationToken = default);

    /// <summary>One result per requested key, in order; null where the key is missing.</summary>
    Task<IReadOnlyList<PayerEntry?>> GetManyAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken = default);

    /// <summary>Sets every entry atomically with the same TTL (null = default, zero = never), in order.</summary>
    Task<IReadOnlyList<PayerEntry>> SetManyAsync(IReadOnlyList<KeyValuePair<string, string>> entries, TimeSpan? ttl = null, CancellationToken cancellationToken = default);

    /// <summary>How many of the keys existed and were deleted.</summary>
    Task<long> DeleteManyAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken = default);

    /// <summary>
    /// Releases what the store holds (aixyz's <c>close()</c>): the in-memory store drops every entry of every payer;
    /// the Redis store keeps the data (it outlives the process) and leaves the shared connection to its owner.
    /// The host calls it at shutdown (the stores are <see cref="IAsyncDisposable"/>).
    /// </summary>
    Task CloseAsync(CancellationToken cancellationToken = default);
}

/// <param name="Size">UTF-8 bytes of the value.</param>
/// <param name="ExpiresAt">When the entry disappears; null = never.</param>
public sealed record PayerEntry(string Key, string Value, long Size, DateTimeOffset? ExpiresAt);

/// <param name="Prefix">Only keys starting with it (ordinal); null or empty = all.</param>
/// <param name="Cursor">The last key of the previous page (its <see cref="PayerPage.NextCursor"/>); null = from the start.
/// The prefix applies after it: the cursor itself need not match the prefix.</param>
/// <param name="Limit">Page size; null or &lt;= 0 = every matching entry (aixyz). The REST API and tools bound their pages
/// themselves (<see cref="PayerStoreLimits.IsValidLimit"/>).</param>
/// <param name="KeysOnly">Skip the values (<see cref="PayerListItem.Value"/> null; aixyz gives ""): cheaper for large values.</param>
public sealed record PayerListOptions(string? Prefix = null, string? Cursor = null, int? Limit = null, bool KeysOnly = false);

public sealed record PayerListItem(string Key, string? Value);

/// <param name="NextCursor">Set only when at least one more matching entry exists.</param>
public sealed record PayerPage(IReadOnlyList<PayerListItem> Items, string? NextCursor);

/// <summary>Payer storage was used by a request that no payer paid for (it did not come through the gate).</summary>
public sealed class PayerRequiredException() : InvalidOperationException(
    "Payer storage belongs to the payer of the current request, and this request has no payer context " +
    "(only requests paid at the gate carry one). Require a payer on the endpoint (.RequirePayer()) before using the store.");

/// <summary>A value above <see cref="PayerStoreLimits.MaxValueBytes"/> (the content API answers 413).</summary>
public sealed class PayerValueTooLargeException(long size) : ArgumentException(
    $"The value is {size} bytes; at most {PayerStoreLimits.MaxValueBytes} bytes (64 KiB) of UTF-8 are stored per key.")
{
    public long Size { get; } = size;
}
