using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Sessions.PaymentGate.Sessions;
using StackExchange.Redis;
using static PaymentGate.Tests.Sessions.SessionGateHarness;

namespace PaymentGate.Tests.Sessions;

// The gate charges a payment against a mandate only when its payer is a known mandated agent (the set in Redis, loaded from
// SessionApi before it is trusted): a payer without a mandate costs no SessionApi call, a mandated one is always checked.
public sealed partial class MandateGateTests
{
    int _chargeCalls;

    void CountChargeCalls() => _gate.SessionApiLink.OnSend = request =>
    {
        if (request.RequestUri!.AbsolutePath == "/internal/mandates/charge") Interlocked.Increment(ref _chargeCalls);
    };

    /// <summary>What a Redis that was flushed (or restarted empty) has of the mandated agents: nothing.</summary>
    async Task ForgetMandatedAgentsAsync()
    {
        var balances = _gate.GateServices.GetRequiredService<SessionBalances>();
        var redis = _gate.GateServices.GetRequiredService<IConnectionMultiplexer>().GetDatabase();
        await redis.KeyDeleteAsync([balances.MandatedAgentsKey, _gate.GateServices.GetRequiredService<MandatedAgents>().LoadedKey]);
    }

    [Fact]
    public async Task Payer_without_a_mandate_pays_x402_without_a_mandate_charge_call()
    {
        var payer = await _gate.FundedPayerAsync(10_000);
        // The first payment loads the set; on a busy machine that can outlast MandatedAgents.LoadWait, and then that one payment
        // is charged to be safe (unsure = ask). Counted from the second on: the set is loaded.
        using (var first = await PayAsync(payer, "/api/content/plain-first"))
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        CountChargeCalls();
        for (var i = 0; i < 3; i++)
        {
            using var response = await PayAsync(payer, $"/api/content/plain-{i}");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        Assert.Equal(6_000, await _gate.BalanceAsync(payer.Lower));
        Assert.Equal(0, _chargeCalls);
        // Read again within MandatedAgents.Refresh, so a mandate created at SessionApi directly binds the agent within it.
        var ttl = await _gate.GateServices.GetRequiredService<IConnectionMultiplexer>().GetDatabase()
            .KeyTimeToLiveAsync(_gate.GateServices.GetRequiredService<MandatedAgents>().LoadedKey);
        Assert.InRange(ttl!.Value, TimeSpan.FromMinutes(4), MandatedAgents.Refresh);
    }

    [Fact]
    public async Task Agent_mandated_through_the_gate_after_the_set_was_loaded_is_charged_and_refused_at_its_limit()
    {
        var agent = await _gate.FundedPayerAsync(10_000);
        using (var before = await PayAsync(agent, "/api/content/before"))   // loads the set; the agent is not in it yet
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        var (mandateId, _) = await MandateAsync(agent, perDay: GetPrice);
        CountChargeCalls();

        using (var ok = await PayAsync(agent, "/api/content/ok"))
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        using (var over = await PayAsync(agent, "/api/content/over"))
            await RefusedAsync(over, HttpStatusCode.Forbidden, "limit-exceeded");
        Assert.Equal(2, _chargeCalls);
        Assert.Equal(8_000, await _gate.BalanceAsync(agent.Lower));
        Assert.Equal(GetPrice.ToString(), (await MandateJsonAsync(mandateId)).GetProperty("spentToday").GetString());
    }

    [Fact]
    public async Task After_Redis_lost_the_set_a_mandated_agent_is_still_checked_from_SessionApis_list()
    {
        var agent = await _gate.FundedPayerAsync(10_000);
        using (var before = await PayAsync(agent, "/api/content/before"))
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        // Created behind the gate's back (directly at SessionApi), then Redis loses the set: the next decision reloads it.
        var (consent, _) = Consent(agent, perTransaction: GetPrice / 2);
        using (var created = await _gate.SessionApiHttp.PostAsJsonAsync("/api/mandates", consent, Ct))
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        await ForgetMandatedAgentsAsync();
        CountChargeCalls();

        using (var over = await PayAsync(agent, "/api/content/over"))
            await RefusedAsync(over, HttpStatusCode.Forbidden, "limit-exceeded");
        Assert.Equal(1, _chargeCalls);
        Assert.Equal(9_000, await _gate.BalanceAsync(agent.Lower));
    }

    [Fact]
    public async Task SessionApi_unreachable_while_the_set_loads_means_the_charge_is_asked_never_skipped()
    {
        var payer = await _gate.FundedPayerAsync(10_000);
        CountChargeCalls();
        _gate.SessionApiLink.DownFor = request => request.RequestUri!.AbsolutePath == "/internal/mandates/agents";
        using (var asked = await PayAsync(payer, "/api/content/asked"))
            Assert.Equal(HttpStatusCode.OK, asked.StatusCode);
        Assert.Equal(1, _chargeCalls);

        // SessionApi entirely away: the charge cannot be asked either, so 503 and nothing served or settled.
        _gate.SessionApiLink.DownFor = null;
        _gate.SessionApiLink.Down = true;
        using (var down = await PayAsync(payer, "/api/content/down"))
            Assert.Equal(HttpStatusCode.ServiceUnavailable, down.StatusCode);
        _gate.SessionApiLink.Down = false;
        Assert.Equal(0, _gate.Upstream.CallsTo("/api/content/down"));
        Assert.Equal(9_000, await _gate.BalanceAsync(payer.Lower));

        // Back: once the set is loaded (a load still retrying, or a new one), the payer without a mandate pays with no charge call.
        var agents = _gate.GateServices.GetRequiredService<MandatedAgents>();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (await agents.MayBeMandatedAsync(payer.Lower))
            Assert.True(DateTime.UtcNow < deadline, "the set of mandated agents never loaded");
        var before = _chargeCalls;
        using (var skipped = await PayAsync(payer, "/api/content/skipped"))
            Assert.Equal(HttpStatusCode.OK, skipped.StatusCode);
        Assert.Equal(before, _chargeCalls);
    }
}
