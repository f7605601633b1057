using Microsoft.Extensions.Time.Testing;
using Sessions.Client;
using Sessions.Payments;
using Sessions.Payments.X402;

namespace Client.Tests;

// The spend controls without a server: each limit refuses with its SpendLimit and amounts; reservations under a race never
// take a budget past its limit.
public sealed class SpendLedgerTests
{
    const string Host = "api.example.com";
    static readonly Sessions.Payments.Crypto.EvmAddress Usdc = KnownAssets.UsdcBaseSepolia.Address;

    static AtomicAmount A(long value) => new(value);

    [Fact]
    public void Each_static_limit_refuses_with_its_name_and_amounts()
    {
        var ledger = new SpendLedger(new SpendPolicy
        {
            MaxPerPayment = A(5000), AllowedNetworks = ["base-sepolia"], AllowedAssets = [Usdc.ToLowerHex()],
        });

        var price = Assert.Throws<PaymentRefusedException>(() => ledger.Reserve(Host, Networks.BaseSepolia, Usdc, A(5001)));
        Assert.Equal((SpendLimit.PerPayment, A(5001), A(5000)), (price.Limit, price.Amount, price.LimitAmount!.Value));
        Assert.Equal(SpendLimit.Network, Assert.Throws<PaymentRefusedException>(() => ledger.Reserve(Host, Networks.Base, Usdc, A(1))).Limit);
        Assert.Equal(SpendLimit.Asset, Assert.Throws<PaymentRefusedException>(() =>
            ledger.Reserve(Host, Networks.BaseSepolia, KnownAssets.UsdcBase.Address, A(1))).Limit);
        Assert.Equal(A(0), ledger.Spent());

        ledger.Reserve(Host, Networks.BaseSepolia, Usdc, A(5000));   // "base-sepolia" and "eip155:84532" are one network
        Assert.Equal(A(5000), ledger.Spent(Host));
    }

    [Fact]
    public void Host_and_window_budgets_count_what_is_held_and_free_up_when_released_or_when_the_window_passes()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.Parse("2026-12-06T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var ledger = new SpendLedger(new SpendPolicy { MaxPerHost = A(3000), MaxPerWindow = A(4000), Window = TimeSpan.FromMinutes(10) }, clock);

        var first = ledger.Reserve(Host, Networks.BaseSepolia, Usdc, A(2000));
        ledger.Reserve(Host, Networks.BaseSepolia, Usdc, A(1000));
        var host = Assert.Throws<PaymentRefusedException>(() => ledger.Reserve(Host, Networks.BaseSepolia, Usdc, A(1)));
        Assert.Equal((SpendLimit.HostBudget, A(3000), A(3000)), (host.Limit, host.LimitAmount!.Value, host.AlreadySpent!.Value));

        ledger.Reserve("other.example.com", Networks.BaseSepolia, Usdc, A(1000));
        var window = Assert.Throws<PaymentRefusedException>(() => ledger.Reserve("third.example.com", Networks.BaseSepolia, Usdc, A(1)));
        Assert.Equal((SpendLimit.WindowBudget, A(4000), A(4000)), (window.Limit, window.LimitAmount!.Value, window.AlreadySpent!.Value));

        first.Release();
        first.Release();   // twice is once
        Assert.Equal(A(2000), ledger.Spent());
        ledger.Reserve(Host, Networks.BaseSepolia, Usdc, A(2000));

        clock.Advance(TimeSpan.FromMinutes(10));
        Assert.Equal(A(0), ledger.Spent());
        ledger.Reserve(Host, Networks.BaseSepolia, Usdc, A(3000));
    }

    [Fact]
    public async Task Racing_reservations_never_exceed_the_budget()
    {
        var ledger = new SpendLedger(new SpendPolicy { MaxPerHost = A(25_000) });
        var granted = 0;
        await Parallel.ForAsync(0, 400, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = TestContext.Current.CancellationToken }, (_, _) =>
        {
            try
            {
                ledger.Reserve(Host, Networks.BaseSepolia, Usdc, A(1000));
                Interlocked.Increment(ref granted);
            }
            catch (PaymentRefusedException refusal) when (refusal.Limit == SpendLimit.HostBudget) { }
            return ValueTask.CompletedTask;
        });

        Assert.Equal(A(granted * 1000L), ledger.Spent(Host));
        Assert.Equal(25, granted);
    }
}
