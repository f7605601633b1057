using System.Globalization;
using System.Numerics;
using StackExchange.Redis;

namespace Sessions.PaymentGate.Sessions;

/// <summary>The session as the gate debits it: what SessionApi knows of it when the gate loads it into Redis.</summary>
/// <param name="Credited">Deposit plus top-ups (atomic units).</param>
/// <param name="Spent">Debits already in SessionApi's ledger.</param>
public sealed record SessionBalance(string Id, string Payer, string Organization, string Kind, DateTimeOffset ExpiresAt,
    BigInteger Credited, BigInteger Spent);

public enum HoldStatus { Held, Unknown, Closed, Expired, Insufficient, Duplicate }

/// <summary>A hold's outcome; <see cref="Balance"/> is what is left after it (or, when insufficient, what there is).</summary>
public readonly record struct HoldResult(HoldStatus Status, string? SessionId, BigInteger Balance);

public enum SettleStatus { Done, Unknown }

/// <summary>A confirm's or release's outcome; <see cref="SettleStatus.Unknown"/>: no such hold (swept, or settled already).</summary>
public readonly record struct SettleResult(SettleStatus Status, string? SessionId, BigInteger Balance);

/// <summary>
/// Session balances in Redis, the gate's side of docs/design/session-debits.md: a request <b>holds</b> its price before it is
/// forwarded, and <b>confirms</b> it (the debit, with its entry on the <c>gate:session-debits</c> stream, in one script) once
/// the answer is ready, or <b>releases</b> it when it is not served. Holds of a gate that died are released by
/// <see cref="SweepAsync"/>. Every change is one Lua script on Redis, so concurrent requests on any number of gates can never
/// overspend; with <c>appendfsync always</c> a reply leaves Redis only after its change is on disk.
/// <para>Layout: <c>gate:session:&lt;token hash&gt;</c> hash (id, payer, organization, kind, expiresAt unix ms, credited,
/// spent, held, state); <c>gate:session-holds</c> hash (&lt;token hash&gt;|&lt;request id&gt; → price) and
/// <c>gate:session-hold-times</c> sorted set (same member, score = when held, unix ms, Redis's clock). Single Redis instance:
/// the scripts derive session keys from hold members, which a cluster would not allow.</para>
/// </summary>
public sealed class SessionBalances(IConnectionMultiplexer redis)
{
    public const string StreamKey = "gate:session-debits";
    const string RecordPrefix = "gate:session:";
    const string HoldsKey = "gate:session-holds";
    const string HoldTimesKey = "gate:session-hold-times";

    /// <summary>Lua numbers are doubles: amounts stay exact up to 2^53 - 1 atomic units (9,007,199,254 USDC).</summary>
    public static readonly BigInteger MaxAmount = (BigInteger.One << 53) - 1;

    // Now in unix ms from Redis's own clock: one clock for every gate.
    // Amounts go back to Redis as the strings they came as (a Lua number would be formatted, "-0" is no integer to HINCRBY).
    const string Now = "local t = redis.call('TIME') local now = string.format('%.0f', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)) "
        + "local function negative(amount) if amount == '0' then return '0' end return '-' .. amount end";
    const string Balance = "local function balance(key) local v = redis.call('HMGET', key, 'credited', 'spent', 'held') "
        + "return string.format('%.0f', tonumber(v[1]) - tonumber(v[2]) - tonumber(v[3])) end";

    // KEYS: record; ARGV: id, payer, organization, kind, expiresAt, credited, spent. 1 installed, 0 there already.
    const string InstallScript = """
        if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
        redis.call('HSET', KEYS[1], 'id', ARGV[1], 'payer', ARGV[2], 'organization', ARGV[3], 'kind', ARGV[4],
          'expiresAt', ARGV[5], 'credited', ARGV[6], 'spent', ARGV[7], 'held', 0, 'state', 'active')
        return 1
        """;

