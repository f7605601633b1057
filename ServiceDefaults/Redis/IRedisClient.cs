namespace Sessions.Redis;

/// <summary>Condition of a SET.</summary>
public enum SetCondition
{
    Always,
    /// <summary>NX: only set when the key does not exist.</summary>
    NotExists,
    /// <summary>XX: only set when the key exists.</summary>
    Exists,
}

/// <summary>A sorted set member with its score.</summary>
public readonly record struct SortedSetEntry(RedisValue Member, double Score);

/// <summary>
/// The Redis commands the system uses, over one multiplexed connection. Thread-safe; meant to be a singleton.
/// Every call has the client's command timeout (<see cref="RedisTimeoutException"/>) and honours its token
/// (<see cref="OperationCanceledException"/>); server errors throw <see cref="RedisServerException"/>; a lost or
/// unavailable connection throws <see cref="RedisConnectionException"/>. Awaiting a returned ValueTask more than once is not allowed.
/// </summary>
public interface IRedisClient : IAsyncDisposable
{
    /// <summary><c>host:port</c> of the server.</summary>
    string Endpoint { get; }

    /// <summary>Whether a connection is established right now (commands issued while false wait for the reconnection).</summary>
    bool IsConnected { get; }

    /// <summary>Sends any command; the reply is returned as is (error replies throw).</summary>
    ValueTask<RedisResult> ExecuteAsync(string command, params ReadOnlySpan<RedisValue> args);

    ValueTask<RedisResult> ExecuteAsync(string command, ReadOnlySpan<RedisValue> args, CancellationToken cancellationToken);

    /// <summary>PING; returns the round-trip time.</summary>
    ValueTask<TimeSpan> PingAsync(CancellationToken cancellationToken = default);

    // Strings and keys
    ValueTask<RedisValue> GetAsync(string key, CancellationToken cancellationToken = default);
    /// <summary>SET with optional PX expiry and NX/XX; false when the NX/XX condition was not met.</summary>
    ValueTask<bool> SetAsync(string key, RedisValue value, TimeSpan? expiry = null, SetCondition condition = SetCondition.Always, CancellationToken cancellationToken = default);
    ValueTask<RedisValue[]> GetManyAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken = default);
    ValueTask<bool> DeleteAsync(string key, CancellationToken cancellationToken = default);
    /// <summary>DEL with several keys; returns how many existed.</summary>
    ValueTask<long> DeleteAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken = default);
    ValueTask<bool> ExistsAsync(string key, CancellationToken cancellationToken = default);
    /// <summary>EXISTS with several keys; returns how many exist (a key named twice counts twice).</summary>
    ValueTask<long> ExistsAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken = default);
    ValueTask<long> IncrementAsync(string key, long by = 1, CancellationToken cancellationToken = default);
    ValueTask<long> DecrementAsync(string key, long by = 1, CancellationToken cancellationToken = default);
    /// <summary>EXPIRE for whole seconds, PEXPIRE otherwise; false when the key does not exist.</summary>
    ValueTask<bool> ExpireAsync(string key, TimeSpan expiry, CancellationToken cancellationToken = default);
    /// <summary>PTTL; null when the key does not exist or has no expiry.</summary>
    ValueTask<TimeSpan?> TimeToLiveAsync(string key, CancellationToken cancellationToken = default);

    // Hashes
    ValueTask<RedisValue> HashGetAsync(string key, string field, CancellationToken cancellationToken = default);
    ValueTask<RedisValue[]> HashGetManyAsync(string key, IReadOnlyList<string> fields, CancellationToken cancellationToken = default);
    ValueTask<Dictionary<string, RedisValue>> HashGetAllAsync(string key, CancellationToken cancellationToken = default);
    /// <summary>HSET of one field; true when the field is new.</summary>
    ValueTask<bool> HashSetAsync(string key, string field, RedisValue value, CancellationToken cancellationToken = default);
    /// <summary>HSET of several fields; returns how many are new.</summary>
    ValueTask<long> HashSetAsync(string key, IReadOnlyList<KeyValuePair<string, RedisValue>> fields, CancellationToken cancellationToken = default);
    ValueTask<long> HashDeleteAsync(string key, IReadOnlyList<string> fields, CancellationToken cancellationToken = default);
    ValueTask<long> HashIncrementAsync(string key, string field, long by = 1, CancellationToken cancellationToken = default);

    // Sorted sets
    /// <summary>ZADD of one member; true when it is new (an existing member's score is updated).</summary>
    ValueTask<bool> SortedSetAddAsync(string key, RedisValue member, double score, CancellationToken cancellationToken = default);
    ValueTask<long> SortedSetAddAsync(string key, IReadOnlyList<SortedSetEntry> entries, CancellationToken cancellationToken = default);
    ValueTask<long> SortedSetRemoveAsync(string key, IReadOnlyList<RedisValue> members, CancellationToken cancellationToken = default);
    /// <summary>ZRANGE by index (inclusive, negative counts from the end).</summary>
    ValueTask<RedisValue[]> SortedSetRangeByRankAsync(string key, long start = 0, long stop = -1, CancellationToken cancellationToken = default);
    ValueTask<SortedSetEntry[]> SortedSetRangeByRankWithScoresAsync(string key, long start = 0, long stop = -1, CancellationToken cancellationToken = default);
    /// <summary>ZRANGE ... BYSCORE with inclusive bounds (infinities allowed) and an optional LIMIT (count -1 = all).</summary>
    ValueTask<RedisValue[]> SortedSetRangeByScoreAsync(string key, double min = double.NegativeInfinity, double max = double.PositiveInfinity, long offset = 0, long count = -1, CancellationToken cancellationToken = default);
    ValueTask<SortedSetEntry[]> SortedSetRangeByScoreWithScoresAsync(string key, double min = double.NegativeInfinity, double max = double.PositiveInfinity, long offset = 0, long count = -1, CancellationToken cancellationToken = default);
    ValueTask<long> SortedSetLengthAsync(string key, CancellationToken cancellationToken = default);
    ValueTask<double?> SortedSetScoreAsync(string key, RedisValue member, CancellationToken cancellationToken = default);

    /// <summary>SCAN over the current database; may yield a key twice if the keyspace is resized meanwhile (Redis' guarantee).</summary>
    IAsyncEnumerable<string> ScanAsync(string? pattern = null, int pageSize = 250, CancellationToken cancellationToken = default);

    // Scripts
    /// <summary>EVALSHA, falling back to EVAL (which caches the script again) when the server answers NOSCRIPT.</summary>
    ValueTask<RedisResult> EvaluateAsync(LuaScript script, IReadOnlyList<string>? keys = null, IReadOnlyList<RedisValue>? args = null, CancellationToken cancellationToken = default);
    /// <summary>SCRIPT LOAD; returns the SHA1 digest.</summary>
    ValueTask<string> ScriptLoadAsync(LuaScript script, CancellationToken cancellationToken = default);

    // Test and maintenance helpers
    ValueTask FlushDatabaseAsync(CancellationToken cancellationToken = default);
    ValueTask ScriptFlushAsync(CancellationToken cancellationToken = default);
}
