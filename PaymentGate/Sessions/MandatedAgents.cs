using StackExchange.Redis;

namespace Sessions.PaymentGate.Sessions;

/// <summary>
/// Which payers are mandated agents, so that an x402 or MPP payment costs a SessionApi call (the mandate charge) only for
/// them: the set <see cref="SessionBalances.MandatedAgentsKey"/> in Redis, trusted only once it is known to be complete. It is
/// complete when the marker <c>&lt;prefix&gt;mandated-agents:loaded</c> exists: the marker is set by the same script that adds
/// SessionApi's list of every agent ever mandated (<c>GET /internal/mandates/agents</c>), and after that every mandate created
/// through the gate adds its agent (<see cref="MandatesGateApi"/>) before its owner gets the answer. A Redis that lost its data
/// lost the marker too, so the next payment loads the list again; the marker lasts <see cref="Refresh"/> (mandates created
/// at SessionApi directly). Whenever it cannot be sure (Redis or SessionApi away, a load
/// that raced a flush), the answer is "maybe": the charge is asked, as for every payment before.
/// </summary>
public sealed partial class MandatedAgents(SessionApiClient api, SessionBalances balances, TimeProvider time, ILogger<MandatedAgents> logger)
{
    /// <summary>
    /// How long a payment waits for a load (milliseconds when SessionApi answers); longer, it asks for the charge meanwhile. The
    /// load goes on (its GET is retried with backoff while SessionApi is away), and the payments after it skip again.
    /// </summary>
    public static readonly TimeSpan LoadWait = TimeSpan.FromSeconds(1);

    // KEYS: set, loaded marker; ARGV: payer. -1: not known to be complete, else SISMEMBER.
    const string IsMandatedScript = """
        if redis.call('EXISTS', KEYS[2]) == 0 then return -1 end
        return redis.call('SISMEMBER', KEYS[1], ARGV[1])
        """;

    // KEYS: set, loaded marker, loading token; ARGV: token, marker lifetime (ms), agents. The list was read after the token was
    // set: a token gone (Redis flushed meanwhile, with the agents added since) or replaced by another load means this list may be stale: 0.
    const string LoadScript = """
        if redis.call('GET', KEYS[3]) ~= ARGV[1] then return 0 end
        for i = 3, #ARGV do redis.call('SADD', KEYS[1], ARGV[i]) end
        redis.call('SET', KEYS[2], '1', 'PX', ARGV[2])
        redis.call('DEL', KEYS[3])
        return 1
        """;

    /// <summary>
    /// The list is read again this often: a mandate created at SessionApi directly (inside the cluster, not through a gate)
    /// binds the agent's payments at the gates within it. One list call per period for all gates.
    /// </summary>
    public static readonly TimeSpan Refresh = TimeSpan.FromMinutes(5);

    public string LoadedKey { get; } = balances.MandatedAgentsKey + ":loaded";
    readonly string LoadingKey = balances.MandatedAgentsKey + ":loading";

    readonly Lock _sync = new();
    Task<bool>? _loading;

    /// <summary>False only when <paramref name="payer"/> is known to have no mandate (nor ever had one): its charge can be skipped.</summary>
    public async Task<bool> MayBeMandatedAsync(string payer)
    {
        try
        {
            if (await IsMandatedAsync(payer) is { } known)
                return known;
            return !await LoadOnceAsync().WaitAsync(LoadWait, time) || await IsMandatedAsync(payer) != false;
        }
        // A TimeoutException too: the load took longer than LoadWait (it goes on).
        catch (Exception exception) when (SessionBalances.IsUnavailable(exception))
        {
            LogUnsure(exception);
            return true;
        }
    }

    async Task<bool?> IsMandatedAsync(string payer) =>
        (long)await balances.Db.ScriptEvaluateAsync(IsMandatedScript, [balances.MandatedAgentsKey, LoadedKey], [payer.ToLowerInvariant()]) switch
        {
            -1 => null,
            var member => member == 1,
        };

    /// <summary>One load at a time in this gate: the payments that find the set incomplete meanwhile wait for it.</summary>
    Task<bool> LoadOnceAsync()
    {
        lock (_sync)
        {
            if (_loading is not { IsCompleted: false })
                _loading = LoadAsync();
            return _loading;
        }
    }

    /// <summary>True when the set is complete now; never throws (its task is shared).</summary>
    async Task<bool> LoadAsync()
    {
        try
        {
            var token = Guid.NewGuid().ToString("N");
            var db = balances.Db;
            await db.StringSetAsync(LoadingKey, token, TimeSpan.FromMinutes(1));
            var answer = await api.MandatedAgentsAsync(CancellationToken.None);
            if (!answer.IsSuccess)
                throw new SessionApiUnavailableException($"SessionApi answered {(int)answer.Status} to the list of mandated agents");
            var agents = answer.Body.GetProperty("agents").EnumerateArray().Select(agent => (RedisValue)agent.GetString()!.ToLowerInvariant());
            var loaded = (long)await db.ScriptEvaluateAsync(LoadScript, [balances.MandatedAgentsKey, LoadedKey, LoadingKey],
                [token, (long)Refresh.TotalMilliseconds, .. agents]) == 1;
            LogLoaded(loaded);
            return loaded;
        }
        catch (Exception exception) when (exception is SessionApiUnavailableException || SessionBalances.IsUnavailable(exception))
        {
            LogUnsure(exception);
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Mandated agents loaded from SessionApi: {Loaded} (false: Redis changed meanwhile, loaded again later)")]
    partial void LogLoaded(bool loaded);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Mandated agents unknown right now: payments ask SessionApi for the mandate charge")]
    partial void LogUnsure(Exception exception);
}
