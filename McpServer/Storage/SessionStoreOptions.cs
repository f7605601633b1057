namespace Sessions.McpServer.Storage;

/// <summary>Configuration section <c>SessionStore</c>: which <see cref="ISessionStore"/> serves the payers' sessions.</summary>
public sealed class SessionStoreOptions
{
    public const string SectionName = "SessionStore";
    public const string RedisProvider = "redis";
    public const string MemoryProvider = "memory";

    /// <summary><c>redis</c> (default; shared by every instance, survives restarts) or <c>memory</c> (one process only).</summary>
    public string Provider { get; set; } = RedisProvider;

    public InMemorySessionStoreOptions Memory { get; set; } = new();

    public RedisSessionStoreOptions Redis { get; set; } = new();
}

/// <summary><c>SessionStore:Memory</c>: aixyz's InMemorySessionStore options (PROTOCOLS.md §3).</summary>
public sealed class InMemorySessionStoreOptions
{
    /// <summary>Hard cap on entries across all payers (global LRU); at least 1.</summary>
    public int MaxEntries { get; set; } = 10_000;

    /// <summary>TTL of entries set without one (sliding on get); <see cref="TimeSpan.Zero"/> = never expires.</summary>
    public TimeSpan DefaultTtl { get; set; } = TimeSpan.FromHours(1);

    /// <returns>Null when valid, else what is wrong, naming the configuration key.</returns>
    public string? Validate() =>
        MaxEntries < 1 ? $"{SessionStoreOptions.SectionName}:Memory:MaxEntries must be at least 1 (it is {MaxEntries})."
        : DefaultTtl < TimeSpan.Zero ? $"{SessionStoreOptions.SectionName}:Memory:DefaultTtl must be zero (never expires) or positive (it is {DefaultTtl})."
        : null;
}

/// <summary><c>SessionStore:Redis</c>.</summary>
public sealed class RedisSessionStoreOptions
{
    /// <summary>
    /// TTL of entries set without one (sliding on get). Default <see cref="TimeSpan.Zero"/> = never expires: Redis is the
    /// durable store, and the REST content API promises that a PUT without <c>ttl</c> keeps the value.
    /// </summary>
    public TimeSpan DefaultTtl { get; set; } = TimeSpan.Zero;

    public string? Validate() =>
        DefaultTtl < TimeSpan.Zero ? $"{SessionStoreOptions.SectionName}:Redis:DefaultTtl must be zero (never expires) or positive (it is {DefaultTtl})." : null;
}
