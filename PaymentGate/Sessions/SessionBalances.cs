using Microsoft.Extensions.Options;
using Sessions.PaymentGate.Pricing;
using System.Globalization;
using System.Numerics;
using StackExchange.Redis;
using Sessions.ServiceDefaults.Errors;

namespace Sessions.PaymentGate.Sessions;

/// <summary>The session as the gate debits it: what SessionApi knows of it when the gate loads it into Redis.</summary>
/// <param name="Credited">Deposit plus top-ups (atomic units).</param>
/// <param name="Spent">Debits already in SessionApi's ledger.</param>
public sealed record SessionBalance(string Id, string Payer, string Organization, string Kind, DateTimeOffset ExpiresAt,
    BigInteger Credited, BigInteger Spent);

public enum HoldStatus { Held, Unknown, Closed, Expired, Insufficient, Duplicate }

/// <summary>A hold's outcome; <see cref="Balance"/> is what is left after it (or, when insufficient, what there is).</summary>
/// <param name="Mandated">The payer is an agent bound by a mandate (<see cref="SessionBalances.MandatedAgentsKey"/>): its debits
/// are also charged against the mandate in SessionApi.</param>
/// <param name="Price">What was held when the session's terms (its offer) price the route; null: the list price.</param>
/// <param name="LatencyBoundMs">The session's SLA latency bound (null: no SLA, no offer); <paramref name="LatencyCreditPercent"/> of
/// the price is credited for an answer over it.</param>
/// <param name="VaultId">The session's vault as the gate keeps it (<see cref="SessionBalances.VaultKey"/>); null: not there, look it up.</param>
public readonly record struct HoldResult(HoldStatus Status, string? SessionId, BigInteger Balance, string? Payer = null, bool Mandated = false,
    BigInteger? Price = null, long? LatencyBoundMs = null, int LatencyCreditPercent = 0, string? VaultId = null);

public enum SettleStatus { Done, Unknown }

/// <summary>A debit on the stream, on its way to SessionApi's ledger (<see cref="SessionBalances.ReadForFoldAsync"/>).</summary>
/// <param name="SlaCredit">What the session's SLA took off this request's price (the debit is the price less it).</param>
/// <param name="Void">Not a debit but the void of the debit of <paramref name="Key"/> (<see cref="SessionBalances.VoidAsync"/>; amount 0).</param>
public sealed record ConfirmedDebit(string EntryId, string SessionId, string Payer, string Organization, string Key, BigInteger Amount,
    string? Route, long At, BigInteger SlaCredit = default, bool Void = false);

/// <summary>What SessionApi did with the voids of a fold (<see cref="SessionBalances.AckFoldedAsync"/>).</summary>
/// <param name="Credited">Per void's key, what was credited back (0: there was no debit).</param>
/// <param name="Voided">Debits not applied: their void came first.</param>
public sealed record FoldedVoids(IReadOnlyDictionary<string, BigInteger> Credited, IReadOnlySet<string> Voided)
{
    public static readonly FoldedVoids None = new(new Dictionary<string, BigInteger>(), new HashSet<string>());
}

/// <summary>A void's outcome: the hold was still there and is released (nothing was charged), or the void is on the stream.</summary>
public enum VoidOutcome { Released, Queued }

/// <summary>In flight, debited (folded or not) and already in SessionApi's ledger, atomic units; entries put on the stream
/// (debits and voids) and acknowledged, counted (a pass's requests debit nothing but are counted).</summary>
public sealed record SessionTotals(BigInteger Held, BigInteger Spent, BigInteger Folded, long Debits = 0, long FoldedDebits = 0)
{
    /// <summary>Every confirmed debit is in SessionApi's ledger.</summary>
    public bool AllFolded => FoldedDebits >= Debits;
}

/// <summary>A confirm's or release's outcome; <see cref="SettleStatus.Unknown"/>: no such hold (swept, or settled already).
/// <paramref name="Amount"/>: what the hold was (a pass's requests hold 0), when the script said.</summary>
/// <paramref name="Credit"/>: the SLA credit taken off the price (null: none).
public readonly record struct SettleResult(SettleStatus Status, string? SessionId, BigInteger Balance, BigInteger? Amount = null,
    BigInteger? Credit = null);

