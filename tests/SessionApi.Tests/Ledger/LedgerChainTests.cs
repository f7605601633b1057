using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Sessions.Payments.Ledger;
using Sessions.ServiceDefaults.Ledger;
using Sessions.Testing;
using SessionApi.Tests.Sessions;
using static SessionApi.Tests.Sessions.SessionHarness;
using static Sessions.Testing.ServiceHarness<Program>;

namespace SessionApi.Tests.Ledger;

// The tamper-evident ledger of sessionsdb (docs/ledger-chain.md): the chainer appends every movement in the background,
// GET /admin/ledger/verify finds the first entry whose row was changed, deleted or reordered, the export walks offline.
public sealed class LedgerChainTests(InfrastructureFixture infrastructure) : IAsyncLifetime
{
    SessionHarness _api = null!;

    public async ValueTask InitializeAsync() => _api = await StartAsync(infrastructure);

    public ValueTask DisposeAsync() => _api.DisposeAsync();

    static CancellationToken Cancel => TestContext.Current.CancellationToken;

    LedgerChainer Chainer => _api.Services.GetRequiredService<LedgerChainer>();

    async Task<JsonElement> AdminAsync(string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("X-Admin-Key", AdminKey);
        using var response = await _api.Client.SendAsync(request, Cancel);
        return await JsonAsync(response, HttpStatusCode.OK);
    }

    Task<JsonElement> VerifyAsync() => AdminAsync("/admin/ledger/verify");

