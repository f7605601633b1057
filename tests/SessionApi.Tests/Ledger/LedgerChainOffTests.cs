using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Sessions.ServiceDefaults.Ledger;
using Sessions.Testing;
using SessionApi.Tests.Sessions;

namespace SessionApi.Tests.Ledger;

// Ledger:Chain:Enabled false (the benchmark's RECEIPTS=off, or an operator who does not want the chain): the background chainer
// does not run, so a debit adds no chain entry; the rows keep their xid stamps and a chainer that runs later chains them all.
public sealed class LedgerChainOffTests(InfrastructureFixture infrastructure) : IAsyncLifetime
{
    SessionHarness _api = null!;

    public async ValueTask InitializeAsync() =>
        _api = await SessionHarness.StartAsync(infrastructure, extra: new() { ["Ledger:Chain:Enabled"] = "false" });

    public ValueTask DisposeAsync() => _api.DisposeAsync();

    static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_debit_is_not_chained_while_the_chain_is_off_and_is_chained_by_a_later_pass()
    {
        var chainer = _api.Services.GetRequiredService<LedgerChainer>();
        var id = (await _api.OpenAsync("5000")).Str("id");
        Assert.True(await _api.SpendAsync(id, "1000"));

        // The chainer runs at start and every second when on: three intervals without an entry.
        await Task.Delay(chainer.Options.Interval * 3, Cancel);
        Assert.Equal(0L, await _api.ScalarAsync<long>("SELECT count(*) FROM ledger_chain"));
        Assert.Equal(2L, await chainer.UnchainedAsync(Cancel));   // the deposit and the debit

        await chainer.ChainAllAsync();
        Assert.Equal(["deposit", "debit"], await KindsAsync());
        using var request = new HttpRequestMessage(HttpMethod.Get, "/admin/ledger/verify");
        request.Headers.Add("X-Admin-Key", SessionHarness.AdminKey);
        using var response = await _api.Client.SendAsync(request, Cancel);
        Assert.True((await SessionHarness.JsonAsync(response, HttpStatusCode.OK)).GetProperty("valid").GetBoolean());
    }

    async Task<List<string>> KindsAsync()
    {
        var kinds = await _api.ScalarAsync<string[]>("SELECT array_agg(kind ORDER BY position) FROM ledger_chain");
        return [.. kinds];
    }
}
