using System.Net;
using System.Text.Json;
using Sessions.Testing;
using static SessionApi.Tests.Sessions.SessionHarness;
using static Sessions.Testing.ServiceHarness<Program>;

namespace SessionApi.Tests.Sessions;

// POST /internal/sessions/debits: the gate's debits, decided in Redis, written to the ledger in one transaction per batch
// (docs/design/session-debits.md). Replays change nothing; the ledger audit stays clean.
public sealed class DebitFoldTests(InfrastructureFixture infrastructure) : IAsyncLifetime
{
    SessionHarness _api = null!;

    public async ValueTask InitializeAsync() => _api = await StartAsync(infrastructure);

    public ValueTask DisposeAsync() => _api.DisposeAsync();

    object Debit(string sessionId, string key, string amount) => _api.Debit(sessionId, key, amount);

    Task<JsonElement> FoldAsync(object[] debits, HttpStatusCode expected = HttpStatusCode.OK) => _api.FoldAsync(debits, expected: expected);

    [Fact]
    public async Task A_batch_across_sessions_is_written_once_with_each_rows_balance_after_it()
    {
        var first = (await _api.OpenAsync("10000")).Str("id");
        var second = (await _api.OpenAsync("3000")).Str("id");
        var batch = new[]
        {
            Debit(first, "req_a", "1000"), Debit(second, "req_b", "1000"), Debit(first, "req_c", "2500"),
            Debit(second, "req_d", "2000"), Debit(first, "req_a", "1000"),   // the same key twice in one batch counts once
        };

        var result = await FoldAsync(batch);
        var replay = await FoldAsync(batch);

        Assert.Equal(4, result.GetProperty("applied").GetInt32());
        Assert.Equal(1, result.GetProperty("replayed").GetInt32());
        Assert.Equal(0, replay.GetProperty("applied").GetInt32());
        Assert.Equal(5, replay.GetProperty("replayed").GetInt32());
        var one = await _api.GetAsync(first);
        Assert.Equal(("6500", "3500", 2L, "ACTIVE"), (one.Str("balance"), one.Str("spent"), one.GetProperty("requestCount").GetInt64(), one.Str("state")));
        var two = await _api.GetAsync(second);
        Assert.Equal(("0", "DEPLETED"), (two.Str("balance"), two.Str("state")));
        Assert.Equal("6500", await _api.ScalarAsync<string>(
            "SELECT balance_after::text FROM session_ledger WHERE idempotency_key = 'debit:req_c'"));
        Assert.Equal(1L, await _api.ScalarAsync<long>(
            "SELECT count(*) FROM outbox WHERE event = 'session.depleted' AND payload::text LIKE '%' || $1 || '%'", second));
        Assert.Empty((await _api.AuditAsync()).GetProperty("violations").EnumerateArray());
    }

    [Fact]
    public async Task Debits_it_cannot_apply_are_refused_by_key_and_the_rest_is_written()
    {
        var id = (await _api.OpenAsync("1000")).Str("id");
        var others = (await _api.OpenAsync("1000", payer: OtherPayer)).Str("id");

        var result = await FoldAsync([Debit(id, "req_ok", "600"), Debit(id, "req_over", "600"), Debit(others, "req_theirs", "1"),
            Debit("ses_" + new string('0', 32), "req_none", "1")]);

        Assert.Equal(1, result.GetProperty("applied").GetInt32());
        Assert.Equal(["req_over", "req_theirs", "req_none"], result.GetProperty("refused").EnumerateArray().Select(k => k.GetString()));
        Assert.Equal("400", (await _api.GetAsync(id)).Str("balance"));
        Assert.Equal("1000", (await _api.GetAsync(others, OtherPayer)).Str("balance"));
    }

    [Fact]
    public async Task A_pass_request_is_counted_once_with_a_row_of_zero()
    {
        var pass = await _api.OpenAsync("5000", kind: "pass");
        object[] batch = [Debit(pass.Str("id"), "req_p1", "0"), Debit(pass.Str("id"), "req_p2", "0")];

        var result = await FoldAsync(batch);
        var again = await FoldAsync(batch);

        Assert.Equal(2, result.GetProperty("applied").GetInt32());
        Assert.Equal(2, again.GetProperty("replayed").GetInt32());
        Assert.Equal(2L, (await _api.GetAsync(pass.Str("id"))).GetProperty("requestCount").GetInt64());
        Assert.Empty((await _api.AuditAsync()).GetProperty("violations").EnumerateArray());
    }

    [Fact]
    public async Task A_malformed_batch_is_a_validation_problem_and_writes_nothing()
    {
        var id = (await _api.OpenAsync("1000")).Str("id");

        var problem = await FoldAsync([Debit(id, "req_1", "100"), Debit(id, "req_2", "-5")], expected: HttpStatusCode.BadRequest);
        var empty = await FoldAsync([], expected: HttpStatusCode.BadRequest);

        Assert.Equal("invalid-field", problem.Str("code"));
        Assert.True(problem.GetProperty("errors").TryGetProperty("debits[1].amount", out _));
        Assert.True(empty.GetProperty("errors").TryGetProperty("debits", out _));
        Assert.Equal("1000", (await _api.GetAsync(id)).Str("balance"));
    }
}
