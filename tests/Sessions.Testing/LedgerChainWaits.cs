using Sessions.ServiceDefaults.Ledger;
using Xunit;

namespace Sessions.Testing;

public static class LedgerChainWaits
{
    /// <summary>
    /// Chains until every movement written so far is in the chain. A pass chains only below the oldest transaction running in
    /// the whole Postgres cluster, and the suite's other tests share that cluster: one pass may leave rows for the next.
    /// </summary>
    public static async Task ChainAllAsync(this LedgerChainer chainer)
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            await chainer.ChainAsync(cancellationToken);
            if (await chainer.UnchainedAsync(cancellationToken) == 0) return;
            Assert.True(DateTime.UtcNow < deadline, "the ledger chain did not catch up within 30 s");
            await Task.Delay(20, cancellationToken);
        }
    }
}
