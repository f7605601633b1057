using System.Numerics;
using Sessions.PaymentGate.Sessions;
using Sessions.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Sessions.PaymentGate.Pricing;
using StackExchange.Redis;

namespace PaymentGate.Tests.Sessions;

// The gate's Redis side of session debits (docs/design/session-debits.md) on a real redis-server: holds never overspend,
// whatever the concurrency; a confirm is a debit with its stream entry; releases and the sweeper give holds back.
public sealed class SessionBalancesTests(InfrastructureFixture infrastructure) : IAsyncDisposable
{
    readonly ConnectionMultiplexer _connection = ConnectionMultiplexer.Connect(infrastructure.RedisConnectionString);

    SessionBalances Balances => new(new ServiceCollection().AddSingleton<IConnectionMultiplexer>(_connection).BuildServiceProvider(),
        Options.Create(new GateOptions { Sessions = new() { RedisKeyPrefix = _prefix } }));

    // Every test class has its own keys, as every stack does.
    readonly string _prefix = $"gate-{Guid.NewGuid():N}:";

    static DateTimeOffset Now => DateTimeOffset.UtcNow;

    static string NewTokenHash() => Convert.ToHexStringLower(Guid.NewGuid().ToByteArray());

    static SessionBalance Session(BigInteger credited, BigInteger? spent = null, TimeSpan? expiresIn = null, string kind = "prepaid") =>
        new("ses_" + Guid.NewGuid().ToString("N"), "0x1111111111111111111111111111111111111111", "demo", kind,
            DateTimeOffset.UtcNow + (expiresIn ?? TimeSpan.FromHours(1)), credited, spent ?? BigInteger.Zero);

    // The token hash a hold names the session by; confirm, release, close and totals use the session id.
    async Task<(string TokenHash, string Id)> InstalledAsync(SessionBalance session)
    {
        var tokenHash = NewTokenHash();
        Assert.True(await Balances.InstallAsync(tokenHash, session));
        return (tokenHash, session.Id);
    }

    // A request served: its price held, then confirmed (a debit with its stream entry).
    async Task DebitedAsync(string tokenHash, string id, string requestId, BigInteger price)
    {
        await Balances.HoldAsync(tokenHash, "demo", requestId, price, Now);
        await Balances.ConfirmAsync(id, requestId, "r", Now);
    }

    [Fact]
    public async Task A_confirmed_hold_is_a_debit_with_its_stream_entry()
    {
        var session = Session(credited: 1000, spent: 100);
        var (tokenHash, id) = await InstalledAsync(session);

        var hold = await Balances.HoldAsync(tokenHash, "demo", "req_1", 250, Now);
        var confirm = await Balances.ConfirmAsync(id, "req_1", "content", Now);

        Assert.Equal(new HoldResult(HoldStatus.Held, session.Id, 650, session.Payer), hold);
        Assert.Equal(new SettleResult(SettleStatus.Done, session.Id, 650, Amount: 250), confirm);
        var entry = (await _connection.GetDatabase().StreamRangeAsync(Balances.StreamKey, "-", "+"))
            .Last(e => e["key"] == "req_1" && e["session"] == session.Id);
        Assert.Equal("250", (string?)entry["amount"]);
        Assert.Equal("content", (string?)entry["route"]);
        Assert.True(long.Parse((string)entry["at"]!) > 0);
        // Settled once: a second confirm or a release finds no hold.
        Assert.Equal(SettleStatus.Unknown, (await Balances.ConfirmAsync(id, "req_1", "content", Now)).Status);
        Assert.Equal(SettleStatus.Unknown, (await Balances.ReleaseAsync(id, "req_1")).Status);
    }

    [Fact]
    public async Task A_released_hold_gives_the_price_back_and_writes_no_debit()
    {
        var session = Session(credited: 1000);
        var (tokenHash, id) = await InstalledAsync(session);
        var before = await _connection.GetDatabase().StreamLengthAsync(Balances.StreamKey);

        await Balances.HoldAsync(tokenHash, "demo", "req_1", 400, Now);
        var release = await Balances.ReleaseAsync(id, "req_1");

        Assert.Equal(new SettleResult(SettleStatus.Done, session.Id, 1000), release);
        Assert.Equal(SettleStatus.Unknown, (await Balances.ConfirmAsync(id, "req_1", "content", Now)).Status);
        Assert.Equal(before, await _connection.GetDatabase().StreamLengthAsync(Balances.StreamKey));
    }

