using Sessions.Testing;
using static SessionApi.Tests.Sessions.SessionHarness;
using static Sessions.Testing.ServiceHarness<Program>;

namespace SessionApi.Tests.Sessions;

// The ledger under concurrent folds: 500 concurrent debits against a balance that covers 50 write exactly 50 (the gate's own
// storm, 500 requests for 50, is SessionGateTests and SessionScaleTests), and folds racing top-ups and a close reconcile.
public sealed class ConcurrencyTests(InfrastructureFixture infrastructure) : IAsyncLifetime
{
    SessionHarness _api = null!;

    public async ValueTask InitializeAsync() => _api = await StartAsync(infrastructure);

    public ValueTask DisposeAsync() => _api.DisposeAsync();

    [Fact]
    public async Task Five_hundred_concurrent_folds_on_a_balance_for_fifty_apply_exactly_fifty()
    {
        const int price = 1000;
        var id = (await _api.OpenAsync((50 * price).ToString())).Str("id");

        using var start = new SemaphoreSlim(0);
        var requests = Enumerable.Range(0, 500).Select(async i =>
        {
            await start.WaitAsync(TestContext.Current.CancellationToken);
            return await _api.SpendAsync(id, price.ToString(), key: $"req_{i}");
        }).ToList();
        start.Release(500);
        var applied = await Task.WhenAll(requests);

        Assert.Equal(50, applied.Count(debited => debited));
        var session = await _api.GetAsync(id);
        Assert.Equal("0", session.Str("balance"));
        Assert.Equal("50000", session.Str("spent"));
        Assert.Equal("DEPLETED", session.Str("state"));
        Assert.Equal(50, session.GetProperty("requestCount").GetInt64());
        Assert.Equal(50L, await _api.ScalarAsync<long>("SELECT count(*) FROM session_ledger WHERE session_id = $1 AND kind = 'debit'", id));

        var report = await _api.AuditAsync();
        Assert.Equal(1, report.GetProperty("checked").GetInt32());
        Assert.Empty(report.GetProperty("violations").EnumerateArray());
    }

    [Fact]
    public async Task Concurrent_folds_across_sessions_and_top_ups_reconcile_and_a_corrupted_row_does_not()
    {
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
            ids.Add((await _api.OpenAsync("20000")).Str("id"));

        var work = ids.SelectMany((id, s) => Enumerable.Range(0, 40).Select(async i =>
        {
            // Some batches carry two sessions' debits, as the folder sends a payer's debits together.
            object[] debits = i % 5 == 0 ? [_api.Debit(id, $"req_{s}_{i}", "700"), _api.Debit(ids[(s + 1) % ids.Count], $"req_{s}_{i}_next", "300")]
                : [_api.Debit(id, $"req_{s}_{i}", "700")];
            await _api.FoldAsync(debits);
            if (i == 20)
                (await _api.PostAsync($"/internal/sessions/{id}/topups", new { amount = "3000", paymentId = $"pay_{s}" })).Dispose();
        }));
        await Task.WhenAll(work);
        (await _api.PostAsync($"/internal/sessions/{ids[0]}/close", new { method = "ledger" })).Dispose();

        var clean = await _api.AuditAsync();
        Assert.Equal(5, clean.GetProperty("checked").GetInt32());
        Assert.Empty(clean.GetProperty("violations").EnumerateArray());

        // Row-consistent (the CHECK constraint holds) but no longer what the ledger says.
        await _api.ExecuteAsync($"UPDATE sessions SET balance = balance + 5, spent = spent - 5 WHERE id = '{ids[1]}'");
        var broken = await _api.AuditAsync();
        var violations = broken.GetProperty("violations").EnumerateArray().ToList();
        Assert.NotEmpty(violations);
        Assert.All(violations, violation => Assert.Equal(ids[1], violation.Str("sessionId")));
        Assert.Contains(violations, violation => violation.Str("check") == "ledger debits - credits = spent");
    }
}