/// <summary>
/// Session balances in Redis, the gate's side of docs/design/session-debits.md: a request <b>holds</b> its price before it is
/// forwarded, and <b>confirms</b> it (the debit, with its entry on the <c>gate:session-debits</c> stream, in one script) once
/// the answer is ready, or <b>releases</b> it when it is not served. Holds of a gate that died are released by
/// <see cref="SweepAsync"/>. Every change is one Lua script on Redis, so concurrent requests on any number of gates can never
/// overspend; with <c>appendfsync always</c> a reply leaves Redis only after its change is on disk. Times (expiry, when a hold
/// was taken) are the gate's clock, passed in.
/// <para>Layout: <c>gate:session:&lt;id&gt;</c> hash (id, payer, organization, kind, expiresAt unix ms, credited, spent,
/// held, folded, state); <c>gate:session-token:&lt;token hash&gt;</c> → id; <c>gate:session-credited:&lt;id&gt;</c> the highest
/// deposit + top-ups a top-up reported (for a load that read SessionApi before it); <c>gate:session-vault:&lt;id&gt;</c> the
/// session's vault id; <c>gate:session-holds</c> hash
/// (&lt;id&gt;|&lt;request id&gt; → price) and <c>gate:session-hold-times</c> sorted set (same member, score = when held, unix
/// ms, Redis's clock); <c>gate:session-void:&lt;id&gt;|&lt;request id&gt;</c> a void's outcome (<see cref="VoidAsync"/>).
/// Single Redis instance: the scripts derive session keys from the token index and hold members, which
/// a cluster would not allow.</para>
/// </summary>
public sealed partial class SessionBalances(IServiceProvider services, IOptions<GateOptions> options)
{
    // Optional: a gate without Redis serves free routes, and session requests fail closed (503) like paid ones.
    readonly Lazy<IConnectionMultiplexer?> _redis = new(services.GetService<IConnectionMultiplexer>);

    // Gate:Sessions:RedisKeyPrefix, "gate:" by default.
    static string Prefix(IOptions<GateOptions> options) => options.Value.Sessions.RedisKeyPrefix;
    public string StreamKey { get; } = Prefix(options) + "session-debits";
    readonly string RecordPrefix = Prefix(options) + "session:";
    readonly string TokenPrefix = Prefix(options) + "session-token:";
    readonly string FloorPrefix = Prefix(options) + "session-credited:";
    // The session's terms and SLA figures (SessionTerms.cs): absent for a session opened without an offer.
    readonly string TermsPrefix = Prefix(options) + "session-terms:";
    readonly string LatencyPrefix = Prefix(options) + "session-latency:";
    readonly string OutcomesPrefix = Prefix(options) + "session-outcomes:";
    readonly string VaultPrefix = Prefix(options) + "session-vault:";
    // Voids applied (<session id>|<request id> → released or queued): a repeated void is not queued twice.
    readonly string VoidPrefix = Prefix(options) + "session-void:";

    /// <summary>Where the gate keeps the session's vault id (<see cref="VaultApiClient"/>); the hold reads it for the payer context.</summary>
    public RedisKey VaultKey(string sessionId) => VaultPrefix + sessionId;

    /// <summary>
    /// Agents bound by a mandate (an agent once mandated stays bound): the only payers whose payments and session debits
    /// cost a SessionApi call. Filled from SessionApi's list (<see cref="MandatedAgents"/>), its resolve answers and the
    /// mandates created through the gate.
    /// </summary>
    public string MandatedAgentsKey { get; } = Prefix(options) + "mandated-agents";
    readonly string HoldsKey = Prefix(options) + "session-holds";
    readonly string HoldTimesKey = Prefix(options) + "session-hold-times";

    /// <summary>Redis could not answer (down, restarting, a command timed out): the caller fails closed with a 503.</summary>
    public static bool IsUnavailable(Exception exception) =>
        exception is RedisException or TimeoutException || DependencyUnavailableProblems.IsStoreOutage(exception);

    /// <summary>Lua numbers are doubles: amounts stay exact up to 2^53 - 1 atomic units (9,007,199,254 USDC).</summary>
    public static readonly BigInteger MaxAmount = (BigInteger.One << 53) - 1;