    // KEYS: record, holds, hold-times; ARGV: member, price. {status, id, balance}.
    const string HoldScript = Now + "\n" + Balance + """

        local r = redis.call('HMGET', KEYS[1], 'id', 'state', 'expiresAt', 'credited', 'spent', 'held')
        if not r[1] then return {'unknown'} end
        if r[2] ~= 'active' then return {'closed', r[1], balance(KEYS[1])} end
        if tonumber(now) >= tonumber(r[3]) then return {'expired', r[1], balance(KEYS[1])} end
        if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then return {'duplicate', r[1], balance(KEYS[1])} end
        local left = tonumber(r[4]) - tonumber(r[5]) - tonumber(r[6])
        if left < tonumber(ARGV[2]) then return {'insufficient', r[1], string.format('%.0f', left)} end
        redis.call('HINCRBY', KEYS[1], 'held', ARGV[2])
        redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
        redis.call('ZADD', KEYS[3], now, ARGV[1])
        return {'held', r[1], balance(KEYS[1])}
        """;

    // KEYS: record, holds, hold-times, stream; ARGV: member, request id, route. The debit and its stream entry together.
    const string ConfirmScript = Now + "\n" + Balance + """

        local price = redis.call('HGET', KEYS[2], ARGV[1])
        if not price then return {'unknown'} end
        redis.call('HDEL', KEYS[2], ARGV[1])
        redis.call('ZREM', KEYS[3], ARGV[1])
        redis.call('HINCRBY', KEYS[1], 'held', negative(price))
        redis.call('HINCRBY', KEYS[1], 'spent', price)
        local id = redis.call('HGET', KEYS[1], 'id')
        redis.call('XADD', KEYS[4], '*', 'session', id, 'key', ARGV[2], 'amount', price, 'route', ARGV[3], 'at', now)
        return {'done', id, balance(KEYS[1])}
        """;

    // KEYS: record, holds, hold-times; ARGV: member.
    const string ReleaseScript = Now + "\n" + Balance + """

        local price = redis.call('HGET', KEYS[2], ARGV[1])
        if not price then return {'unknown'} end
        redis.call('HDEL', KEYS[2], ARGV[1])
        redis.call('ZREM', KEYS[3], ARGV[1])
        redis.call('HINCRBY', KEYS[1], 'held', negative(price))
        return {'done', redis.call('HGET', KEYS[1], 'id'), balance(KEYS[1])}
        """;

    // KEYS: holds, hold-times; ARGV: older than (ms), at most, record prefix. Releases holds nobody settled; returns how many.
    const string SweepScript = Now + """

        local members = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', string.format('%.0f', tonumber(now) - tonumber(ARGV[1])), 'LIMIT', 0, ARGV[2])
        for _, member in ipairs(members) do
          local price = redis.call('HGET', KEYS[1], member)
          redis.call('HDEL', KEYS[1], member)
          redis.call('ZREM', KEYS[2], member)
          if price then redis.call('HINCRBY', ARGV[3] .. string.match(member, '^([^|]+)|'), 'held', negative(price)) end
        end
        return #members
        """;

    // KEYS: record; ARGV: credited. Only ever raises it (top-ups), so repeats and races are harmless. 1 raised, 0 not.
    const string CreditScript = """
        local credited = redis.call('HGET', KEYS[1], 'credited')
        if not credited or tonumber(ARGV[1]) <= tonumber(credited) then return 0 end
        redis.call('HSET', KEYS[1], 'credited', ARGV[1])
        return 1
        """;

    // KEYS: record. No new holds from now on; {held, spent} (unknown: empty).
    const string CloseScript = """
        if redis.call('EXISTS', KEYS[1]) == 0 then return {} end
        redis.call('HSET', KEYS[1], 'state', 'closed')
        local v = redis.call('HMGET', KEYS[1], 'held', 'spent')
        return {v[1], v[2]}
        """;

    IDatabase Db => redis.GetDatabase();

    /// <summary>Loads a session SessionApi answered for; false when the gate has it already (Redis's copy is newer).</summary>
    public async Task<bool> InstallAsync(string tokenHash, SessionBalance session)
    {
        CheckAmount(session.Credited);
        CheckAmount(session.Spent);
        return (long)await Db.ScriptEvaluateAsync(InstallScript, [Record(tokenHash)],
            [session.Id, session.Payer, session.Organization, session.Kind, session.ExpiresAt.ToUnixTimeMilliseconds(),
             Text(session.Credited), Text(session.Spent)]) == 1;
    }