    [Fact]
    public async Task Five_hundred_concurrent_holds_on_fifty_prices_hold_exactly_fifty()
    {
        var (tokenHash, id) = await InstalledAsync(Session(credited: 50 * 1000));

        var holds = await Task.WhenAll(Enumerable.Range(0, 500).Select(i => Balances.HoldAsync(tokenHash, "demo", $"req_{i}", 1000, Now)));

        Assert.Equal(50, holds.Count(h => h.Status == HoldStatus.Held));
        Assert.Equal(450, holds.Count(h => h.Status == HoldStatus.Insufficient));
        Assert.All(holds.Where(h => h.Status == HoldStatus.Insufficient), h => Assert.Equal(BigInteger.Zero, h.Balance));
        // Half confirmed, half released: the released half can be held again, and only it.
        var held = Enumerable.Range(0, 500).Where(i => holds[i].Status == HoldStatus.Held).ToList();
        await Task.WhenAll(held.Select((i, n) => n % 2 == 0 ? Balances.ConfirmAsync(id, $"req_{i}", "r", Now) : Balances.ReleaseAsync(id, $"req_{i}")));
        var again = await Task.WhenAll(Enumerable.Range(500, 100).Select(i => Balances.HoldAsync(tokenHash, "demo", $"req_{i}", 1000, Now)));
        Assert.Equal(25, again.Count(h => h.Status == HoldStatus.Held));
    }

    [Fact]
    public async Task A_hold_says_whether_the_payer_is_a_mandated_agent()
    {
        var agent = "0x" + Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()) + "00000000";
        var (tokenHash, _) = await InstalledAsync(Session(credited: 1000) with { Payer = agent });
        Assert.False((await Balances.HoldAsync(tokenHash, "demo", "req_1", 1, Now)).Mandated);

        await _connection.GetDatabase().SetAddAsync(Balances.MandatedAgentsKey, agent);

