using System.Net;
using System.Net.Http.Json;
using System.Numerics;
using System.Text.Json;
using Npgsql;
using PaymentGate.Tests.Facilitator;
using Sessions.Payments.X402;
using StackExchange.Redis;

namespace Chaos.Tests;

/// <summary>
/// docs/design/session-debits.md, "Tests that must hold it": 8 callers spend one prepaid session through the gate while the
/// gate, SessionApi, Redis and Postgres are each killed with SIGKILL at a random moment and started again, the load going on.
/// Then, after the fold and the hold timeout: every 200 the client received has its debit row; what is charged and was not
/// received is within the window (requests cut off by a kill, at most one per caller per gate kill); nothing stays held;
/// the ledger audit is clean; nothing is spent beyond the deposit. <c>CHAOS_ROUNDS</c> (default 1) repeats the four kills.
/// </summary>
public sealed class KillEachProcessTests
{
    const int Callers = 8;
    static CancellationToken Ct => TestContext.Current.CancellationToken;
    static int Rounds => int.TryParse(Environment.GetEnvironmentVariable("CHAOS_ROUNDS"), out var rounds) && rounds > 0 ? rounds : 1;

    [Fact]
    public async Task Every_200_received_is_debited_once_and_nothing_undelivered_stays_charged_when_each_process_is_killed_under_load()
    {
        await using var stack = await ChaosStack.StartAsync(Ct);
        using var http = new HttpClient { BaseAddress = new Uri(stack.GateUrl) };
        var price = await PriceAsync(http);
        var deposit = 1_000_000_000L;   // Gate:Sessions:MaximumDeposit's default: more than any run spends
        var (sessionId, token) = await OpenSessionAsync(http, deposit);

        var load = new SessionLoad(stack.GateUrl, token, Callers);
        var gateKills = 0;
        try
        {
            await load.ServedAsync(50, TimeSpan.FromSeconds(30), Ct);
            for (var round = 1; round <= Rounds; round++)
                foreach (var victim in Enum.GetValues<Victim>())
                {
                    // A random moment under load, then the process is back and the load goes on through it.
                    await Task.Delay(Random.Shared.Next(200, 1500), Ct);
                    await load.KillAsync(() => stack.KillAsync(victim));
                    gateKills += victim == Victim.Gate ? 1 : 0;
                    await Task.Delay(Downtime(victim, round), Ct);
                    await stack.StartAsync(victim, Ct);
                    await load.ServedAsync(50, TimeSpan.FromSeconds(60), Ct);
                }
        }
        finally
        {
            await load.StopAsync();
            await load.DisposeAsync();
        }
        var summary = $"{Rounds} round(s), {gateKills} gate kill(s): {load.Summary()}, upstream answered {stack.UpstreamCalls}" +
            (load.Unexpected.IsEmpty ? "" : $"; the gate's own 500s: {string.Join(" | ", load.Unexpected.Take(3))}");
        TestContext.Current.TestOutputHelper?.WriteLine(summary);

        await VoidsAppliedAsync(stack);
        var redis = await SettledAsync(stack, sessionId);
        var ledger = await DebitsAsync(stack.SessionsDatabase, sessionId);
        var received = load.Received.ToList();
        TestContext.Current.TestOutputHelper?.WriteLine($"ledger {ledger.Count} debits, {ledger.Count - received.Count} not received; {redis}");
        var failure = $"{summary}\n{redis}\n--- last lines of the stack:\n{stack.Tail()}";

        // (1) Every 200 the client received has its debit:<request id> row, once; none is served twice.
        Assert.True(received.Count == received.Distinct().Count(), $"a request id was answered twice; {failure}");
        var unpaid = received.Where(id => !ledger.ContainsKey(id)).ToList();
        Assert.True(unpaid.Count == 0, $"{unpaid.Count} answers received without a debit in the ledger ({string.Join(", ", unpaid.Take(5))}); {failure}");
        Assert.All(ledger.Values, amount => Assert.Equal(price, amount));

        // (2) The window: charged and not received only for requests cut off by a kill (in flight, no answer), at most one per
        // caller in flight when a gate died; any other answer (402, 500, 503) charged nothing. After the hold timeout nothing
        // is held: the holds of a killed gate are released, never charged.
        var undelivered = ledger.Count - received.Count;
        Assert.True(undelivered <= load.CutOff && undelivered <= Callers * gateKills,
            $"{undelivered} debits without a received answer (window: {load.CutOff} requests cut off, {Callers} callers x {gateKills} gate kills); {failure}");
        Assert.True(redis.Held == 0 && redis.Holds == 0, $"holds left after the hold timeout; {failure}");
        Assert.True(redis.Spent == price * ledger.Count && redis.Folded == redis.Spent, $"Redis and the ledger disagree; {failure}");

        // (3) SessionApi's ledger audit (every session re-derived from its ledger) is clean.
        var audit = await AuditAsync(stack.SessionApiUrl);
        Assert.True(audit.GetProperty("checked").GetInt32() >= 1 && audit.GetProperty("violations").GetArrayLength() == 0, $"audit: {audit}; {failure}");

        // (4) No overspend: the durable session spent what its ledger says, within the deposit.
        var (spent, balance) = await SessionRowAsync(stack.SessionsDatabase, sessionId);
        Assert.True(spent == price * ledger.Count && spent <= deposit && balance == deposit - spent, $"session row spent {spent}, balance {balance}; {failure}");
    }

