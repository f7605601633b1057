using System.Net;
using System.Text.Json;
using Sessions.Testing;
using static SessionApi.Tests.Sessions.SessionHarness;
using static Sessions.Testing.ServiceHarness<Program>;

namespace SessionApi.Tests.Sessions;

// Prepaid sessions through the internal API, as the gate drives them: open, resolve, debits folded from the gate's Redis
// (refusing what a balance cannot cover is the gate's: tests/PaymentGate.Tests SessionGateTests), top-up, close.
public sealed class PrepaidSessionTests(InfrastructureFixture infrastructure) : IAsyncLifetime
{
    SessionHarness _api = null!;

    public async ValueTask InitializeAsync() => _api = await StartAsync(infrastructure);

    public ValueTask DisposeAsync() => _api.DisposeAsync();

    [Fact]
    public async Task Open_answers_201_with_the_token_once_and_resolve_finds_the_session_without_it()
    {
        var session = await _api.OpenAsync("5000");

        Assert.Matches("^ses_[0-9a-f]{32}$", session.Str("id"));
        Assert.Matches("^st_[A-Za-z0-9_-]{43}$", session.Str("token"));
        Assert.Equal(Payer, session.Str("payer"));
        Assert.Equal(Organization, session.Str("organization"));
        Assert.Equal("prepaid", session.Str("kind"));
        Assert.Equal("5000", session.Str("deposit"));
        Assert.Equal("5000", session.Str("balance"));
        Assert.Equal("ACTIVE", session.Str("state"));
        Assert.Equal(0, session.GetProperty("requestCount").GetInt64());
        Assert.Equal(_api.Clock.GetUtcNow().AddHours(24), session.GetProperty("expiresAt").GetDateTimeOffset());

        using var resolve = await _api.PostAsync("/internal/sessions/resolve", new { token = session.Str("token") });
        var resolved = await JsonAsync(resolve, HttpStatusCode.OK);
        Assert.Equal(session.Str("id"), resolved.Str("id"));
        Assert.False(resolved.TryGetProperty("token", out _));

        // Only the hash is stored.
        Assert.Equal(0L, await _api.ScalarAsync<long>("SELECT count(*) FROM sessions WHERE token_hash = $1", session.Str("token")));
    }

    [Fact]
    public async Task Folded_debits_spend_the_balance_to_DEPLETED_one_beyond_it_is_refused_and_a_top_up_reactivates()
    {
        var id = (await _api.OpenAsync("3000")).Str("id");

        for (var i = 1; i <= 3; i++)
        {
            Assert.True(await _api.SpendAsync(id, "1000"));
            var session = await _api.GetAsync(id);
            Assert.Equal((3000 - 1000 * i).ToString(), session.Str("balance"));
            Assert.Equal((1000 * i).ToString(), session.Str("spent"));
            Assert.Equal(i, session.GetProperty("requestCount").GetInt64());
            Assert.Equal(i == 3 ? "DEPLETED" : "ACTIVE", session.Str("state"));
        }

        // The gate never sends a debit the balance cannot cover; if one came, the ledger would refuse it.
        var refused = await _api.FoldAsync([_api.Debit(id, "req_beyond", "1000")]);
        Assert.Equal(["req_beyond"], refused.GetProperty("refused").EnumerateArray().Select(key => key.GetString()));

        using var topUp = await _api.PostAsync($"/internal/sessions/{id}/topups", new { amount = "1500", paymentId = "pay_topup_1" });
        var topped = await JsonAsync(topUp, HttpStatusCode.OK);
        Assert.Equal("ACTIVE", topped.Str("state"));
        Assert.Equal("1500", topped.Str("balance"));
        Assert.Equal("1500", topped.Str("toppedUp"));

        // The same payment again tops up nothing more.
        using var again = await _api.PostAsync($"/internal/sessions/{id}/topups", new { amount = "1500", paymentId = "pay_topup_1" });
        Assert.Equal("1500", (await JsonAsync(again, HttpStatusCode.OK)).Str("balance"));

        Assert.True(await _api.SpendAsync(id, "1000"));
        var after = await _api.GetAsync(id);
        Assert.Equal(("500", "ACTIVE", 4L), (after.Str("balance"), after.Str("state"), after.GetProperty("requestCount").GetInt64()));
        Assert.Empty((await _api.AuditAsync()).GetProperty("violations").EnumerateArray());
    }