        Assert.True((await Balances.HoldAsync(tokenHash, "demo", "req_2", 1, Now)).Mandated);
    }

    [Fact]
    public async Task The_same_request_cannot_hold_twice()
    {
        var (tokenHash, id) = await InstalledAsync(Session(credited: 1000));

        await Balances.HoldAsync(tokenHash, "demo", "req_1", 100, Now);
        var second = await Balances.HoldAsync(tokenHash, "demo", "req_1", 100, Now);

        Assert.Equal(HoldStatus.Duplicate, second.Status);
        Assert.Equal(900, second.Balance);
    }

    [Fact]
    public async Task Unknown_expired_and_closed_sessions_hold_nothing()
    {
        var (expired, _) = await InstalledAsync(Session(credited: 1000, expiresIn: TimeSpan.FromSeconds(-1)));
        var (closed, closedId) = await InstalledAsync(Session(credited: 1000, spent: 100));
        await Balances.HoldAsync(closed, "demo", "req_in_flight", 300, Now);

        var close = await Balances.CloseAsync(closedId);

        Assert.Equal(HoldStatus.Unknown, (await Balances.HoldAsync(NewTokenHash(), "demo", "req_1", 1, Now)).Status);
        Assert.Equal(HoldStatus.Unknown, (await Balances.HoldAsync(expired, "another-org", "req_1", 1, Now)).Status);
        Assert.Equal(HoldStatus.Expired, (await Balances.HoldAsync(expired, "demo", "req_1", 1, Now)).Status);
        Assert.Equal(HoldStatus.Closed, (await Balances.HoldAsync(closed, "demo", "req_1", 1, Now)).Status);
        Assert.Equal(new SessionTotals(300, 100, 100), close);
        // A request held before the close still settles: it was accepted while the session was open.
        Assert.Equal(new SettleResult(SettleStatus.Done, closedId, 600, Amount: 300), await Balances.ConfirmAsync(closedId, "req_in_flight", "r", Now));
        Assert.Equal(new SessionTotals(0, 400, 100, 1, 0), await Balances.TotalsAsync(closedId));
        Assert.Null(await Balances.CloseAsync("ses_unknown"));
    }

    [Fact]
    public async Task The_sweeper_releases_holds_nobody_settled()
    {
        var session = Session(credited: 1000);
        var (tokenHash, id) = await InstalledAsync(session);
        await Balances.HoldAsync(tokenHash, "demo", "req_dead_gate", 600, Now);

        Assert.Equal(0, await Balances.SweepAsync(Now - TimeSpan.FromMinutes(1)));   // too young
        var swept = await Balances.SweepAsync(Now + TimeSpan.FromMilliseconds(1));

        Assert.True(swept >= 1);
        Assert.Equal(SettleStatus.Unknown, (await Balances.ConfirmAsync(id, "req_dead_gate", "r", Now)).Status);
        Assert.Equal(1000, (await Balances.HoldAsync(tokenHash, "demo", "req_next", 0, Now)).Balance);
    }

    [Fact]
    public async Task A_pass_request_holds_and_confirms_zero()
    {
        var (tokenHash, id) = await InstalledAsync(Session(credited: 0, kind: "pass"));

        Assert.Equal(HoldStatus.Held, (await Balances.HoldAsync(tokenHash, "demo", "req_1", 0, Now)).Status);
        Assert.Equal(SettleStatus.Done, (await Balances.ConfirmAsync(id, "req_1", "r", Now)).Status);
        Assert.Equal(HoldStatus.Held, (await Balances.HoldAsync(tokenHash, "demo", "req_2", 0, Now)).Status);
        Assert.Equal(SettleStatus.Done, (await Balances.ReleaseAsync(id, "req_2")).Status);
    }

    [Fact]
    public async Task Credited_only_grows_and_a_second_install_keeps_the_gates_copy()
    {
        var session = Session(credited: 1000);
        var (tokenHash, id) = await InstalledAsync(session);
        await DebitedAsync(tokenHash, id, "req_1", 1000);

        Assert.False(await Balances.InstallAsync(tokenHash, session));   // SessionApi's older view: ignored
        Assert.True(await Balances.RaiseCreditedAsync(id, 1500));   // a top-up of 500
        Assert.False(await Balances.RaiseCreditedAsync(id, 1200));  // an older answer
        Assert.Equal(500, (await Balances.HoldAsync(tokenHash, "demo", "req_2", 0, Now)).Balance);
        Assert.False(await Balances.RaiseCreditedAsync("ses_unknown", 1));
    }

    [Fact]
    public async Task A_top_up_reported_before_the_session_was_loaded_still_counts()
    {
        // The load read SessionApi before the top-up committed and installs after the gate reported it.
        var session = Session(credited: 1000);
        Assert.False(await Balances.RaiseCreditedAsync(session.Id, 1500));
        var (tokenHash, _) = await InstalledAsync(session);

        Assert.Equal(1500, (await Balances.HoldAsync(tokenHash, "demo", "req_1", 0, Now)).Balance);
        Assert.Equal(new SessionRef(session.Id, session.Payer, "demo", 1500), await Balances.FindAsync(tokenHash));
        Assert.Null(await Balances.FindAsync(NewTokenHash()));
    }

    [Fact]
    public async Task Amounts_beyond_exact_doubles_are_refused_and_big_ones_stay_exact()
    {
        var max = SessionBalances.MaxAmount;
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Balances.InstallAsync(NewTokenHash(), Session(credited: max + 1)));
        var (tokenHash, id) = await InstalledAsync(Session(credited: max));

        var hold = await Balances.HoldAsync(tokenHash, "demo", "req_1", max - 1, Now);

        Assert.Equal(new BigInteger(1), hold.Balance);
        Assert.Equal(new SettleResult(SettleStatus.Done, hold.SessionId, 1, Amount: 9007199254740990), await Balances.ConfirmAsync(id, "req_1", "r", Now));
    }

    [Fact]
    public async Task Folded_debits_are_read_once_per_consumer_group_and_acknowledged_once()
    {
        var (tokenHash, id) = await InstalledAsync(Session(credited: 1000));
        foreach (var key in new[] { "req_f1", "req_f2" })
        {
            await DebitedAsync(tokenHash, id, key, 100);
        }

        var read = await Balances.ReadForFoldAsync("gate-a", 10_000, TimeSpan.FromMinutes(1));
        var mine = read.Where(d => d.SessionId == id).ToList();
        var again = await Balances.ReadForFoldAsync("gate-a", 10_000, TimeSpan.FromMinutes(1));   // own pending, not acked yet
        var other = await Balances.ReadForFoldAsync("gate-b", 10_000, TimeSpan.FromMinutes(1));   // not idle long enough to claim

        Assert.Equal(["req_f1", "req_f2"], mine.Select(d => d.Key));
        Assert.All(mine, d => Assert.Equal((BigInteger)100, d.Amount));
        Assert.Equal(2, again.Count(d => d.SessionId == id));
        Assert.DoesNotContain(other, d => d.SessionId == id);
        Assert.Equal(2, await Balances.AckFoldedAsync(mine));
        Assert.Equal(0, await Balances.AckFoldedAsync(mine));   // a second ack raises nothing
        Assert.Equal(new SessionTotals(0, 200, 200, 2, 2), await Balances.TotalsAsync(id));
        Assert.DoesNotContain(await Balances.ReadForFoldAsync("gate-a", 10_000, TimeSpan.FromMinutes(1)), d => d.SessionId == id);
    }

    [Fact]
    public async Task A_dead_gates_unacknowledged_debits_are_claimed_by_another()
    {
        var (tokenHash, id) = await InstalledAsync(Session(credited: 1000));
        await DebitedAsync(tokenHash, id, "req_dead", 100);
        Assert.Contains(await Balances.ReadForFoldAsync("gate-dead", 10_000, TimeSpan.FromMinutes(1)), d => d.SessionId == id);
        await Task.Delay(50, TestContext.Current.CancellationToken);

        var claimed = await Balances.ReadForFoldAsync("gate-alive", 10_000, TimeSpan.FromMilliseconds(20));

        var debit = Assert.Single(claimed, d => d.SessionId == id);
        Assert.Equal(1, await Balances.AckFoldedAsync([debit]));
    }

    [Fact]
    public async Task A_void_releases_a_hold_still_there_and_otherwise_follows_the_debit_on_the_stream()
    {
        var session = Session(credited: 1000);
        var (tokenHash, id) = await InstalledAsync(session);
        await Balances.HoldAsync(tokenHash, "demo", "req_unconfirmed", 100, Now);
        await DebitedAsync(tokenHash, id, "req_confirmed", 200);

        Assert.Equal(VoidOutcome.Released, await Balances.VoidAsync(id, "req_unconfirmed", session.Payer, "demo", Now));
        Assert.Equal(VoidOutcome.Queued, await Balances.VoidAsync(id, "req_confirmed", session.Payer, "demo", Now));
        // Applied again (a retry after a lost reply, another gate): the first outcome, nothing more on the stream.
        Assert.Equal(VoidOutcome.Released, await Balances.VoidAsync(id, "req_unconfirmed", session.Payer, "demo", Now));
        Assert.Equal(VoidOutcome.Queued, await Balances.VoidAsync(id, "req_confirmed", session.Payer, "demo", Now));

        var read = (await Balances.ReadForFoldAsync("gate-v", 10_000, TimeSpan.FromMinutes(1))).Where(d => d.SessionId == id).ToList();
        Assert.Equal([("req_confirmed", false, (BigInteger)200), ("req_confirmed", true, BigInteger.Zero)], read.Select(d => (d.Key, d.Void, d.Amount)));
        Assert.Equal(new SessionTotals(0, 200, 0, 2, 0), await Balances.TotalsAsync(id));
        // SessionApi credited the debit back: spent and folded both lose it, the balance is whole again.
        Assert.Equal(2, await Balances.AckFoldedAsync(read, new(new Dictionary<string, BigInteger> { ["req_confirmed"] = 200 }, new HashSet<string>())));
        Assert.Equal(new SessionTotals(0, 0, 0, 2, 2), await Balances.TotalsAsync(id));
        Assert.Equal(1000, await Balances.BalanceAsync(id));
    }

    [Fact]
    public async Task A_debit_whose_void_was_folded_first_is_taken_off_spent_when_acknowledged()
    {
        var session = Session(credited: 1000);
        var (tokenHash, id) = await InstalledAsync(session);
        await DebitedAsync(tokenHash, id, "req_late", 300);
        await Balances.VoidAsync(id, "req_late", session.Payer, "demo", Now);
        var read = (await Balances.ReadForFoldAsync("gate-w", 10_000, TimeSpan.FromMinutes(1))).Where(d => d.SessionId == id).ToList();
        var (debit, voidEntry) = (read.Single(d => !d.Void), read.Single(d => d.Void));

        // Folded in the other order (the debit was another gate's, claimed late): the void found nothing, the debit was kept out.
        await Balances.AckFoldedAsync([voidEntry], new(new Dictionary<string, BigInteger> { ["req_late"] = 0 }, new HashSet<string>()));
        await Balances.AckFoldedAsync([debit], new(new Dictionary<string, BigInteger>(), new HashSet<string> { "req_late" }));

        Assert.Equal(new SessionTotals(0, 0, 0, 2, 2), await Balances.TotalsAsync(id));
        Assert.Equal(1000, await Balances.BalanceAsync(id));
    }

    public async ValueTask DisposeAsync() => await _connection.DisposeAsync();
}
