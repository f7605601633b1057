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

    // A void: the gate answered 503 to a request whose confirm Redis never answered (docs/design/session-debits.md).
    [Fact]
    public async Task A_void_after_its_debit_credits_it_back_once_and_the_session_is_active_again()
    {
        var id = (await _api.OpenAsync("3000")).Str("id");
        await FoldAsync([Debit(id, "req_a", "1000"), Debit(id, "req_b", "2000")]);
        Assert.Equal("DEPLETED", (await _api.GetAsync(id)).Str("state"));

        var result = await FoldAsync([_api.Void(id, "req_b"), Debit(id, "req_c", "500")]);
        var replay = await FoldAsync([_api.Void(id, "req_b")]);

        Assert.Equal(("2000", 1), (result.GetProperty("credited").GetProperty("req_b").GetString(), result.GetProperty("applied").GetInt32()));
        Assert.Equal(("2000", 1), (replay.GetProperty("credited").GetProperty("req_b").GetString(), replay.GetProperty("replayed").GetInt32()));
        var session = await _api.GetAsync(id);
        Assert.Equal(("1500", "1500", 2L, "ACTIVE"), (session.Str("balance"), session.Str("spent"), session.GetProperty("requestCount").GetInt64(), session.Str("state")));
        Assert.Equal("credit 2000 2000 1", await _api.ScalarAsync<string>(
            "SELECT kind || ' ' || amount || ' ' || balance_after || ' ' || request_count_after FROM session_ledger WHERE idempotency_key = 'credit:req_b'"));
        Assert.Equal(1L, await _api.ScalarAsync<long>("SELECT count(*) FROM session_ledger WHERE kind = 'credit'"));
        Assert.Equal("2000", await _api.ScalarAsync<string>(
            "SELECT payload->>'amount' FROM outbox WHERE event = 'session.credited' AND payload::text LIKE '%' || $1 || '%'", id));
        Assert.Empty((await _api.AuditAsync()).GetProperty("violations").EnumerateArray());
    }

    [Fact]
    public async Task A_void_that_comes_before_its_debit_credits_nothing_and_keeps_the_debit_out()
    {
        var id = (await _api.OpenAsync("3000")).Str("id");

        // Another gate still held the debit when this one folded the void: the debit comes in a later batch.
        var first = await FoldAsync([_api.Void(id, "req_late")]);
        var second = await FoldAsync([Debit(id, "req_late", "1000"), Debit(id, "req_next", "1000")]);
        var again = await FoldAsync([Debit(id, "req_late", "1000")]);

        Assert.Equal("0", first.GetProperty("credited").GetProperty("req_late").GetString());
        Assert.Equal(1, second.GetProperty("applied").GetInt32());
        Assert.Equal(["req_late"], second.GetProperty("voided").EnumerateArray().Select(k => k.GetString()));
        Assert.Equal(["req_late"], again.GetProperty("voided").EnumerateArray().Select(k => k.GetString()));
        var session = await _api.GetAsync(id);
        Assert.Equal(("2000", 1L), (session.Str("balance"), session.GetProperty("requestCount").GetInt64()));
        Assert.Equal(0L, await _api.ScalarAsync<long>("SELECT count(*) FROM session_ledger WHERE request_id = 'req_late'"));
        Assert.Empty((await _api.AuditAsync()).GetProperty("violations").EnumerateArray());
    }

    [Fact]
    public async Task A_void_with_an_amount_or_of_another_payers_session_is_refused()
    {
        var id = (await _api.OpenAsync("3000")).Str("id");
        var others = (await _api.OpenAsync("1000", payer: OtherPayer)).Str("id");
        await _api.FoldAsync([Debit(others, "req_theirs", "100")], OtherPayer);

        var problem = await FoldAsync([new { sessionId = id, key = "req_x", amount = "5", at = 1L, @void = true }], expected: HttpStatusCode.BadRequest);
        var refused = await FoldAsync([_api.Void(others, "req_theirs")]);

        Assert.True(problem.GetProperty("errors").TryGetProperty("debits[0].amount", out _));
        Assert.Equal(["req_theirs"], refused.GetProperty("refused").EnumerateArray().Select(k => k.GetString()));
        Assert.Equal("900", (await _api.GetAsync(others, OtherPayer)).Str("balance"));
    }
}
