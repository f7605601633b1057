using System.Numerics;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Sessions.PaymentGate.Facilitator;
using Sessions.PaymentGate.Facilitator.Local;
using Sessions.Payments.X402;
using Sessions.Testing;

namespace PaymentGate.Tests.Facilitator;

// Settlements credit the payee through the journal token_credits (migration 0008), folded into token_accounts later: the
// balances must be exact whether a credit is folded or not, and every credit folded exactly once.
public sealed class LedgerCreditJournalTests(InfrastructureFixture infrastructure) : IAsyncLifetime
{
    static readonly LedgerToken Usdc = new(KnownAssets.UsdcBaseSepolia.Address.ToLowerHex(), Networks.BaseSepolia);

    string _connectionString = "";
    GateFactory _factory = null!;
    TokenLedger _ledger = null!;
    IFacilitatorClient _facilitator = null!;

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _connectionString = await infrastructure.CreateDatabaseAsync("gatedb");
        // The background folder off (a day apart): the tests fold when they say so, also concurrently with settlements.
        _factory = new GateFactory(new Dictionary<string, string?>
        {
            ["ConnectionStrings:gatedb"] = _connectionString,
            ["Facilitator:Local:CreditFoldInterval"] = "1.00:00:00",
        });
        _ledger = _factory.Services.GetRequiredService<TokenLedger>();
        _facilitator = _factory.Services.GetRequiredService<IFacilitatorClient>();
    }

    public ValueTask DisposeAsync() => _factory.DisposeAsync();

    [Fact]
    public async Task Settlements_to_one_merchant_are_journal_rows_and_folds_running_meanwhile_move_each_exactly_once()
    {
        var merchant = new TestPayer();
        var payers = Enumerable.Range(0, 8).Select(_ => new TestPayer()).ToArray();
        foreach (var payer in payers)
            await MintAsync(payer.Lower, 100000);
        var requests = payers.SelectMany(p => Enumerable.Range(0, 5).Select(i => TestPayer.ToSettle(TestPayer.V2(
            p.Sign(value: 1000 + i, to: merchant.Address.ToString()), TestPayer.Requirements(amount: (1000 + i).ToString(), payTo: merchant.Address.ToString())))));

        using var stop = new CancellationTokenSource();
        var folding = Task.Run(async () =>
        {
            var passes = 0;
            while (!stop.IsCancellationRequested)
            {
                await _ledger.FoldCreditsAsync(Ct);
                passes++;
            }
            return passes;
        }, Ct);
        var results = await Task.WhenAll(requests.Select(r => Task.Run(() => _facilitator.SettleAsync(r, Ct), Ct)));
        await stop.CancelAsync();
        Assert.True(await folding > 0);

        Assert.All(results, r => Assert.True(r.Success, r.ErrorMessage));
        const long total = 8 * (1000 + 1001 + 1002 + 1003 + 1004);
        Assert.Equal(total, (long)await _ledger.GetBalanceAsync(merchant.Lower, Usdc, Ct));   // folded or not, the same
        Assert.All(payers, p => Assert.Equal(100000 - 5010, (long)_ledger.GetBalanceAsync(p.Lower, Usdc, Ct).GetAwaiter().GetResult()));

        await _ledger.FoldCreditsAsync(Ct);
        var (row, journal, transferred) = await StoredAsync(merchant.Lower);
        Assert.Equal((total, 0L, total), (row, journal, transferred));
        Assert.Equal(total, (long)await _ledger.GetBalanceAsync(merchant.Lower, Usdc, Ct));
    }

    [Fact]
    public async Task Unfolded_credits_verify_settle_onward_and_pay_refunds()
    {
        var merchant = new TestPayer();
        var payer = new TestPayer();
        var next = new TestPayer();
        await MintAsync(payer.Lower, 50000);
        foreach (var value in new[] { 10000, 20000 })
        {
            var paid = await _facilitator.SettleAsync(TestPayer.ToSettle(TestPayer.V2(payer.Sign(value: value, to: merchant.Address.ToString()),
                TestPayer.Requirements(amount: value.ToString(), payTo: merchant.Address.ToString()))), Ct);
            Assert.True(paid.Success, paid.ErrorMessage);
        }
        Assert.Equal((0L, 30000L, 30000L), await StoredAsync(merchant.Lower));   // no row yet: all in the journal

        // The merchant spends its unfolded takings: verify counts them, settle folds them under the merchant's row lock.
        var onward = TestPayer.V2(merchant.Sign(value: 25000, to: next.Address.ToString()),
            TestPayer.Requirements(amount: "25000", payTo: next.Address.ToString()));
        var verified = await _facilitator.VerifyAsync(onward, Ct);
        Assert.True(verified.IsValid, verified.InvalidMessage);
        var settled = await _facilitator.SettleAsync(TestPayer.ToSettle(onward), Ct);
        Assert.True(settled.Success, settled.ErrorMessage);
        Assert.Equal((5000L, 0L, 30000L), await StoredAsync(merchant.Lower));
        Assert.Equal(25000, (long)await _ledger.GetBalanceAsync(next.Lower, Usdc, Ct));

        // A refund by the merchant of the next payer, whose balance is journal only: folded first, then debited.
        Assert.False(await _ledger.RefundAsync(Usdc, next.Lower, payer.Lower, 25001, "0x" + new string('1', 64), Ct));
        Assert.True(await _ledger.RefundAsync(Usdc, next.Lower, payer.Lower, 25000, "0x" + new string('2', 64), Ct));
        Assert.Equal(0, (long)await _ledger.GetBalanceAsync(next.Lower, Usdc, Ct));
        Assert.Equal(50000 - 30000 + 25000, (long)await _ledger.GetBalanceAsync(payer.Lower, Usdc, Ct));
        // The faucet answers the whole balance, journal included.
        await SettleToAsync(payer, next, 700);
        Assert.Equal(1700, (long)await _ledger.MintAsync(Usdc, next.Lower, 1000, "0x" + new string('3', 64), Ct));
    }

    async Task SettleToAsync(TestPayer from, TestPayer to, int value)
    {
        var settled = await _facilitator.SettleAsync(TestPayer.ToSettle(TestPayer.V2(from.Sign(value: value, to: to.Address.ToString()),
            TestPayer.Requirements(amount: value.ToString(), payTo: to.Address.ToString()))), Ct);
        Assert.True(settled.Success, settled.ErrorMessage);
    }

    Task MintAsync(string address, long value) =>
        _ledger.MintAsync(Usdc, address, value, "0x" + Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()).PadLeft(64, '0'), Ct);

    // (the account's row balance, its unfolded journal credits, the sum of all transfers ever made to it)
    async Task<(long Row, long Journal, long Transferred)> StoredAsync(string address)
    {
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync(Ct);
        await using var command = new NpgsqlCommand("""
            SELECT coalesce((SELECT balance FROM token_accounts WHERE address = $1), 0)::bigint,
                   coalesce((SELECT sum(value) FROM token_credits WHERE address = $1), 0)::bigint,
                   coalesce((SELECT sum(value) FROM token_transfers WHERE to_address = $1 AND kind = 'transfer'), 0)::bigint
            """, connection);
        command.Parameters.Add(new() { Value = address });
        await using var reader = await command.ExecuteReaderAsync(Ct);
        await reader.ReadAsync(Ct);
        return (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2));
    }
}
