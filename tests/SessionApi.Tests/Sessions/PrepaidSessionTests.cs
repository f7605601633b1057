using System.Net;
using System.Text.Json;
using Sessions.Testing;
using static SessionApi.Tests.Sessions.SessionHarness;
using static Sessions.Testing.ServiceHarness<Program>;

namespace SessionApi.Tests.Sessions;

// Prepaid sessions through the internal API, as the gate will drive them: open, resolve, debit, credit, top-up, close.
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
    public async Task Debits_spend_the_balance_to_DEPLETED_then_402_with_a_top_up_hint_and_a_top_up_reactivates()
    {
        var id = (await _api.OpenAsync("3000")).Str("id");

        for (var i = 1; i <= 3; i++)
        {
            using var debit = await _api.DebitAsync(id, "1000");
            var body = await JsonAsync(debit, HttpStatusCode.OK);
            Assert.Equal("1000", body.Str("charged"));
            Assert.Equal((3000 - 1000 * i).ToString(), body.Str("balance"));
            Assert.Equal(i, body.GetProperty("requestCount").GetInt64());
            Assert.Equal(i == 3 ? "DEPLETED" : "ACTIVE", body.Str("state"));
        }

        using var refused = await _api.DebitAsync(id, "1000");
        var problem = await JsonAsync(refused, HttpStatusCode.PaymentRequired);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.Equal("insufficient-balance", problem.Str("code"));
        Assert.Equal("0", problem.Str("balance"));
        Assert.Equal("1000", problem.Str("price"));
        Assert.Equal("1000", problem.GetProperty("topUpHint").Str("minimum"));

        using var topUp = await _api.PostAsync($"/internal/sessions/{id}/topups", new { amount = "1500", paymentId = "pay_topup_1" });
        var topped = await JsonAsync(topUp, HttpStatusCode.OK);
        Assert.Equal("ACTIVE", topped.Str("state"));
        Assert.Equal("1500", topped.Str("balance"));
        Assert.Equal("1500", topped.Str("toppedUp"));

        // The same payment again tops up nothing more.
        using var again = await _api.PostAsync($"/internal/sessions/{id}/topups", new { amount = "1500", paymentId = "pay_topup_1" });
        Assert.Equal("1500", (await JsonAsync(again, HttpStatusCode.OK)).Str("balance"));

        using var afterTopUp = await _api.DebitAsync(id, "1000");
        Assert.Equal("500", (await JsonAsync(afterTopUp, HttpStatusCode.OK)).Str("balance"));

        // Balance 500 < price 1000 while still ACTIVE: also 402, hint = what is missing.
        using var short_ = await _api.DebitAsync(id, "1000");
        var shortProblem = await JsonAsync(short_, HttpStatusCode.PaymentRequired);
        Assert.Equal("500", shortProblem.GetProperty("topUpHint").Str("minimum"));
        Assert.Equal("ACTIVE", shortProblem.Str("state"));
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
            (await _api.DebitAsync(id, "1000")).Dispose();

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

        using var debit = await _api.DebitAsync(id, "1000");
        Assert.Equal("session-not-active", (await JsonAsync(debit, HttpStatusCode.Conflict)).Str("code"));
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
    public async Task The_same_idempotency_key_debits_once_and_answers_the_original_result()
    {
        var id = (await _api.OpenAsync("10000")).Str("id");

        using var first = await _api.DebitAsync(id, "1000", key: "req_same");
        using var second = await _api.DebitAsync(id, "1000", key: "req_same");
        var one = await JsonAsync(first, HttpStatusCode.OK);
        var two = await JsonAsync(second, HttpStatusCode.OK);
        Assert.False(one.GetProperty("replayed").GetBoolean());
        Assert.True(two.GetProperty("replayed").GetBoolean());
        Assert.Equal("9000", two.Str("balance"));
        Assert.Equal(1, two.GetProperty("requestCount").GetInt64());

        // Twenty concurrent retries of one new key: still one debit.
        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => _api.DebitAsync(id, "1000", key: "req_burst")));
        Assert.All(responses, response => Assert.Equal(HttpStatusCode.OK, response.StatusCode));
        foreach (var response in responses) response.Dispose();
        var session = await _api.GetAsync(id);
        Assert.Equal("8000", session.Str("balance"));
        Assert.Equal(2, session.GetProperty("requestCount").GetInt64());
        Assert.Equal(2L, await _api.ScalarAsync<long>("SELECT count(*) FROM session_ledger WHERE session_id = $1 AND kind = 'debit'", id));
    }

    [Fact]
    public async Task A_key_that_debited_another_session_is_a_409()
    {
        var first = (await _api.OpenAsync("10000")).Str("id");
        var second = (await _api.OpenAsync("10000")).Str("id");
        (await _api.DebitAsync(first, "1000", key: "req_shared")).Dispose();

        using var response = await _api.DebitAsync(second, "1000", key: "req_shared");
        Assert.Equal("idempotency-key-conflict", (await JsonAsync(response, HttpStatusCode.Conflict)).Str("code"));
    }

    [Fact]
    public async Task A_credit_gives_a_debit_back_once_and_reactivates_a_depleted_session()
    {
        var id = (await _api.OpenAsync("2000")).Str("id");
        (await _api.DebitAsync(id, "1000", key: "req_a")).Dispose();
        (await _api.DebitAsync(id, "1000", key: "req_b")).Dispose();
        Assert.Equal("DEPLETED", (await _api.GetAsync(id)).Str("state"));

        using var credit = await _api.PostAsync($"/internal/sessions/{id}/credits", new { debitIdempotencyKey = "req_b" });
        var credited = await JsonAsync(credit, HttpStatusCode.OK);
        Assert.Equal("1000", credited.Str("credited"));
        Assert.Equal("1000", credited.Str("balance"));
        Assert.Equal("ACTIVE", credited.Str("state"));
        Assert.Equal(1, credited.GetProperty("requestCount").GetInt64());
        Assert.False(credited.GetProperty("alreadyCredited").GetBoolean());

        using var again = await _api.PostAsync($"/internal/sessions/{id}/credits", new { debitIdempotencyKey = "req_b" });
        var repeated = await JsonAsync(again, HttpStatusCode.OK);
        Assert.True(repeated.GetProperty("alreadyCredited").GetBoolean());
        Assert.Equal("1000", repeated.Str("balance"));

        using var unknown = await _api.PostAsync($"/internal/sessions/{id}/credits", new { debitIdempotencyKey = "req_never" });
        Assert.Equal("debit-not-found", (await JsonAsync(unknown, HttpStatusCode.NotFound)).Str("code"));

        // The retried debit of a credited request answers its original result and does not debit again.
        using var replay = await _api.DebitAsync(id, "1000", key: "req_b");
        Assert.True((await JsonAsync(replay, HttpStatusCode.OK)).GetProperty("replayed").GetBoolean());
        Assert.Equal("1000", (await _api.GetAsync(id)).Str("balance"));
        Assert.Empty((await _api.AuditAsync()).GetProperty("violations").EnumerateArray());
    }

    [Fact]
    public async Task A_credit_after_close_is_added_to_the_refund()
    {
        var id = (await _api.OpenAsync("5000")).Str("id");
        (await _api.DebitAsync(id, "1000", key: "req_in_flight")).Dispose();
        (await _api.PostAsync($"/internal/sessions/{id}/close", new { method = "ledger" })).Dispose();

        using var credit = await _api.PostAsync($"/internal/sessions/{id}/credits", new { debitIdempotencyKey = "req_in_flight" });
        var credited = await JsonAsync(credit, HttpStatusCode.OK);
        Assert.Equal("0", credited.Str("balance"));
        Assert.Equal("REFUNDED", credited.Str("state"));
        var session = await _api.GetAsync(id);
        Assert.Equal("5000", session.Str("refunded"));
        Assert.Equal("0", session.Str("spent"));
        Assert.Empty((await _api.AuditAsync()).GetProperty("violations").EnumerateArray());
    }

    [Fact]
    public async Task A_repeated_credit_of_the_only_debit_answers_the_first_result_even_after_close()
    {
        // spent goes back to 0 with the first credit: a repeat must not try to apply it again (spent -1000).
        var id = (await _api.OpenAsync("5000")).Str("id");
        (await _api.DebitAsync(id, "1000", key: "req_only")).Dispose();
        (await _api.PostAsync($"/internal/sessions/{id}/close", new { method = "ledger" })).Dispose();
        for (var i = 0; i < 2; i++)
        {
            using var credit = await _api.PostAsync($"/internal/sessions/{id}/credits", new { debitIdempotencyKey = "req_only" });
            var credited = await JsonAsync(credit, HttpStatusCode.OK);
            Assert.Equal((i == 1, "1000", "REFUNDED"), (credited.GetProperty("alreadyCredited").GetBoolean(), credited.Str("credited"), credited.Str("state")));
        }
        var session = await _api.GetAsync(id);
        Assert.Equal(("5000", "0", 0L), (session.Str("refunded"), session.Str("spent"), session.GetProperty("requestCount").GetInt64()));
        Assert.Empty((await _api.AuditAsync()).GetProperty("violations").EnumerateArray());
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
        (await _api.DebitAsync(first.Str("id"), "1000")).Dispose();
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
        using var debit = await _api.PostAsync($"/internal/sessions/{id}/debits", new { amount = "0", idempotencyKey = "" });
        var debitErrors = (await JsonAsync(debit, HttpStatusCode.BadRequest)).GetProperty("errors");
        Assert.True(debitErrors.TryGetProperty("amount", out _));
        Assert.True(debitErrors.TryGetProperty("idempotencyKey", out _));

        using var close = await _api.PostAsync($"/internal/sessions/{id}/close", new { method = "cash" });
        Assert.True((await JsonAsync(close, HttpStatusCode.BadRequest)).GetProperty("errors").TryGetProperty("method", out _));

        using var malformed = new HttpRequestMessage(HttpMethod.Post, $"/internal/sessions/{id}/debits")
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
        using var debit = await _api.DebitAsync(id, "1");
        Assert.Equal("340282366920938463463374607431768211455", (await JsonAsync(debit, HttpStatusCode.OK)).Str("balance"));
    }
}