    /// <summary>
    /// Down for a moment, except Redis every other round: longer than the gate waits for a confirm (10 s), so the requests
    /// answered by the upstream meanwhile end unserved (503) and their holds are swept, never served unpaid.
    /// </summary>
    static TimeSpan Downtime(Victim victim, int round) => victim == Victim.Redis && round % 2 == 1
        ? TimeSpan.FromSeconds(11)
        : TimeSpan.FromMilliseconds(Random.Shared.Next(0, 500));

    static async Task<long> PriceAsync(HttpClient gate)
    {
        var pricing = await gate.GetFromJsonAsync<JsonElement>("/api/pricing", Ct);
        return long.Parse(pricing.GetProperty("routes").EnumerateArray()
            .Single(r => r.GetProperty("method").GetString() == "GET" && r.GetProperty("path").GetString() == "/api/content/{**key}")
            .GetProperty("amount").GetString()!);
    }

    /// <summary>A payer funded by the Development faucet opens a prepaid session with an x402 payment of the deposit.</summary>
    static async Task<(string Id, string Token)> OpenSessionAsync(HttpClient gate, long deposit)
    {
        var payer = new TestPayer();
        using (var faucet = await gate.PostAsJsonAsync("/dev/faucet", new { address = payer.Lower, amount = deposit.ToString() }, Ct))
            faucet.EnsureSuccessStatusCode();
        var body = new { deposit = deposit.ToString() };
        using var offer = await gate.PostAsJsonAsync("/api/sessions", body, Ct);
        Assert.Equal(HttpStatusCode.PaymentRequired, offer.StatusCode);
        var required = X402HeaderCodec.Decode(offer.Headers.GetValues(X402HeaderCodec.PaymentRequiredHeader).Single(), X402JsonContext.Strict.PaymentRequired).Value!;
        var accepted = required.Accepts.Single();
        var payment = X402HeaderCodec.Encode(new PaymentPayload
        {
            Resource = required.Resource, Accepted = accepted, Payload = payer.Sign(value: BigInteger.Parse(accepted.Amount)).ToJsonElement(),
        });
        using var open = new HttpRequestMessage(HttpMethod.Post, "/api/sessions") { Content = JsonContent.Create(body) };
        open.Headers.TryAddWithoutValidation(X402HeaderCodec.PaymentSignatureHeader, payment);
        using var opened = await gate.SendAsync(open, Ct);
        var session = await opened.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.True(opened.StatusCode == HttpStatusCode.Created, $"open answered {(int)opened.StatusCode}: {session}");
        return (session.GetProperty("id").GetString()!, session.GetProperty("token").GetString()!);
    }

