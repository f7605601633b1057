using System.Globalization;
using System.Numerics;
using Sessions.PaymentGate.Offers;
using StackExchange.Redis;

namespace Sessions.PaymentGate.Sessions;

/// <summary>
/// The SLA figures the gate measured for a session on offer terms (docs/offers-and-sla.md): answers served and failed, those
/// over the latency bound, credits granted (count and atomic units), failed answers not charged, latency percentiles (last 1,000).
/// </summary>
/// <param name="AvailabilityCredits">Credits granted because availability over the window was under the bound (among <paramref name="Credits"/>).</param>
public sealed record SessionSla(long Served, long Failed, long Slow, long Credits, BigInteger Credited, BigInteger FailedNotCharged,
    long? LatencyP50Ms, long? LatencyP95Ms, long? LatencyMaxMs, long AvailabilityCredits = 0)
{
    /// <summary>Answered without an upstream failure, in basis points (10000 = all); null before any request.</summary>
    public long? AvailabilityBasisPoints => Served + Failed == 0 ? null : Served * 10_000 / (Served + Failed);
}

public sealed partial class SessionBalances
{
    // Lua shared by the confirm and release scripts: the SLA of a session on offer terms (its terms hash; absent: no SLA, nothing
    // counted). Outcomes: the last availabilityWindow requests, '1' served, '0' failed upstream.
    const string SlaFunctions = """
        -- The availability credit of a request holding `held` while the window's availability is under the terms' bound (else
        -- nil), then records it as served. Exact in doubles below 2^53: (held div 100) × pct + (held mod 100) × pct div 100.
        local function availability_credit(terms, outcomes, held)
          local a = redis.call('HMGET', terms, 'availabilityBasisPoints', 'availabilityWindow', 'availabilityCreditPercent')
          if not a[1] then return nil end
          local seen = redis.call('LRANGE', outcomes, 0, -1)
          local served = 0
          for _, o in ipairs(seen) do if o == '1' then served = served + 1 end end
          local credit = nil
          if #seen > 0 and served * 10000 < tonumber(a[1]) * #seen then
            local h, pct = tonumber(held), tonumber(a[3])
            credit = string.format('%.0f', math.floor(h / 100) * pct + math.floor((h % 100) * pct / 100))
            redis.call('HINCRBY', terms, 'availabilityCredits', 1)
          end
          redis.call('RPUSH', outcomes, '1')
          redis.call('LTRIM', outcomes, -tonumber(a[2]), -1)
          redis.call('PEXPIREAT', outcomes, string.format('%.0f', redis.call('PEXPIRETIME', terms)))
          return credit
        end
        local function count_served(terms, latencies, slow, credit, latency)
          if redis.call('EXISTS', terms) == 0 then return end
          redis.call('HINCRBY', terms, 'served', 1)
          if slow == '1' then redis.call('HINCRBY', terms, 'slow', 1) end
          if credit ~= '0' then
            redis.call('HINCRBY', terms, 'credited', credit)
            redis.call('HINCRBY', terms, 'credits', 1)
          end
          redis.call('RPUSH', latencies, latency)
          redis.call('LTRIM', latencies, -1000, -1)
          redis.call('PEXPIREAT', latencies, string.format('%.0f', redis.call('PEXPIRETIME', terms)))
        end
        local function count_failed(terms, outcomes, price)
          if redis.call('EXISTS', terms) == 0 then return end
          redis.call('HINCRBY', terms, 'failed', 1)
          redis.call('HINCRBY', terms, 'failedNotCharged', price)
          local window = redis.call('HGET', terms, 'availabilityWindow')
          if not window then return end
          redis.call('RPUSH', outcomes, '0')
          redis.call('LTRIM', outcomes, -tonumber(window), -1)
          redis.call('PEXPIREAT', outcomes, string.format('%.0f', redis.call('PEXPIRETIME', terms)))
        end
        """;

    /// <summary>
    /// Binds the session to its offer: the hold prices its routes from these, the confirm credits by its SLA. Written when the
    /// session is opened, before its token is given out; repeating it (the same payment completing an open) changes nothing.
    /// </summary>
    public async Task SetTermsAsync(string sessionId, Offer offer, string jws, DateTimeOffset sessionExpiresAt)
    {
        var key = TermsPrefix + sessionId;
        var fields = new List<HashEntry>
        {
            new("offer", jws), new("offerId", offer.Id),
            new("latencyMs", offer.Sla.LatencyMs), new("latencyCreditPercent", offer.Sla.LatencyCreditPercent),
        };
        if (offer.Sla.AvailabilityBasisPoints > 0)
            fields.AddRange([new("availabilityBasisPoints", offer.Sla.AvailabilityBasisPoints), new("availabilityWindow", offer.Sla.AvailabilityWindow),
                new("availabilityCreditPercent", offer.Sla.AvailabilityCreditPercent)]);
        fields.AddRange(offer.Routes.Select(r => new HashEntry("price:" + r.Route, r.Price)));
        var db = Db;
        await db.HashSetAsync(key, [.. fields]);
        await db.KeyExpireAsync(key, sessionExpiresAt.AddDays(1).UtcDateTime);
    }

    /// <summary>The session's signed offer (null: opened on the price list) and its SLA figures so far.</summary>
    public async Task<(string? OfferJws, SessionSla? Sla)> TermsAsync(string sessionId)
    {
        var db = Db;
        var values = await db.HashGetAsync(TermsPrefix + sessionId,
            ["offer", "served", "failed", "slow", "credits", "credited", "failedNotCharged", "availabilityCredits"]);
        if (values[0].IsNull)
            return (null, null);
        var latencies = (await db.ListRangeAsync(LatencyPrefix + sessionId)).Select(v => (long)v).Order().ToList();
        return ((string)values[0]!, new SessionSla(Count(values[1]), Count(values[2]), Count(values[3]), Count(values[4]),
            Count(values[5]), Count(values[6]), Percentile(latencies, 50), Percentile(latencies, 95), latencies.Count == 0 ? null : latencies[^1],
            Count(values[7])));
    }

    static long Count(RedisValue value) => value.IsNull ? 0 : long.Parse((string)value!, CultureInfo.InvariantCulture);

    /// <summary>Nearest-rank percentile of sorted samples.</summary>
    static long? Percentile(List<long> sorted, int percent) =>
        sorted.Count == 0 ? null : sorted[Math.Max(0, (percent * sorted.Count + 99) / 100 - 1)];
}