    // Amounts go back to Redis as the strings they came as (a Lua number would be formatted, "-0" is no integer to HINCRBY).
    const string Negative = "local function negative(amount) if amount == '0' then return '0' end return '-' .. amount end";
    const string Balance = "local function balance(key) local v = redis.call('HMGET', key, 'credited', 'spent', 'held') "
        + "return string.format('%.0f', tonumber(v[1]) - tonumber(v[2]) - tonumber(v[3])) end";

    // KEYS: record, token index, credited floor; ARGV: id, payer, organization, kind, expiresAt, credited, spent.
    // 1 installed, 0 there already. A top-up that raced the load (SessionApi read before it, installed after it) left its
    // total in the floor key: the larger one counts.
    const string InstallScript = """
        if redis.call('EXISTS', KEYS[1]) == 1 then
          redis.call('SET', KEYS[2], ARGV[1], 'PXAT', string.format('%.0f', redis.call('PEXPIRETIME', KEYS[1])))
          return 0
        end
        redis.call('SET', KEYS[2], ARGV[1])
        local credited = ARGV[6]
        local floor = redis.call('GET', KEYS[3])
        if floor and tonumber(floor) > tonumber(credited) then credited = floor end
        redis.call('HSET', KEYS[1], 'id', ARGV[1], 'payer', ARGV[2], 'organization', ARGV[3], 'kind', ARGV[4],
          'expiresAt', ARGV[5], 'credited', credited, 'spent', ARGV[7], 'held', 0, 'folded', ARGV[7], 'debits', 0, 'foldedDebits', 0, 'state', 'active')
        -- Gone a day after the session expires (its debits are folded long before; a later request finds it EXPIRED in SessionApi).
        local gone = string.format('%.0f', tonumber(ARGV[5]) + 86400000)
        redis.call('PEXPIREAT', KEYS[1], gone)
        redis.call('PEXPIREAT', KEYS[2], gone)
        return 1
        """;

    // KEYS: token index, holds, hold-times, mandated agents; ARGV: request id, list price, record prefix, organization, now (unix ms),
    // route name, terms prefix, vault prefix. {status, id, balance, payer, mandated (1/0), price, latency bound, latency credit %,
    // vault id}; a token of another organisation is unknown here. The session's terms (its offer) price the route and its vault id
    // (for the payer context) comes back in the same script: no extra round trip.
    const string HoldScript = Balance + """

        local now = ARGV[5]
        local id = redis.call('GET', KEYS[1])
        if not id then return {'unknown'} end
        local record = ARGV[3] .. id
        local r = redis.call('HMGET', record, 'id', 'state', 'expiresAt', 'credited', 'spent', 'held', 'kind', 'payer', 'organization')
        if not r[1] or r[9] ~= ARGV[4] then return {'unknown'} end
        local mandated = redis.call('SISMEMBER', KEYS[4], r[8])
        local t = redis.call('HMGET', ARGV[7] .. id, 'price:' .. ARGV[6], 'latencyMs', 'latencyCreditPercent')
        local price = ARGV[2]
        if t[1] then price = t[1] end
        local vault = redis.call('GET', ARGV[8] .. id)
        local function answer(status, amount) return {status, id, amount, r[8], mandated, t[1] or '', t[2] or '', t[3] or '', vault or ''} end
        local member = id .. '|' .. ARGV[1]
        -- A pass was paid for outright: its requests hold (and debit) nothing, they are only counted.
        if r[7] == 'pass' then price = '0' end
        if r[2] ~= 'active' then return answer('closed', balance(record)) end
        if tonumber(now) >= tonumber(r[3]) then return answer('expired', balance(record)) end
        if redis.call('HEXISTS', KEYS[2], member) == 1 then return answer('duplicate', balance(record)) end
        local left = tonumber(r[4]) - tonumber(r[5]) - tonumber(r[6])
        if left < tonumber(price) then return answer('insufficient', string.format('%.0f', left)) end
        redis.call('HINCRBY', record, 'held', price)
        redis.call('HSET', KEYS[2], member, price)
        redis.call('ZADD', KEYS[3], now, member)
        return answer('held', balance(record))
        """;