    [Fact]
    public async Task A_top_up_payment_that_paid_for_something_else_is_a_409()
    {
        var first = (await _api.OpenAsync("1000", paymentId: "pay_opening")).Str("id");
        var second = (await _api.OpenAsync("1000")).Str("id");
        (await _api.PostAsync($"/internal/sessions/{first}/topups", new { amount = "500", paymentId = "pay_topup_first" })).Dispose();

        using var reused = await _api.PostAsync($"/internal/sessions/{second}/topups", new { amount = "500", paymentId = "pay_topup_first" });
        Assert.Equal("payment-conflict", (await JsonAsync(reused, HttpStatusCode.Conflict)).Str("code"));
        using var opening = await _api.PostAsync($"/internal/sessions/{second}/topups", new { amount = "500", paymentId = "pay_opening" });
        Assert.Equal("payment-conflict", (await JsonAsync(opening, HttpStatusCode.Conflict)).Str("code"));
        Assert.Equal("1000", (await _api.GetAsync(second)).Str("balance"));
    }

    [Fact]
    public async Task Close_refunds_exactly_the_remaining_balance_once_and_ends_the_session()
    {
        var id = (await _api.OpenAsync("10000")).Str("id");
        for (var i = 0; i < 3; i++)
            Assert.True(await _api.SpendAsync(id, "1000"));

        using var close = await _api.PostAsync($"/internal/sessions/{id}/close", new { method = "ledger" });
        var closed = await JsonAsync(close, HttpStatusCode.OK);
        Assert.Equal("7000", closed.Str("refunded"));
        Assert.Equal("0", closed.Str("balance"));
        Assert.Equal("ledger", closed.Str("method"));
        Assert.Equal("REFUNDED", closed.Str("state"));

        // Closing again answers the same, refunds nothing more.
        using var again = await _api.PostAsync($"/internal/sessions/{id}/close", new { method = "payout_owed" });
        var repeated = await JsonAsync(again, HttpStatusCode.OK);
        Assert.Equal("7000", repeated.Str("refunded"));
        Assert.Equal("ledger", repeated.Str("method"));
        Assert.Equal(1L, await _api.ScalarAsync<long>("SELECT count(*) FROM session_ledger WHERE session_id = $1 AND kind = 'refund'", id));

        Assert.False(await _api.SpendAsync(id, "1000"));   // closed: the gate closed it in Redis first, so none comes
        using var topUp = await _api.PostAsync($"/internal/sessions/{id}/topups", new { amount = "1", paymentId = "pay_after_close" });
        Assert.Equal("session-not-active", (await JsonAsync(topUp, HttpStatusCode.Conflict)).Str("code"));

        Assert.Empty((await _api.AuditAsync()).GetProperty("violations").EnumerateArray());
    }

    [Fact]
    public async Task Close_without_a_body_records_a_payout_owed()
    {
        var id = (await _api.OpenAsync("10000")).Str("id");
        using var close = await _api.PostAsync($"/internal/sessions/{id}/close", null);
        var closed = await JsonAsync(close, HttpStatusCode.OK);
        Assert.Equal("payout_owed", closed.Str("method"));
        Assert.Equal("10000", closed.Str("refunded"));
    }

