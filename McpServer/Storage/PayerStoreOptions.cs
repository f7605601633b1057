namespace Sessions.McpServer.Storage;

/// <summary>Configuration section <c>PayerStore</c>: which <see cref="IPayerStore"/> serves the payers' sessions.</summary>
public sealed class PayerStoreOptions
{
    public const string SectionName = "PayerStore";
    public const string RedisProvider = "redis";
    public const string MemoryProvider = "memory";

    /// <summary><c>redis</c> (default; shared by every instance, survives restarts) or <c>memory</c> (one process only).</summary>
    public string Provider { get; set; } = RedisProvider;

    public InMemoryPayerStoreOptions Memory { get; set; } = new();

    public RedisPayerStoreOptions Redis { get; set; } = new();
}

/// <summary><c>PayerStore:Memory</c>: aixyz's InMemoryPayerStore options (PROTOCOLS.md §3).</summary>
public sealed class InMemoryPayerStoreOptions
{
    /// <summary>Hard cap on entries across all payers (global LRU); at least 1.</summary>
    public int MaxEntries { get; set; } = 10_000;

    /// <summary>TTL of entries set without one (sliding on get); <see cref="TimeSpan.Zero"/> = never expires.</summary>
    public TimeSpan DefaultTtl { get; set; } = TimeSpan.FromHours(1);

    /// <returns>Null when valid, else what is wrong, naming the configuration key.</returns>
    public string? Validate() =>
        MaxEntries < 1 ? $"{PayerStoreOptions.SectionName}:Memory:MaxEntries must be at least 1 (it is {MaxEntries})."
        : DefaultTtl < TimeSpan.Zero ? $"{PayerStoreOptions.SectionName}:Memory:DefaultTtl must be zero (never expires) or positive (it is {DefaultTtl})."
        : null;
}

/// <summary><c>PayerStore:Redis</c>.</summary>
public sealed class RedisPayerStoreOptions
{
    /// <summary>
    /// TTL of entries set without one (sliding on get). Default <see cref="TimeSpan.Zero"/> = never expires: Redis is the
    /// durable store, and the REST content API promises that a PUT without <c>ttl</c> keeps the value.
    /// </summary>
    public TimeSpan DefaultTtl { get; set; } = TimeSpan.Zero;

    public string? Validate() =>
        DefaultTtl < TimeSpan.Zero ? $"{PayerStoreOptions.SectionName}:Redis:DefaultTtl must be zero (never expires) or positive (it is {DefaultTtl})." : null;
}