    sealed record RedisSession(long Spent, long Folded, long Held, int Holds, long Stream)
    {
        public override string ToString() => $"Redis: spent {Spent}, folded {Folded}, held {Held}, holds {Holds}, stream {Stream}";
    }

    /// <summary>
    /// Waits (hold timeout + 30 s) until the gate's record of the session is settled: every confirmed debit folded into the
    /// ledger (stream empty, folded = spent) and no hold left (the sweeper released those of the killed gate).
    /// </summary>
    static async Task<RedisSession> SettledAsync(ChaosStack stack, string sessionId)
    {
        await using var connection = await ConnectionMultiplexer.ConnectAsync(stack.RedisConnectionString);
        var db = connection.GetDatabase();
        var deadline = DateTime.UtcNow + ChaosStack.HoldTimeout + TimeSpan.FromSeconds(30);
        while (true)
        {
            var record = await db.HashGetAsync($"gate:session:{sessionId}", ["spent", "folded", "held"]);
            var holds = (await db.HashKeysAsync("gate:session-holds")).Count(k => k.ToString().StartsWith(sessionId + "|", StringComparison.Ordinal));
            var state = new RedisSession((long)record[0], (long)record[1], (long)record[2], holds, await db.StreamLengthAsync("gate:session-debits"));
            if ((state.Held == 0 && state.Holds == 0 && state.Stream == 0 && state.Folded == state.Spent) || DateTime.UtcNow > deadline)
                return state;
            await Task.Delay(200, Ct);
        }
    }

    /// <summary>
    /// Waits (up to a minute) until the gate has applied every void it owes: a request answered 503 because its confirm went
    /// unanswered past its patience (Redis down 11 s) has its debit, if Redis made it, credited back.
    /// </summary>
    static async Task VoidsAppliedAsync(ChaosStack stack)
    {
        await using var connection = new NpgsqlConnection(stack.GateDatabase);
        await connection.OpenAsync(Ct);
        await using var command = new NpgsqlCommand("SELECT count(*) FROM compensations WHERE kind = 'session-debit-void' AND status = 'pending'", connection);
        for (var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1); (long)(await command.ExecuteScalarAsync(Ct))! > 0 && DateTime.UtcNow < deadline;)
            await Task.Delay(200, Ct);
    }

    /// <summary>The session's debit rows in SessionApi's ledger that stand (not credited back by a void): request id → amount.</summary>
    static async Task<Dictionary<string, long>> DebitsAsync(string database, string sessionId)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync(Ct);
        await using var command = new NpgsqlCommand(
            """
            SELECT substr(idempotency_key, 7), amount FROM session_ledger l
             WHERE session_id = $1 AND kind = 'debit' AND idempotency_key LIKE 'debit:%'
               AND NOT EXISTS (SELECT 1 FROM session_ledger c WHERE c.idempotency_key = 'credit:' || l.request_id)
            """, connection);
        command.Parameters.Add(new NpgsqlParameter { Value = sessionId });
        var debits = new Dictionary<string, long>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync(Ct);
        while (await reader.ReadAsync(Ct))
            debits.Add(reader.GetString(0), (long)reader.GetDecimal(1));
        return debits;
    }

    static async Task<(long Spent, long Balance)> SessionRowAsync(string database, string sessionId)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync(Ct);
        await using var command = new NpgsqlCommand("SELECT spent, balance FROM sessions WHERE id = $1", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = sessionId });
        await using var reader = await command.ExecuteReaderAsync(Ct);
        Assert.True(await reader.ReadAsync(Ct));
        return ((long)reader.GetDecimal(0), (long)reader.GetDecimal(1));
    }

    static async Task<JsonElement> AuditAsync(string sessionApiUrl)
    {
        using var http = new HttpClient { BaseAddress = new Uri(sessionApiUrl) };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/admin/audit");
        request.Headers.Add("X-Admin-Key", ChaosStack.AdminKey);
        using var response = await http.SendAsync(request, Ct);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
    }
}