    [Fact]
    public async Task The_same_debit_folded_again_or_by_twenty_concurrent_folds_is_written_once()
    {
        var id = (await _api.OpenAsync("10000")).Str("id");

        Assert.True(await _api.SpendAsync(id, "1000", key: "req_same"));
        var again = await _api.FoldAsync([_api.Debit(id, "req_same", "1000")]);
        Assert.Equal((0, 1), (again.GetProperty("applied").GetInt32(), again.GetProperty("replayed").GetInt32()));

        // Twenty gates folding one new debit at once (a claimed stream entry sent twice): still one debit.
        var folds = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => _api.FoldAsync([_api.Debit(id, "req_burst", "1000")])));
        Assert.Equal(1, folds.Sum(fold => fold.GetProperty("applied").GetInt32()));
        Assert.Equal(19, folds.Sum(fold => fold.GetProperty("replayed").GetInt32()));
        var session = await _api.GetAsync(id);
        Assert.Equal("8000", session.Str("balance"));
        Assert.Equal(2, session.GetProperty("requestCount").GetInt64());
        Assert.Equal(2L, await _api.ScalarAsync<long>("SELECT count(*) FROM session_ledger WHERE session_id = $1 AND kind = 'debit'", id));
    }

    [Fact]
    public async Task Opening_again_with_the_same_payment_returns_the_same_session_and_the_same_token_used_or_not()
    {
        var first = await _api.OpenAsync("5000", paymentId: "pay_retry");
        using var retry = await _api.PostAsync("/internal/sessions", new { organization = Organization, payer = Payer, kind = "prepaid", deposit = "5000", paymentId = "pay_retry" });
        var second = await JsonAsync(retry, HttpStatusCode.OK);
        Assert.Equal((first.Str("id"), first.Str("token")), (second.Str("id"), second.Str("token")));
        Assert.Equal(1L, await _api.ScalarAsync<long>("SELECT count(*) FROM sessions"));
        using (var resolved = await _api.PostAsync("/internal/sessions/resolve", new { token = first.Str("token") }))
            Assert.Equal(HttpStatusCode.OK, resolved.StatusCode);

        // Once used, a retry answers the same token too (it never mints a second one) and the session as it is.
        Assert.True(await _api.SpendAsync(first.Str("id"), "1000"));
        using var late = await _api.PostAsync("/internal/sessions", new { organization = Organization, payer = Payer, kind = "prepaid", deposit = "5000", paymentId = "pay_retry" });
        var third = await JsonAsync(late, HttpStatusCode.OK);
        Assert.Equal(first.Str("token"), third.Str("token"));
        Assert.Equal("4000", third.Str("balance"));

        // Other terms with that payment: a conflict.
        using var other = await _api.PostAsync("/internal/sessions", new { organization = Organization, payer = Payer, kind = "prepaid", deposit = "9999", paymentId = "pay_retry" });
        Assert.Equal("payment-conflict", (await JsonAsync(other, HttpStatusCode.Conflict)).Str("code"));
    }

    [Fact]
    public async Task Invalid_bodies_answer_400_with_field_errors()
    {
        using var open = await _api.PostAsync("/internal/sessions", new { organization = Organization, payer = "0x12", kind = "monthly", deposit = "1.5", ttlSeconds = 59 });
        var problem = await JsonAsync(open, HttpStatusCode.BadRequest);
        Assert.Equal("application/problem+json", open.Content.Headers.ContentType?.MediaType);
        var errors = problem.GetProperty("errors");
        foreach (var field in new[] { "payer", "kind", "deposit", "paymentId", "ttlSeconds" })
            Assert.True(errors.TryGetProperty(field, out _), field);

        var id = (await _api.OpenAsync("5000")).Str("id");
        using var close = await _api.PostAsync($"/internal/sessions/{id}/close", new { method = "cash" });
        Assert.True((await JsonAsync(close, HttpStatusCode.BadRequest)).GetProperty("errors").TryGetProperty("method", out _));

        using var malformed = new HttpRequestMessage(HttpMethod.Post, "/internal/sessions/debits")
        {
            Content = new StringContent("{not json", System.Text.Encoding.UTF8, "application/json"),
        };
        malformed.Headers.Add("X-Payer-Context", _api.Context());
        using var response = await _api.Client.SendAsync(malformed, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Amounts_beyond_64_bits_are_exact()
    {
        var huge = "340282366920938463463374607431768211456";   // 2^128
        var id = (await _api.OpenAsync(huge)).Str("id");
        Assert.True(await _api.SpendAsync(id, "1"));
        Assert.Equal("340282366920938463463374607431768211455", (await _api.GetAsync(id)).Str("balance"));
    }
}