    // KEYS: record, holds, hold-times, stream, terms, latencies, outcomes; ARGV: member, request id, route, now (unix ms), latency
    // credit, upstream latency (ms), over the bound (1/0). The debit (price − credit), its stream entry and the SLA figures
    // together: the hold is gone after it, so a credit is granted once per request whatever retries or races happen. While the
    // availability over the last outcomes (1 served, 0 failed) is under the terms' bound, the availability credit applies when larger.
    const string ConfirmScript = Negative + "\n" + Balance + "\n" + SlaFunctions + """

        local held = redis.call('HGET', KEYS[2], ARGV[1])
        if not held then return {'unknown'} end
        local credit = ARGV[5]
        local available = availability_credit(KEYS[5], KEYS[7], held)
        if available and tonumber(available) > tonumber(credit) then credit = available end
        if tonumber(credit) > tonumber(held) then credit = held end
        local price = string.format('%.0f', tonumber(held) - tonumber(credit))
        redis.call('HDEL', KEYS[2], ARGV[1])
        redis.call('ZREM', KEYS[3], ARGV[1])
        redis.call('HINCRBY', KEYS[1], 'held', negative(held))
        redis.call('HINCRBY', KEYS[1], 'spent', price)
        redis.call('HINCRBY', KEYS[1], 'debits', 1)
        local r = redis.call('HMGET', KEYS[1], 'id', 'payer', 'organization')
        redis.call('XADD', KEYS[4], '*', 'session', r[1], 'payer', r[2], 'organization', r[3], 'key', ARGV[2], 'amount', price,
          'route', ARGV[3], 'at', ARGV[4], 'slaCredit', credit)
        count_served(KEYS[5], KEYS[6], ARGV[7], credit, ARGV[6])
        return {'done', r[1], balance(KEYS[1]), price, credit}
        """;

    // KEYS: record, holds, hold-times, terms, outcomes; ARGV: member, upstream failed (1/0: counted in the session's SLA figures).
    const string ReleaseScript = Negative + "\n" + Balance + "\n" + SlaFunctions + """

        local price = redis.call('HGET', KEYS[2], ARGV[1])
        if not price then return {'unknown'} end
        redis.call('HDEL', KEYS[2], ARGV[1])
        redis.call('ZREM', KEYS[3], ARGV[1])
        redis.call('HINCRBY', KEYS[1], 'held', negative(price))
        if ARGV[2] == '1' then count_failed(KEYS[4], KEYS[5], price) end
        return {'done', redis.call('HGET', KEYS[1], 'id'), balance(KEYS[1])}
        """;

    // KEYS: record, holds, hold-times, stream, void marker; ARGV: member, request id, now (unix ms), session id, payer,
    // organization. A hold still there is released (the confirm never ran); otherwise the void goes on the stream after the
    // debit, if there is one, so SessionApi credits it back (or, finding none, never applies one). The marker (kept 8 days,
    // longer than any session) makes a repeat answer the first outcome: a second void entry would be acknowledged as a
    // second credit. A session record gone (a day after expiry) still gets its void.
    const string VoidScript = Negative + """

        local before = redis.call('GET', KEYS[5])
        if before then return before end
        local outcome = 'queued'
        local price = redis.call('HGET', KEYS[2], ARGV[1])
        if price then
          redis.call('HDEL', KEYS[2], ARGV[1])
          redis.call('ZREM', KEYS[3], ARGV[1])
          redis.call('HINCRBY', KEYS[1], 'held', negative(price))
          outcome = 'released'
        else
          if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HINCRBY', KEYS[1], 'debits', 1) end
          redis.call('XADD', KEYS[4], '*', 'session', ARGV[4], 'payer', ARGV[5], 'organization', ARGV[6], 'key', ARGV[2], 'amount', '0',
            'at', ARGV[3], 'void', '1')
        end
        redis.call('SET', KEYS[5], outcome, 'PX', 691200000)
        return outcome
        """;

    // KEYS: holds, hold-times; ARGV: cut-off (unix ms), at most, record prefix. Releases holds taken before it; returns how many.
    const string SweepScript = Negative + """

        local members = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
        for _, member in ipairs(members) do
          local price = redis.call('HGET', KEYS[1], member)
          redis.call('HDEL', KEYS[1], member)
          redis.call('ZREM', KEYS[2], member)
          if price then redis.call('HINCRBY', ARGV[3] .. string.match(member, '^([^|]+)|'), 'held', negative(price)) end
        end
        return #members
        """;