    public async Task<HoldResult> HoldAsync(string tokenHash, string requestId, BigInteger price)
    {
        CheckAmount(price);
        var reply = (RedisResult[])(await Db.ScriptEvaluateAsync(HoldScript, [Record(tokenHash), HoldsKey, HoldTimesKey],
            [Member(tokenHash, requestId), Text(price)]))!;
        var status = (string)reply[0]! switch
        {
            "held" => HoldStatus.Held,
            "closed" => HoldStatus.Closed,
            "expired" => HoldStatus.Expired,
            "duplicate" => HoldStatus.Duplicate,
            "insufficient" => HoldStatus.Insufficient,
            _ => HoldStatus.Unknown,
        };
        return status == HoldStatus.Unknown ? new(status, null, BigInteger.Zero) : new(status, (string)reply[1]!, Amount(reply[2]));
    }

    /// <summary>The hold becomes a debit (and its stream entry for SessionApi's ledger).</summary>
    public async Task<SettleResult> ConfirmAsync(string tokenHash, string requestId, string route) =>
        Settled((RedisResult[])(await Db.ScriptEvaluateAsync(ConfirmScript, [Record(tokenHash), HoldsKey, HoldTimesKey, StreamKey],
            [Member(tokenHash, requestId), requestId, route]))!);

    /// <summary>The hold is given back: the request was not served.</summary>
    public async Task<SettleResult> ReleaseAsync(string tokenHash, string requestId) =>
        Settled((RedisResult[])(await Db.ScriptEvaluateAsync(ReleaseScript, [Record(tokenHash), HoldsKey, HoldTimesKey],
            [Member(tokenHash, requestId)]))!);

    /// <summary>Releases holds older than <paramref name="olderThan"/> (their gate died or hung); returns how many.</summary>
    public async Task<int> SweepAsync(TimeSpan olderThan, int max = 500) =>
        (int)(long)await Db.ScriptEvaluateAsync(SweepScript, [HoldsKey, HoldTimesKey],
            [(long)olderThan.TotalMilliseconds, max, RecordPrefix]);

    /// <summary>Raises what the session was credited (deposit + top-ups, as SessionApi answered); never lowers it.</summary>
    public async Task<bool> RaiseCreditedAsync(string tokenHash, BigInteger credited)
    {
        CheckAmount(credited);
        return (long)await Db.ScriptEvaluateAsync(CreditScript, [Record(tokenHash)], [Text(credited)]) == 1;
    }

    /// <summary>Stops new holds; what is still held and what was spent, or null when the gate does not have the session.</summary>
    public async Task<(BigInteger Held, BigInteger Spent)?> CloseAsync(string tokenHash)
    {
        var reply = (RedisResult[])(await Db.ScriptEvaluateAsync(CloseScript, [Record(tokenHash)]))!;
        return reply.Length == 0 ? null : (Amount(reply[0]), Amount(reply[1]));
    }

    static SettleResult Settled(RedisResult[] reply) =>
        (string)reply[0]! == "done" ? new(SettleStatus.Done, (string)reply[1]!, Amount(reply[2])) : new(SettleStatus.Unknown, null, BigInteger.Zero);

    static RedisKey Record(string tokenHash) => RecordPrefix + tokenHash;

    static string Member(string tokenHash, string requestId)
    {
        if (tokenHash.Contains('|') || requestId.Contains('|'))
            throw new ArgumentException("Token hashes and request ids never contain '|'.");
        return tokenHash + "|" + requestId;
    }

    static void CheckAmount(BigInteger amount)
    {
        if (amount < 0 || amount > MaxAmount)
            throw new ArgumentOutOfRangeException(nameof(amount), amount, $"Session amounts are 0..{MaxAmount} atomic units.");
    }

    static string Text(BigInteger amount) => amount.ToString(CultureInfo.InvariantCulture);

    static BigInteger Amount(RedisResult value) => BigInteger.Parse((string)value!, CultureInfo.InvariantCulture);
}