    async Task<List<LedgerExportLine>> ExportAsync()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/admin/ledger/export");
        request.Headers.Add("X-Admin-Key", AdminKey);
        using var response = await _api.Client.SendAsync(request, Cancel);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(LedgerChainApi.JsonLines, response.Content.Headers.ContentType?.MediaType);
        var text = await response.Content.ReadAsStringAsync(Cancel);
        return text.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => JsonSerializer.Deserialize<LedgerExportLine>(line, JsonSerializerOptions.Web)!).ToList();
    }

    /// <summary>A session with a deposit, a top-up, two debits and its refund: five ledger rows, chained.</summary>
    async Task<string> SessionWithMovementsAsync()
    {
        var id = (await _api.OpenAsync("5000")).Str("id");
        (await _api.PostAsync($"/internal/sessions/{id}/topups", new { amount = "1500", paymentId = "pay_" + Guid.NewGuid().ToString("N") })).Dispose();
        Assert.True(await _api.SpendAsync(id, "1000"));
        Assert.True(await _api.SpendAsync(id, "700"));
        using var close = await _api.PostAsync($"/internal/sessions/{id}/close", new { method = "ledger" });
        Assert.Equal(HttpStatusCode.OK, close.StatusCode);
        await Chainer.ChainAllAsync();
        return id;
    }

    /// <summary>The chain position of the session_ledger row (alias l) that <paramref name="where"/> selects.</summary>
    Task<long> PositionOfAsync(string where) => _api.ScalarAsync<long>(
        $"SELECT c.position FROM ledger_chain c JOIN session_ledger l ON c.source = 'session_ledger' AND c.row_id = l.id::text WHERE {where}");

    [Fact]
    public async Task The_chain_covers_every_movement_kind_and_verifies()
    {
        var id = await SessionWithMovementsAsync();
        // A credit-back (ledgers from before issue 16 have them) and a mandate charged, released and charged again.
        await _api.ExecuteAsync($"""
            INSERT INTO session_ledger (session_id, kind, amount, idempotency_key, balance_after, request_count_after, created_at)
            VALUES ('{id}', 'credit', 1, 'credit:old', 0, 2, now());
            INSERT INTO session_ledger (session_id, kind, amount, idempotency_key, route, balance_after, request_count_after, created_at, sla_credit)
            VALUES ('{id}', 'credit', 2, 'credit:escapes', E'GET /a"b\\c\n\t\r\b\f\u0001\u001f\u007f é €🙂', 0, 2, now(), 5);
            INSERT INTO mandates (id, user_address, agent, nonce, terms_digest, user_signature, agent_signature, state, created_at, expires_at, updated_at)
            VALUES ('man_{new string('a', 32)}', '0x{new string('1', 40)}', '0x{new string('2', 40)}', '0x{new string('3', 64)}',
                    '0x{new string('4', 64)}', '0x', '0x', 'active', now(), now() + interval '1 day', now());
            INSERT INTO mandate_charges (mandate_id, agent, idempotency_key, organization, amount, created_at)
            VALUES ('man_{new string('a', 32)}', '0x{new string('2', 40)}', 'payment:k1', 'demo', 300, now());
            """);
        await Chainer.ChainAllAsync();
        await _api.ExecuteAsync("UPDATE mandate_charges SET released_at = now() WHERE idempotency_key = 'payment:k1'");
        await Chainer.ChainAllAsync();
        await _api.ExecuteAsync("UPDATE mandate_charges SET released_at = NULL, amount = 400 WHERE idempotency_key = 'payment:k1'");
        await Chainer.ChainAllAsync();

        var kinds = (await ExportAsync()).Select(l => l.Kind).ToList();
        Assert.Equal(["credit", "debit", "deposit", "mandate-charge", "mandate-release", "refund", "topup"], kinds.Distinct().Order());
        Assert.Equal(2, kinds.Count(k => k == "mandate-charge"));   // charged again: a movement of its own
        var report = await VerifyAsync();
        Assert.True(report.GetProperty("valid").GetBoolean(), report.ToString());
        Assert.Equal(kinds.Count, report.GetProperty("entries").GetInt64());
        Assert.Equal((await Chainer.HeadAsync(Cancel)).Head, report.Str("head"));
        // The content the chainer builds is Postgres's jsonb text of the same values (entries chained before it keep verifying);
        // compared for the rows' current versions: all but the mandate's first charge and its release, superseded.
        Assert.Equal(kinds.Count - 2, await LedgerChainContentChecks.AssertContentIsPostgresJsonbTextAsync(_api.ConnectionString,
            global::Sessions.SessionApi.Ledger.SessionLedgerChain.Options));
    }

    [Fact]
    public async Task A_row_updated_in_Postgres_is_reported_at_its_position()
    {
        await SessionWithMovementsAsync();
        var position = await PositionOfAsync("l.kind = 'debit' AND l.amount = 700");
        await _api.ExecuteAsync("UPDATE session_ledger SET amount = 70 WHERE kind = 'debit' AND amount = 700");

        var report = await VerifyAsync();

        Assert.False(report.GetProperty("valid").GetBoolean());
        var problem = report.GetProperty("firstProblem");
        Assert.Equal((position, "changed", "session_ledger", "debit"),
            (problem.GetProperty("position").GetInt64(), problem.Str("problem"), problem.Str("source"), problem.Str("kind")));
        Assert.Contains("\"amount\": \"70\"", problem.Str("detail"));
    }

    [Fact]
    public async Task A_row_deleted_in_Postgres_is_reported_at_its_position_also_offline_from_the_export()
    {
        var id = await SessionWithMovementsAsync();
        var position = await PositionOfAsync("l.kind = 'topup'");
        await _api.ExecuteAsync($"DELETE FROM session_ledger WHERE session_id = '{id}' AND kind = 'topup'");

        var problem = (await VerifyAsync()).GetProperty("firstProblem");
        var walker = new LedgerChainWalker();
        foreach (var line in await ExportAsync()) walker.Add(line.ToRecord());
        var offline = walker.Finish(DateTimeOffset.UtcNow);

        Assert.Equal((position, "deleted"), (problem.GetProperty("position").GetInt64(), problem.Str("problem")));
        Assert.Equal((position, "deleted"), (offline.FirstProblem!.Position, offline.FirstProblem.Problem));
    }

    [Fact]
    public async Task Reordered_rows_or_entries_are_reported_at_the_first_position_that_moved()
    {
        await SessionWithMovementsAsync();
        var first = await PositionOfAsync("l.kind = 'debit' AND l.amount = 1000");
        // Two debits swap their amounts (the order of spending rewritten): the first of them no longer has its chained content.
        await _api.ExecuteAsync("""
            UPDATE session_ledger SET amount = CASE amount WHEN 1000 THEN 700 ELSE 1000 END WHERE kind = 'debit' AND amount IN (700, 1000)
            """);
        var rows = (await VerifyAsync()).GetProperty("firstProblem");
        await _api.ExecuteAsync("""
            UPDATE session_ledger SET amount = CASE amount WHEN 1000 THEN 700 ELSE 1000 END WHERE kind = 'debit' AND amount IN (700, 1000)
            """);
        Assert.True((await VerifyAsync()).GetProperty("valid").GetBoolean());
        // Two chain entries swap places: the first moved one no longer links to the entry before it.
        await _api.ExecuteAsync("""
            UPDATE ledger_chain SET position = 1000000 WHERE position = 1;
            UPDATE ledger_chain SET position = 1 WHERE position = 2;
            UPDATE ledger_chain SET position = 2 WHERE position = 1000000;
            """);
        var entries = (await VerifyAsync()).GetProperty("firstProblem");

        Assert.Equal((first, "changed"), (rows.GetProperty("position").GetInt64(), rows.Str("problem")));
        Assert.Equal((1L, "reordered"), (entries.GetProperty("position").GetInt64(), entries.Str("problem")));
    }

    [Fact]
    public async Task The_chain_table_refuses_a_hash_that_is_not_64_characters()
    {
        // Migration 0010 replaced the regular-expression CHECKs (17 µs per entry) with a length check: the table still
        // refuses what no chainer writes.
        await SessionWithMovementsAsync();
        var refused = await Assert.ThrowsAsync<PostgresException>(() => _api.ExecuteAsync(
            "UPDATE ledger_chain SET entry_hash = left(entry_hash, 63) WHERE position = 0"));
        await _api.ExecuteAsync($"UPDATE ledger_chain SET row_hash = '{new string('0', 64)}' WHERE position = 0");
        var problem = (await VerifyAsync()).GetProperty("firstProblem");

        Assert.Equal(PostgresErrorCodes.CheckViolation, refused.SqlState);
        Assert.Equal("ledger_chain_hash_lengths", refused.ConstraintName);
        Assert.Equal((0L, "entry-altered"), (problem.GetProperty("position").GetInt64(), problem.Str("problem")));
    }

    [Fact]
    public async Task A_transaction_that_commits_after_a_later_one_is_chained_not_skipped()
    {
        var id = (await _api.OpenAsync("5000")).Str("id");
        await Chainer.ChainAllAsync();
        string Insert(string key) => $"""
            INSERT INTO session_ledger (session_id, kind, amount, idempotency_key, balance_after, request_count_after, created_at)
            VALUES ('{id}', 'debit', 1, '{key}', 4999, 1, now())
            """;
        // The slow transaction takes the lower id and stays open while a later one commits and the chainer runs.
        await using var slow = new NpgsqlConnection(_api.ConnectionString);
        await slow.OpenAsync(Cancel);
        await using var slowTransaction = await slow.BeginTransactionAsync(Cancel);
        await using (var insert = new NpgsqlCommand(Insert("debit:slow"), slow, slowTransaction))
            await insert.ExecuteNonQueryAsync(Cancel);
        await _api.ExecuteAsync(Insert("debit:fast"));

        await Chainer.ChainAsync(Cancel);
        var fastWhileOpen = await _api.ScalarAsync<long>(
            "SELECT count(*) FROM ledger_chain c JOIN session_ledger l ON c.row_id = l.id::text WHERE l.idempotency_key = 'debit:fast'");
        await slowTransaction.CommitAsync(Cancel);
        await Chainer.ChainAllAsync();

        Assert.Equal(0L, fastWhileOpen);   // the fast row waits behind the open transaction, whose row has the lower id
        Assert.Equal(["deposit", "debit:slow", "debit:fast"], await _api.ScalarAsync<string[]>("""
            SELECT array_agg(coalesce(substring(l.idempotency_key FROM '^debit:.*'), l.kind) ORDER BY c.position)
            FROM ledger_chain c JOIN session_ledger l ON c.row_id = l.id::text
            """));
        Assert.True((await VerifyAsync()).GetProperty("valid").GetBoolean());
    }

    [Fact]
    public async Task Ids_of_one_transaction_past_9_are_chained_once_in_number_order()
    {
        var id = (await _api.OpenAsync("100000")).Str("id");
        await _api.FoldAsync([.. Enumerable.Range(0, 12).Select(i => _api.Debit(id, $"req_{i:D2}", "1"))]);
        await Chainer.ChainAllAsync();

        Assert.Equal(Enumerable.Range(1, 13).Select(i => i.ToString()), await _api.ScalarAsync<string[]>(
            "SELECT array_agg(row_id ORDER BY position) FROM ledger_chain"));
    }

    [Fact]
    public async Task Concurrent_debit_batches_are_all_chained_once()
    {
        var ids = new List<string>();
        for (var i = 0; i < 4; i++) ids.Add((await _api.OpenAsync("100000")).Str("id"));
        var chaining = Task.Run(async () =>
        {
            for (var i = 0; i < 20; i++) await Chainer.ChainAsync(Cancel);   // meanwhile, as the background worker does too
        }, Cancel);
        await Task.WhenAll(ids.SelectMany(id => Enumerable.Range(0, 5).Select(_ =>
            _api.FoldAsync([.. Enumerable.Range(0, 10).Select(_ => _api.Debit(id, "req_" + Guid.NewGuid().ToString("N"), "1"))]))));
        await chaining;
        await Chainer.ChainAllAsync();

        Assert.Equal(await _api.ScalarAsync<long>("SELECT count(*) FROM session_ledger"),
            await _api.ScalarAsync<long>("SELECT count(DISTINCT row_id) FROM ledger_chain WHERE source = 'session_ledger'"));
        Assert.Equal(4 + 200L, await _api.ScalarAsync<long>("SELECT count(*) FROM ledger_chain"));
        Assert.True((await VerifyAsync()).GetProperty("valid").GetBoolean());
    }

    [Fact]
    public async Task Verify_and_export_need_the_admin_key()
    {
        using var verify = await _api.Client.GetAsync("/admin/ledger/verify", Cancel);
        using var export = await _api.Client.GetAsync("/admin/ledger/export", Cancel);

        Assert.Equal((HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized), (verify.StatusCode, export.StatusCode));
    }
}