    // KEYS: record, credited floor; ARGV: credited. Only ever raises it (top-ups), so repeats and races are harmless; the
    // floor (kept 8 days, longer than any session) covers a record installed from an older read. 1 raised, 0 not.
    const string CreditScript = """
        local floor = redis.call('GET', KEYS[2])
        if not floor or tonumber(ARGV[1]) > tonumber(floor) then redis.call('SET', KEYS[2], ARGV[1], 'PX', 691200000) end
        local credited = redis.call('HGET', KEYS[1], 'credited')
        if not credited or tonumber(ARGV[1]) <= tonumber(credited) then return 0 end
        redis.call('HSET', KEYS[1], 'credited', ARGV[1])
        return 1
        """;

    // KEYS: record. No new holds from now on; {held, spent, folded, debits, foldedDebits} (unknown: empty).
    const string CloseScript = """
        if redis.call('EXISTS', KEYS[1]) == 0 then return {} end
        redis.call('HSET', KEYS[1], 'state', 'closed')
        return redis.call('HMGET', KEYS[1], 'held', 'spent', 'folded', 'debits', 'foldedDebits')
        """;

    // KEYS: record. {held, spent, folded, debits, foldedDebits} (unknown: empty).
    const string ReadScript = """
        if redis.call('EXISTS', KEYS[1]) == 0 then return {} end
        return redis.call('HMGET', KEYS[1], 'held', 'spent', 'folded', 'debits', 'foldedDebits')
        """;

    // KEYS: stream; ARGV: group, record prefix, then (entry id, session id, folded change, spent change) quadruples. Acks and
    // deletes entries SessionApi has written; a session's totals change once per entry (XACK answers 1 only to the call that
    // acked it): a debit raises folded, a void that credited one back lowers folded and spent, a debit its void beat lowers spent.
    const string AckScript = """
        local acked = 0
        for i = 3, #ARGV, 4 do
          if redis.call('XACK', KEYS[1], ARGV[1], ARGV[i]) == 1 and redis.call('EXISTS', ARGV[2] .. ARGV[i + 1]) == 1 then
            redis.call('HINCRBY', ARGV[2] .. ARGV[i + 1], 'folded', ARGV[i + 2])
            if ARGV[i + 3] ~= '0' then redis.call('HINCRBY', ARGV[2] .. ARGV[i + 1], 'spent', ARGV[i + 3]) end
            redis.call('HINCRBY', ARGV[2] .. ARGV[i + 1], 'foldedDebits', 1)
            acked = acked + 1
          end
          redis.call('XDEL', KEYS[1], ARGV[i])
        end
        return acked
        """;

    // Created once per process (another gate may have made it first). A Redis that lost its data is durable state lost:
    // its sessions cannot be trusted anyway (docs/design/session-debits.md).
    bool _groupCreated;

    /// <summary>The consumer group of every gate's <see cref="SessionDebitFolder"/>.</summary>
    public const string FoldGroup = "session-debit-folders";

    /// <summary>The gate's Redis (for <see cref="MandatedAgents"/>, which keeps its set here).</summary>
    internal IDatabase Db => (_redis.Value ?? throw new RedisConnectionException(ConnectionFailureType.UnableToConnect,
        "Redis is not configured (ConnectionStrings:redis): sessions cannot be spent.")).GetDatabase();

    /// <summary>Loads a session SessionApi answered for; false when the gate has it already (Redis's copy is newer).</summary>
    public async Task<bool> InstallAsync(string tokenHash, SessionBalance session)
    {
        CheckAmount(session.Credited);
        CheckAmount(session.Spent);
        return (long)await Db.ScriptEvaluateAsync(InstallScript, [Record(session.Id), TokenPrefix + tokenHash, Floor(session.Id)],
            [session.Id, session.Payer, session.Organization, session.Kind, session.ExpiresAt.ToUnixTimeMilliseconds(),
             Text(session.Credited), Text(session.Spent)]) == 1;
    }

