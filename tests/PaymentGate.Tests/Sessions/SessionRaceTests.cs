using System.Net;
using Npgsql;
using Sessions.Testing;
using static PaymentGate.Tests.Sessions.SessionGateHarness;

namespace PaymentGate.Tests.Sessions;

// Issue 16: top-up, close and expiry racing requests in flight on one session stay exact. 16 callers spend one session
// while the race happens; afterwards the ledger holds exactly one debit per 200 the callers received, the refund is what
// is left of deposit + top-ups, the payer's wallet agrees, and SessionApi's audit is clean.
public sealed class SessionRaceTests(InfrastructureFixture infrastructure) : IAsyncLifetime
{
    const int Callers = 16;
    SessionGateHarness _gate = null!;
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _gate = await SessionGateHarness.StartAsync(infrastructure);

    public ValueTask DisposeAsync() => _gate.DisposeAsync();

    [Fact]
    public async Task Sixteen_callers_racing_a_top_up_and_a_close_are_charged_exactly_what_they_were_served()
    {
        const long deposit = 40 * GetPrice, topUp = 30 * GetPrice, wallet = 1_000_000;
        var payer = await _gate.FundedPayerAsync(wallet);
        var (id, token, _) = await _gate.OpenAsync(payer, deposit);
        using var load = new SessionLoad(_gate, token);

        await load.UntilServedAsync(20);
        var payment = await _gate.PayAsync(payer, $"/api/sessions/{id}/topup", new { amount = topUp.ToString() }, topUp.ToString());
        using (var toppedUp = await _gate.PostJsonAsync($"/api/sessions/{id}/topup", new { amount = topUp.ToString() }, payment))
            Assert.Equal(HttpStatusCode.OK, toppedUp.StatusCode);
        await load.UntilServedAsync(50);
        using var closed = await _gate.WithTokenAsync(HttpMethod.Post, $"/api/sessions/{id}/close", token);
        var refunded = long.Parse((await JsonAsync(closed, HttpStatusCode.OK)).GetProperty("refunded").GetString()!);
        var served = await load.StopAsync();

        var summary = load.Summary;
        Assert.True(served >= 50 && served <= (deposit + topUp) / GetPrice, summary);
        Assert.Equal((served, served * GetPrice), await DebitsAsync(id));
        Assert.Equal(deposit + topUp - served * GetPrice, refunded);
        Assert.Equal(wallet - deposit - topUp + refunded, await _gate.BalanceAsync(payer.Lower));
        Assert.Equal(served, _gate.Upstream.Calls.Count);
        Assert.Empty((await _gate.AuditAsync()).GetProperty("violations").EnumerateArray());
    }

    [Fact]
    public async Task Sixteen_callers_racing_the_expiry_are_charged_exactly_what_they_were_served()
    {
        const long deposit = 200 * GetPrice;
        var payer = await _gate.FundedPayerAsync();
        var (id, token, _) = await _gate.OpenAsync(payer, deposit, ttlSeconds: 60);
        using var load = new SessionLoad(_gate, token);

        await load.UntilServedAsync(30);
        // Past the expiry, but not past Gate:Sessions:HoldTimeout (2 min): the holds of requests in flight are no gate's leftovers.
        _gate.Clock.Advance(TimeSpan.FromSeconds(61));
        await load.UntilRefusedAsync(Callers);   // every caller has seen the session end
        var served = await load.StopAsync();

        Assert.True(served >= 30 && served < deposit / GetPrice, load.Summary);
        Assert.Equal((served, served * GetPrice), await DebitsAsync(id));
        Assert.Equal(served, _gate.Upstream.Calls.Count);
        using (var late = await _gate.WithTokenAsync(HttpMethod.Get, "/api/content/late", token))
            Assert.Equal(HttpStatusCode.PaymentRequired, late.StatusCode);
        Assert.Empty((await _gate.AuditAsync()).GetProperty("violations").EnumerateArray());
    }

    /// <summary>(rows, sum) of the session's debit rows, once every debit decided in Redis is folded.</summary>
    async Task<(long Count, long Sum)> DebitsAsync(string sessionId)
    {
        await _gate.FoldedAsync();
        await using var connection = new NpgsqlConnection(_gate.SessionsDatabase);
        await connection.OpenAsync(Ct);
        await using var command = new NpgsqlCommand(
            "SELECT count(*), coalesce(sum(amount), 0)::bigint FROM session_ledger WHERE session_id = $1 AND kind = 'debit'", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = sessionId });
        await using var reader = await command.ExecuteReaderAsync(Ct);
        await reader.ReadAsync(Ct);
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    /// <summary>16 callers spending one session until stopped; counts what they were answered.</summary>
    sealed class SessionLoad : IDisposable
    {
        readonly CancellationTokenSource _stop = new();
        readonly Task[] _callers;
        readonly System.Collections.Concurrent.ConcurrentQueue<string> _unexpected = new();
        int _served, _refused, _other, _request;

        public SessionLoad(SessionGateHarness gate, string token) =>
            _callers = [.. Enumerable.Range(0, Callers).Select(_ => Task.Run(async () =>
            {
                while (!_stop.IsCancellationRequested)
                {
                    using var response = await gate.WithTokenAsync(HttpMethod.Get, $"/api/content/r{Interlocked.Increment(ref _request)}", token);
                    if (response.StatusCode == HttpStatusCode.OK) Interlocked.Increment(ref _served);
                    else if (response.StatusCode == HttpStatusCode.PaymentRequired) Interlocked.Increment(ref _refused);
                    else
                    {
                        Interlocked.Increment(ref _other);
                        _unexpected.Enqueue($"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                    }
                }
            }))];

        public string Summary => $"served {_served}, refused {_refused}, other {_other} {string.Join(" | ", _unexpected.Take(3))}";

        public Task UntilServedAsync(int count) => UntilAsync(() => Volatile.Read(ref _served) >= count);

        public Task UntilRefusedAsync(int count) => UntilAsync(() => Volatile.Read(ref _refused) >= count);

        async Task UntilAsync(Func<bool> done)
        {
            for (var waited = TimeSpan.Zero; !done(); waited += TimeSpan.FromMilliseconds(10))
            {
                Assert.True(waited < TimeSpan.FromSeconds(60), $"load did not get there in 60 s: {Summary}");
                await Task.Delay(10, Ct);
            }
        }

        /// <summary>Stops the callers (each finishes its request in flight) and returns the number of 200s.</summary>
        public async Task<long> StopAsync()
        {
            await _stop.CancelAsync();
            await Task.WhenAll(_callers);
            Assert.True(_other == 0, Summary);
            return _served;
        }

        public void Dispose()
        {
            _stop.Cancel();
            _stop.Dispose();
        }
    }
}
