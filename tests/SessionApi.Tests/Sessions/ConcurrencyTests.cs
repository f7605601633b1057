using System.Net;
using Sessions.Testing;
using static SessionApi.Tests.Sessions.SessionHarness;
using static Sessions.Testing.ServiceHarness<Program>;

namespace SessionApi.Tests.Sessions;

// The acceptance figure: 500 concurrent debits against a balance that covers 50 serve exactly 50.
public sealed class ConcurrencyTests(InfrastructureFixture infrastructure) : IAsyncLifetime
{
    SessionHarness _api = null!;

    public async ValueTask InitializeAsync() => _api = await StartAsync(infrastructure);

    public ValueTask DisposeAsync() => _api.DisposeAsync();

    [Fact]
    public async Task Five_hundred_concurrent_debits_on_a_balance_for_fifty_debit_exactly_fifty()
    {
        const int price = 1000;
        var id = (await _api.OpenAsync((50 * price).ToString())).Str("id");

        using var start = new SemaphoreSlim(0);
        var requests = Enumerable.Range(0, 500).Select(async i =>
        {
            await start.WaitAsync(TestContext.Current.CancellationToken);
            using var response = await _api.DebitAsync(id, price.ToString(), key: $"req_{i}");
            return response.StatusCode;
        }).ToList();
        start.Release(500);
        var statuses = await Task.WhenAll(requests);

        Assert.Equal(50, statuses.Count(status => status == HttpStatusCode.OK));
        Assert.Equal(450, statuses.Count(status => status == HttpStatusCode.PaymentRequired));
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
    public async Task Concurrent_debits_across_sessions_credits_and_top_ups_reconcile_and_a_corrupted_row_does_not()
    {
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
            ids.Add((await _api.OpenAsync("20000")).Str("id"));

        var work = ids.SelectMany((id, s) => Enumerable.Range(0, 40).Select(async i =>
        {
            var key = $"req_{s}_{i}";
            using var debit = await _api.DebitAsync(id, "700", key: key);
            if (debit.StatusCode == HttpStatusCode.OK && i % 5 == 0)
                (await _api.PostAsync($"/internal/sessions/{id}/credits", new { debitIdempotencyKey = key })).Dispose();
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