    /// <summary>Holds <paramref name="price"/> on the session of this token; <see cref="HoldStatus.Unknown"/>: not loaded yet.</summary>
    /// <param name="now">The gate's clock (every gate's clock is kept right, as SessionApi's is: expiry is decided by it).</param>
    public async Task<HoldResult> HoldAsync(string tokenHash, string organization, string requestId, BigInteger price, DateTimeOffset now,
        string route = "")
    {
        CheckAmount(price);
        CheckRequestId(requestId);
        var reply = (RedisResult[])(await Db.ScriptEvaluateAsync(HoldScript, [TokenPrefix + tokenHash, HoldsKey, HoldTimesKey, MandatedAgentsKey],
            [requestId, Text(price), RecordPrefix, organization, now.ToUnixTimeMilliseconds(), route, TermsPrefix, VaultPrefix]))!;
        var status = (string)reply[0]! switch
        {
            "held" => HoldStatus.Held,
            "closed" => HoldStatus.Closed,
            "expired" => HoldStatus.Expired,
            "duplicate" => HoldStatus.Duplicate,
            "insufficient" => HoldStatus.Insufficient,
            _ => HoldStatus.Unknown,
        };
        return status == HoldStatus.Unknown ? new(status, null, BigInteger.Zero)
            : new(status, (string)reply[1]!, Amount(reply[2]), (string)reply[3]!, (long)reply[4] == 1,
                (string)reply[5]! is { Length: > 0 } termsPrice ? BigInteger.Parse(termsPrice, CultureInfo.InvariantCulture) : null,
                (string)reply[6]! is { Length: > 0 } bound ? long.Parse(bound, CultureInfo.InvariantCulture) : null,
                (string)reply[7]! is { Length: > 0 } percent ? int.Parse(percent, CultureInfo.InvariantCulture) : 0,
                (string)reply[8]! is { Length: > 0 } vault ? vault : null);
    }

    /// <summary>The hold becomes a debit of its price less <paramref name="slaCredit"/> (and its stream entry for SessionApi's ledger).</summary>
    /// <param name="latencyMs">The upstream part of the request, for the session's SLA figures (<paramref name="slow"/>: over its bound).</param>
    public async Task<SettleResult> ConfirmAsync(string sessionId, string requestId, string route, DateTimeOffset now,
        BigInteger slaCredit = default, long latencyMs = 0, bool slow = false) =>
        Settled((RedisResult[])(await Db.ScriptEvaluateAsync(ConfirmScript,
            [Record(sessionId), HoldsKey, HoldTimesKey, StreamKey, TermsPrefix + sessionId, LatencyPrefix + sessionId, OutcomesPrefix + sessionId],
            [Member(sessionId, requestId), requestId, route, now.ToUnixTimeMilliseconds(), Text(slaCredit), latencyMs, slow ? "1" : "0"]))!);

    /// <summary>The hold is given back: the request was not served (<paramref name="upstreamFailed"/>: counted as an SLA failure).</summary>
    public async Task<SettleResult> ReleaseAsync(string sessionId, string requestId, bool upstreamFailed = false) =>
        Settled((RedisResult[])(await Db.ScriptEvaluateAsync(ReleaseScript,
            [Record(sessionId), HoldsKey, HoldTimesKey, TermsPrefix + sessionId, OutcomesPrefix + sessionId],
            [Member(sessionId, requestId), upstreamFailed ? "1" : "0"]))!);

    /// <summary>
    /// Voids the debit of a request answered 503 because its confirm went unanswered (Redis away past the patience): a hold
    /// still there is released; otherwise a void follows the debit, if any, on the stream, and SessionApi credits it back.
    /// Repeating it answers the first outcome and changes nothing.
    /// </summary>
    public async Task<VoidOutcome> VoidAsync(string sessionId, string requestId, string payer, string organization, DateTimeOffset now) =>
        (string)(await Db.ScriptEvaluateAsync(VoidScript, [Record(sessionId), HoldsKey, HoldTimesKey, StreamKey, VoidPrefix + Member(sessionId, requestId)],
            [Member(sessionId, requestId), requestId, now.ToUnixTimeMilliseconds(), sessionId, payer, organization]))! == "released"
            ? VoidOutcome.Released : VoidOutcome.Queued;

