using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Sessions.PaymentGate.Sessions;
using Sessions.Testing.Local;
using Sessions.Testing;
using static PaymentGate.Tests.Sessions.SessionGateHarness;

namespace PaymentGate.Tests.Sessions;

// Sessions are linearizable in Postgres (SessionApi's ledger), not in any one gate: several gates behind a load balancer
// and a Redis that dies mid-load change nothing about what is served and what is debited.
public sealed class SessionScaleTests(InfrastructureFixture infrastructure)
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Three_gates_sharing_redis_and_postgres_serve_exactly_50_of_500_concurrent_requests()
    {
        await using var harness = await SessionGateHarness.StartAsync(infrastructure);
        HttpClient[] gates = [harness.Http, harness.AddGate(), harness.AddGate()];
        var payer = await harness.FundedPayerAsync();
        var (id, token, _) = await harness.OpenAsync(payer, 50 * GetPrice);

        var statuses = await Task.WhenAll(Enumerable.Range(0, 500).Select(async i =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/content/m{i}");
            request.Headers.TryAddWithoutValidation("Payment-Session", token);
            using var response = await gates[i % 3].SendAsync(request, Ct);
            return response.StatusCode;
        }));

        var summary = string.Join(", ", statuses.GroupBy(s => s).Select(g => $"{(int)g.Key}x{g.Count()}"));
        Assert.True(statuses.Count(s => s == HttpStatusCode.OK) == 50, summary);
        Assert.True(statuses.Count(s => s == HttpStatusCode.PaymentRequired) == 450, summary);
        Assert.Equal(50, harness.Upstream.Calls.Count);
        Assert.Equal(50, await harness.LedgerCountAsync(id, "debit"));
        Assert.Equal(0, await harness.LedgerCountAsync(id, "credit"));
        using var get = await harness.WithTokenAsync(HttpMethod.Get, $"/api/sessions/{id}", token);
        var session = await JsonAsync(get, HttpStatusCode.OK);
        Assert.Equal(("0", "DEPLETED", 50L), (session.GetProperty("balance").GetString(), session.GetProperty("state").GetString(),
            session.GetProperty("requestCount").GetInt64()));
        Assert.Empty((await harness.AuditAsync()).GetProperty("violations").EnumerateArray());
    }

    [Fact]
    public async Task Redis_killed_and_restarted_during_load_loses_no_debit_and_serves_nothing_without_one()
    {
        // A redis-server of this test alone (the shared one must not die under the other tests), durable as the AppHost runs
        // it: session debits are decided in Redis, and its append-only file is fsync'd before each reply.
        var data = Path.Combine(Path.GetTempPath(), $"redis-kill-{Guid.NewGuid():N}");
        var redis = await LocalRedisServer.StartAsync(new LocalRedisOptions { DataDirectory = data }, Ct);
        var port = redis.Port;
        await using var harness = await SessionGateHarness.StartAsync(infrastructure, new() { ["ConnectionStrings:redis"] = redis.ConnectionString });
        try
        {
            var payer = await harness.FundedPayerAsync(10_000_000);
            const int deposit = 2000;
            var (id, token, _) = await harness.OpenAsync(payer, deposit * GetPrice);

            using var stop = new CancellationTokenSource();
            var statuses = new System.Collections.Concurrent.ConcurrentBag<HttpStatusCode>();
            var requests = 0;
            var load = Enumerable.Range(0, 16).Select(async worker =>
            {
                while (!stop.IsCancellationRequested && Interlocked.Increment(ref requests) <= deposit)
                {
                    using var response = await harness.WithTokenAsync(HttpMethod.Get, $"/api/content/r{worker}-{requests}", token);
                    statuses.Add(response.StatusCode);
                }
            }).ToArray();

            async Task AnsweredAsync(int count)
            {
                for (var waited = 0; statuses.Count < count && waited < 300; waited++)
                    await Task.Delay(50, Ct);
            }
            await AnsweredAsync(50);
            var servedBeforeKill = statuses.Count;
            // SIGKILL: no shutdown, no save, the cache is simply gone.
            System.Diagnostics.Process.GetProcessById(redis.Process.Id).Kill();
            await redis.Process.Exited.WaitAsync(TimeSpan.FromSeconds(10), Ct);
            await Task.Delay(TimeSpan.FromSeconds(1), Ct);
            await AnsweredAsync(servedBeforeKill + 20);
            var servedDuringOutage = statuses.Count - servedBeforeKill;
            await redis.DisposeAsync();
            redis = await LocalRedisServer.StartAsync(new LocalRedisOptions { Port = port, DataDirectory = data }, Ct);
            await AnsweredAsync(statuses.Count + 50);
            stop.Cancel();
            await Task.WhenAll(load);
            // A request whose confirm went unanswered past its patience (Redis still away) was answered 503, and its debit is
            // voided now that Redis is back: credited back if the confirm had been made (its reply lost with the kill).
            var voids = await VoidsAppliedAsync(harness);

            var all = statuses.ToArray();
            var summary = $"{string.Join(", ", all.GroupBy(s => s).Select(g => $"{(int)g.Key}x{g.Count()}"))}; before kill {servedBeforeKill}, " +
                $"during outage {servedDuringOutage}, voids {voids}";
            TestContext.Current.TestOutputHelper?.WriteLine(summary);
            Assert.True(servedBeforeKill > 0 && servedDuringOutage > 0, summary);
            // A command cut off by the kill (StackExchange.Redis cancels its task) is an outage too: 503, never a 500.
            Assert.All(all, status => Assert.True(status is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable, summary));
            var ok = all.Count(s => s == HttpStatusCode.OK);
            // Every 200 has its debit, and no debit stands without a 200 (a 503 forwarded nothing and charged nothing).
            var net = await harness.LedgerCountAsync(id, "debit") - await harness.LedgerCountAsync(id, "credit");
            Assert.True(ok == net, $"{ok} served, {net} net debits; {summary}");
            // A request forwarded just before Redis died could not be debited after its upstream answered: it got a 503 and
            // was not charged (its hold, in the append-only file, is released by the sweeper). Nothing else reached the upstream.
            Assert.InRange(harness.Upstream.Calls.Count, ok, ok + 16);
            using var get = await harness.WithTokenAsync(HttpMethod.Get, $"/api/sessions/{id}", token);
            var session = await JsonAsync(get, HttpStatusCode.OK);
            Assert.Equal(((deposit - ok) * GetPrice).ToString(), session.GetProperty("balance").GetString());
            var report = await harness.AuditAsync();
            Assert.True(report.GetProperty("checked").GetInt32() >= 1);
            Assert.Empty(report.GetProperty("violations").EnumerateArray());
        }
        finally
        {
            await redis.DisposeAsync();
            Directory.Delete(data, recursive: true);
        }
    }
    [Fact]
    public async Task Redis_gone_while_the_upstream_answers_and_longer_than_the_confirm_waits_is_a_503_and_charges_nothing()
    {
        var data = Path.Combine(Path.GetTempPath(), $"redis-confirm-{Guid.NewGuid():N}");
        var redis = await LocalRedisServer.StartAsync(new LocalRedisOptions { DataDirectory = data }, Ct);
        var port = redis.Port;
        await using var harness = await SessionGateHarness.StartAsync(infrastructure, new() { ["ConnectionStrings:redis"] = redis.ConnectionString });
        try
        {
            var payer = await harness.FundedPayerAsync();
            var (id, token, _) = await harness.OpenAsync(payer, 10 * GetPrice);
            // The price is held; while the upstream works Redis dies, and the gate's clock passes the confirm's patience.
            harness.Upstream.OnCall = async () =>
            {
                harness.Upstream.OnCall = null;
                System.Diagnostics.Process.GetProcessById(redis.Process.Id).Kill();
                await redis.Process.Exited.WaitAsync(TimeSpan.FromSeconds(10), Ct);
                harness.Clock.Advance(TimeSpan.FromSeconds(11));
            };

            using (var response = await harness.WithTokenAsync(HttpMethod.Get, "/api/content/a", token))
            {
                var body = await response.Content.ReadAsStringAsync(Ct);
                Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"{(int)response.StatusCode}: {body}");
                Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
                Assert.DoesNotContain("Exception", body);
                Assert.Contains("credited back", body);
            }
            Assert.Equal([(CompensationKinds.SessionDebitVoid, "pending")], (await harness.CompensationsAsync()).Select(c => (c.Kind, c.Status)));

            // Redis back with its append-only file: the hold is there, nobody confirms it; the void (or the sweeper) releases it.
            await redis.DisposeAsync();
            redis = await LocalRedisServer.StartAsync(new LocalRedisOptions { Port = port, DataDirectory = data }, Ct);
            harness.Clock.Advance(TimeSpan.FromMinutes(3));
            var folder = harness.GateServices.GetRequiredService<SessionDebitFolder>();
            var balances = harness.GateServices.GetRequiredService<SessionBalances>();
            for (var attempt = 0; ; attempt++)
            {
                try
                {
                    await folder.SweepAsync();   // (or the gate's own sweeper got there first)
                    if (await balances.BalanceAsync(id) == 10 * GetPrice) break;
                }
                catch (Exception exception) when (SessionBalances.IsUnavailable(exception))
                {
                    // the multiplexer reconnects in a moment
                }
                Assert.True(attempt < 100, "the hold was never released");
                await Task.Delay(100, Ct);
            }
            Assert.Equal(1, await VoidsAppliedAsync(harness));
            Assert.Equal((0, 0), (await harness.LedgerCountAsync(id, "debit"), await harness.LedgerCountAsync(id, "credit")));
            using var get = await harness.WithTokenAsync(HttpMethod.Get, $"/api/sessions/{id}", token);
            Assert.Equal((10 * GetPrice).ToString(), (await JsonAsync(get, HttpStatusCode.OK)).GetProperty("balance").GetString());
        }
        finally
        {
            await redis.DisposeAsync();
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task A_debit_made_but_unanswered_past_the_confirms_patience_is_a_503_and_is_credited_back()
    {
        await WithLostConfirmAsync(async (harness, id, token) =>
        {
            Assert.Equal(1, await VoidsAppliedAsync(harness));
            Assert.Equal((2, 1), (await harness.LedgerCountAsync(id, "debit"), await harness.LedgerCountAsync(id, "credit")));
            var balances = harness.GateServices.GetRequiredService<SessionBalances>();
            Assert.Equal(9 * GetPrice, await balances.BalanceAsync(id));
            var totals = (await balances.TotalsAsync(id))!;
            Assert.Equal((totals.Spent, true), (totals.Folded, totals.AllFolded));
            using var get = await harness.WithTokenAsync(HttpMethod.Get, $"/api/sessions/{id}", token);
            var session = await JsonAsync(get, HttpStatusCode.OK);
            Assert.Equal(((9 * GetPrice).ToString(), 1L), (session.GetProperty("balance").GetString(), session.GetProperty("requestCount").GetInt64()));
            Assert.Empty((await harness.AuditAsync()).GetProperty("violations").EnumerateArray());
        });
    }

    [Fact]
    public async Task A_close_applies_the_voids_its_session_is_owed_before_the_refund()
    {
        await WithLostConfirmAsync(async (harness, id, token) =>
        {
            // The retrier's next attempt is far off (its pass is driven by the tests): the close does not wait for it.
            using var closed = await harness.WithTokenAsync(HttpMethod.Post, $"/api/sessions/{id}/close", token);

            Assert.Equal((9 * GetPrice).ToString(), (await JsonAsync(closed, HttpStatusCode.OK)).GetProperty("refunded").GetString());
            Assert.Equal((2, 1), (await harness.LedgerCountAsync(id, "debit"), await harness.LedgerCountAsync(id, "credit")));
            Assert.Equal([(CompensationKinds.SessionDebitVoid, "done")], (await harness.CompensationsAsync()).Select(c => (c.Kind, c.Status)));
            Assert.Empty((await harness.AuditAsync()).GetProperty("violations").EnumerateArray());
        });
    }

    /// <summary>
    /// A session of 10 requests' worth with one request served, then one whose confirm is made but never answered: Redis
    /// pauses writers while the upstream answers, so the gate's confirm waits in Redis, times out at the gate (whose clock
    /// passes the patience) and runs when the pause ends. The client had a 503; its debit is in the ledger, its void owed.
    /// </summary>
    async Task WithLostConfirmAsync(Func<SessionGateHarness, string, string, Task> then)
    {
        var data = Path.Combine(Path.GetTempPath(), $"redis-pause-{Guid.NewGuid():N}");
        var redis = await LocalRedisServer.StartAsync(new LocalRedisOptions { DataDirectory = data }, Ct);
        try
        {
            await using var harness = await SessionGateHarness.StartAsync(infrastructure,
                new() { ["ConnectionStrings:redis"] = redis.ConnectionString + ",asyncTimeout=1000,syncTimeout=1000" });
            var payer = await harness.FundedPayerAsync();
            var (id, token, _) = await harness.OpenAsync(payer, 10 * GetPrice);
            using (var served = await harness.WithTokenAsync(HttpMethod.Get, "/api/content/first", token))
                Assert.Equal(HttpStatusCode.OK, served.StatusCode);
            await using var admin = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
            var paused = Task.CompletedTask;
            harness.Upstream.OnCall = async () =>
            {
                harness.Upstream.OnCall = null;
                await admin.GetDatabase().ExecuteAsync("CLIENT", "PAUSE", "3000", "WRITE");
                paused = Task.Delay(TimeSpan.FromSeconds(3.5), Ct);
                // Once the confirm is sent, the gate's clock passes its patience.
                _ = Task.Delay(300, Ct).ContinueWith(_ => harness.Clock.Advance(TimeSpan.FromSeconds(11)), TaskScheduler.Default);
            };

            using (var response = await harness.WithTokenAsync(HttpMethod.Get, "/api/content/lost", token))
            {
                var body = await response.Content.ReadAsStringAsync(Ct);
                Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"{(int)response.StatusCode}: {body}");
                Assert.Equal("session-debit-unconfirmed", JsonDocument.Parse(body).RootElement.GetProperty("code").GetString());
                Assert.Contains("credited back", body);
            }
            await paused;
            await harness.FoldedAsync();
            Assert.Equal(2, await harness.LedgerCountAsync(id, "debit"));   // the confirm ran when the pause ended
            Assert.Equal([(CompensationKinds.SessionDebitVoid, "pending")], (await harness.CompensationsAsync()).Select(c => (c.Kind, c.Status)));
            await then(harness, id, token);
        }
        finally
        {
            await redis.DisposeAsync();
            Directory.Delete(data, recursive: true);
        }
    }

    /// <summary>Applies the owed voids once Redis answers again and folds them; returns how many there were.</summary>
    static async Task<int> VoidsAppliedAsync(SessionGateHarness harness)
    {
        for (var attempt = 0; ; attempt++)
        {
            await harness.RetryCompensationsNowAsync();
            var voids = (await harness.CompensationsAsync()).Where(c => c.Kind == CompensationKinds.SessionDebitVoid).ToList();
            if (voids.All(c => c.Status == "done"))
            {
                await harness.FoldedAsync();
                return voids.Count;
            }
            Assert.True(attempt < 100, $"voids not applied: {string.Join("; ", voids.Select(c => $"{c.Key} {c.Status} {c.Outcome}"))}");
            await Task.Delay(200, Ct);
        }
    }
}