    /// <summary>Releases holds taken before <paramref name="cutOff"/> (their gate died or hung); returns how many.</summary>
    public async Task<int> SweepAsync(DateTimeOffset cutOff, int max = 500) =>
        (int)(long)await Db.ScriptEvaluateAsync(SweepScript, [HoldsKey, HoldTimesKey], [cutOff.ToUnixTimeMilliseconds(), max, RecordPrefix]);

    /// <summary>From now on the payments and session debits of <paramref name="agent"/> are also charged against its mandate (never undone).</summary>
    public Task MarkMandatedAsync(string agent) => Db.SetAddAsync(MandatedAgentsKey, agent.ToLowerInvariant());

    /// <summary>The session of this token as the gate has it (id, payer, organization, balance), or null when not loaded.</summary>
    public async Task<SessionRef?> FindAsync(string tokenHash)
    {
        var db = Db;
        if (await db.StringGetAsync(TokenPrefix + tokenHash) is not { IsNull: false } id)
            return null;
        var fields = await db.HashGetAsync(Record(id!), ["id", "payer", "organization", "credited", "spent", "held"]);
        return fields[0].IsNull ? null
            : new SessionRef(fields[0]!, fields[1]!, fields[2]!, Amount(fields[3]) - Amount(fields[4]) - Amount(fields[5]));
    }

    /// <summary>Raises what the session was credited (deposit + top-ups, as SessionApi answered); never lowers it.</summary>
    public async Task<bool> RaiseCreditedAsync(string sessionId, BigInteger credited)
    {
        CheckAmount(credited);
        return (long)await Db.ScriptEvaluateAsync(CreditScript, [Record(sessionId), Floor(sessionId)], [Text(credited)]) == 1;
    }

    /// <summary>Stops new holds; the session's totals, or null when the gate does not have it.</summary>
    public async Task<SessionTotals?> CloseAsync(string sessionId) =>
        Totals((RedisResult[])(await Db.ScriptEvaluateAsync(CloseScript, [Record(sessionId)]))!);

    /// <summary>What the session has left to spend now (credited − spent − held), or null when the gate does not have it.</summary>
    public async Task<BigInteger?> BalanceAsync(string sessionId)
    {
        var fields = await Db.HashGetAsync(Record(sessionId), ["credited", "spent", "held"]);
        return fields[0].IsNull ? null : Amount(fields[0]) - Amount(fields[1]) - Amount(fields[2]);
    }

    /// <summary>The session's totals, or null when the gate does not have it.</summary>
    public async Task<SessionTotals?> TotalsAsync(string sessionId) =>
        Totals((RedisResult[])(await Db.ScriptEvaluateAsync(ReadScript, [Record(sessionId)]))!);

    /// <summary>
    /// Debits to write to SessionApi's ledger, for <paramref name="consumer"/> (one gate): its own unacknowledged ones first (a
    /// pass that failed), then those another gate took and left for <paramref name="claimIdle"/> (it died), then new ones.
    /// </summary>
    public async Task<IReadOnlyList<ConfirmedDebit>> ReadForFoldAsync(string consumer, int count, TimeSpan claimIdle)
    {
        var db = Db;
        if (!_groupCreated)
        {
            try
            {
                await db.StreamCreateConsumerGroupAsync(StreamKey, FoldGroup, StreamPosition.Beginning, createStream: true);
            }
            catch (RedisServerException exception) when (exception.Message.StartsWith("BUSYGROUP", StringComparison.Ordinal))
            {
            }
            _groupCreated = true;
        }
        StreamEntry[] entries;
        try
        {
            entries = await db.StreamReadGroupAsync(StreamKey, FoldGroup, consumer, "0", count);
            if (entries.Length == 0)
                entries = (await db.StreamAutoClaimAsync(StreamKey, FoldGroup, consumer, (long)claimIdle.TotalMilliseconds, "0-0", count)).ClaimedEntries;
            if (entries.Length == 0)
                entries = await db.StreamReadGroupAsync(StreamKey, FoldGroup, consumer, StreamPosition.NewMessages, count);
        }
        catch (RedisServerException exception) when (exception.Message.StartsWith("NOGROUP", StringComparison.Ordinal))
        {
            _groupCreated = false;   // a Redis that started empty: made again on the next pass
            throw;
        }
        return [.. entries.Where(e => !e.IsNull && e.Values.Length > 0).Select(e => new ConfirmedDebit(e.Id!, e["session"]!, e["payer"]!, e["organization"]!,
            e["key"]!, Amount(e["amount"]), e["route"], long.Parse((string)e["at"]!, CultureInfo.InvariantCulture),
            e["slaCredit"].IsNull ? BigInteger.Zero : Amount(e["slaCredit"]), e["void"] == "1"))];
    }

    /// <summary>Where debits SessionApi refused for good wait for an operator (with the reason): they never block the stream.</summary>
    public string RefusedStreamKey { get; } = Prefix(options) + "session-debits-refused";

    /// <summary>Moves debits SessionApi will not take to <see cref="RefusedStreamKey"/> and acknowledges them.</summary>
    public async Task SetAsideAsync(IReadOnlyCollection<ConfirmedDebit> debits, string reason)
    {
        var db = Db;
        foreach (var d in debits)
            await db.StreamAddAsync(RefusedStreamKey, [new("session", d.SessionId), new("payer", d.Payer), new("organization", d.Organization),
                new("key", d.Key), new("amount", Text(d.Amount)), new("route", d.Route), new("at", d.At), new("reason", reason)]);
        await AckFoldedAsync(debits);
    }

    /// <summary>
    /// Acknowledges entries SessionApi has written (or refused for good); returns how many this call acknowledged.
    /// <paramref name="voids"/>: what SessionApi answered for the voids among them (none: nothing credited back).
    /// </summary>
    public async Task<int> AckFoldedAsync(IReadOnlyCollection<ConfirmedDebit> debits, FoldedVoids? voids = null)
    {
        voids ??= FoldedVoids.None;
        return debits.Count == 0 ? 0 : (int)(long)await Db.ScriptEvaluateAsync(AckScript, [StreamKey],
            [FoldGroup, RecordPrefix, .. debits.SelectMany(d =>
            {
                var (folded, spent) = d.Void ? (voids.Credited.TryGetValue(d.Key, out var back) ? (-back, -back) : (BigInteger.Zero, BigInteger.Zero))
                    : voids.Voided.Contains(d.Key) ? (BigInteger.Zero, -d.Amount)
                    : (d.Amount, BigInteger.Zero);
                return new RedisValue[] { d.EntryId, d.SessionId, Text(folded), Text(spent) };
            })]);
    }

    static SessionTotals? Totals(RedisResult[] reply) =>
        reply.Length == 0 ? null : new SessionTotals(Amount(reply[0]), Amount(reply[1]), Amount(reply[2]), (long)reply[3], (long)reply[4]);

    static SettleResult Settled(RedisResult[] reply) =>
        (string)reply[0]! == "done"
            ? new(SettleStatus.Done, (string)reply[1]!, Amount(reply[2]), reply.Length > 3 ? Amount(reply[3]) : null,
                reply.Length > 4 && Amount(reply[4]) is { IsZero: false } credit ? credit : null)
            : new(SettleStatus.Unknown, null, BigInteger.Zero);

    RedisKey Record(string sessionId) => RecordPrefix + sessionId;

    RedisKey Floor(string sessionId) => FloorPrefix + sessionId;

    static string Member(string sessionId, string requestId)
    {
        CheckRequestId(requestId);
        return sessionId + "|" + requestId;
    }

    static void CheckRequestId(string requestId)
    {
        if (requestId.Contains('|'))
            throw new ArgumentException("Request ids never contain '|'.", nameof(requestId));
    }

    static void CheckAmount(BigInteger amount)
    {
        if (amount < 0 || amount > MaxAmount)
            throw new ArgumentOutOfRangeException(nameof(amount), amount, $"Session amounts are 0..{MaxAmount} atomic units.");
    }

    static string Text(BigInteger amount) => amount.ToString(CultureInfo.InvariantCulture);

    static BigInteger Amount(RedisResult value) => BigInteger.Parse((string)value!, CultureInfo.InvariantCulture);

    static BigInteger Amount(RedisValue value) => BigInteger.Parse((string)value!, CultureInfo.InvariantCulture);
}
