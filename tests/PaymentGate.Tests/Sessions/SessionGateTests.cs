using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using PaymentGate.Tests.Facilitator;
using PaymentGate.Tests.Paywall;
using Sessions.PaymentGate.Sessions;
using Sessions.Payments.X402;
using Sessions.ServiceDefaults.Payers;
using Sessions.Testing;
using static PaymentGate.Tests.Sessions.SessionGateHarness;

namespace PaymentGate.Tests.Sessions;

// Sessions through the gate with SessionApi in-process: open with an x402 payment of the deposit, spend it request by request
// with the Payment-Session header, 402 with a fresh challenge and a top-up hint, top-up, close with a refund on the ledger.
public sealed class SessionGateTests(InfrastructureFixture infrastructure) : IAsyncLifetime
{
    SessionGateHarness _gate = null!;
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _gate = await SessionGateHarness.StartAsync(infrastructure);

    public ValueTask DisposeAsync() => _gate.DisposeAsync();

    [Fact]
    public async Task Deposit_of_100_prices_serves_100_requests_then_402_with_a_top_up_hint_top_up_reactivates_close_refunds_the_rest()
    {
        var payer = await _gate.FundedPayerAsync(1_000_000);
        var (id, token, opened) = await _gate.OpenAsync(payer, 100 * GetPrice);
        Assert.Equal(("ACTIVE", "100000", "prepaid", payer.Lower, "demo"), (opened.GetProperty("state").GetString(), opened.GetProperty("balance").GetString(),
            opened.GetProperty("kind").GetString(), opened.GetProperty("payer").GetString(), opened.GetProperty("organization").GetString()));
        Assert.Equal(900_000, await _gate.BalanceAsync(payer.Lower));

        for (var i = 1; i <= 100; i++)
        {
            using var response = await _gate.WithTokenAsync(HttpMethod.Get, $"/api/content/notes/{i}", token);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(((100 - i) * GetPrice).ToString(), Header(response, SessionSpending.BalanceHeader));
            Assert.Equal(id, Header(response, SessionSpending.IdHeader));
            Assert.Null(Header(response, X402HeaderCodec.PaymentResponseHeader));
        }
        // The upstream saw a payer context naming the session, and never the token.
        var signer = _gate.GateServices.GetRequiredService<PayerContextSigner>();
        var call = _gate.Upstream.Calls.Last();
        Assert.True(signer.TryVerify(call.PayerContext, out var context, out _));
        Assert.Equal((payer.Lower, "demo", id), (context!.Payer, context.Organization, context.SessionId));
        Assert.StartsWith("req_", context.RequestId);

        using (var depleted = await _gate.WithTokenAsync(HttpMethod.Get, "/api/content/notes/101", token))
        {
            Assert.Equal(HttpStatusCode.PaymentRequired, depleted.StatusCode);
            var v2 = X402HeaderCodec.Decode(depleted.Headers.GetValues("PAYMENT-REQUIRED").Single(), X402JsonContext.Strict.PaymentRequired).Value!;
            Assert.Equal("1000", v2.Accepts.Single().Amount);
            var body = await JsonAsync(depleted, HttpStatusCode.PaymentRequired);
            Assert.Equal(1, body.GetProperty("x402Version").GetInt32());
            Assert.Equal("1000", body.GetProperty("accepts")[0].GetProperty("maxAmountRequired").GetString());
            Assert.Equal($"/api/sessions/{id}/topup", body.GetProperty("topUp").GetProperty("path").GetString());
            Assert.Equal("1000", body.GetProperty("topUp").GetProperty("minimum").GetString());
            Assert.Equal("0", Header(depleted, SessionSpending.BalanceHeader));
        }
        Assert.Equal(100, _gate.Upstream.Calls.Count);

        var topUp = await _gate.PayAsync(payer, $"/api/sessions/{id}/topup", new { amount = "5000" }, "5000");
        using (var toppedUp = await _gate.PostJsonAsync($"/api/sessions/{id}/topup", new { amount = "5000" }, topUp))
        {
            var session = await JsonAsync(toppedUp, HttpStatusCode.OK);
            Assert.Equal(("ACTIVE", "5000"), (session.GetProperty("state").GetString(), session.GetProperty("balance").GetString()));
            Assert.True(PaywallHarness.SettlementOf(toppedUp).Success);
        }
        for (var i = 0; i < 2; i++)
        {
            using var response = await _gate.WithTokenAsync(HttpMethod.Get, "/api/content/more", token);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        using (var closed = await _gate.WithTokenAsync(HttpMethod.Post, $"/api/sessions/{id}/close", token))
        {
            var body = await JsonAsync(closed, HttpStatusCode.OK);
            Assert.Equal(("3000", "ledger", "REFUNDED"), (body.GetProperty("refunded").GetString(), body.GetProperty("method").GetString(), body.GetProperty("state").GetString()));
            Assert.Equal(SessionRefunds.TransactionOf(id), body.GetProperty("transaction").GetString());
        }
        var expected = 1_000_000 - 100_000 - 5000 + 3000;
        Assert.Equal(expected, await _gate.BalanceAsync(payer.Lower));
        var refund = (await _gate.TransfersAsync(payer.Lower)).EnumerateArray().First();
        Assert.Equal(("refund", "3000", TestPayer.PayTo.ToLowerInvariant()), (refund.GetProperty("kind").GetString(), refund.GetProperty("value").GetString(),
            refund.GetProperty("from").GetString()));

        // Closing again answers the same and moves nothing; the session reads REFUNDED; the token pays for nothing more.
        using (var again = await _gate.WithTokenAsync(HttpMethod.Post, $"/api/sessions/{id}/close", token))
            Assert.Equal("3000", (await JsonAsync(again, HttpStatusCode.OK)).GetProperty("refunded").GetString());
        Assert.Equal(expected, await _gate.BalanceAsync(payer.Lower));
        using (var get = await _gate.WithTokenAsync(HttpMethod.Get, $"/api/sessions/{id}", token))
        {
            var session = await JsonAsync(get, HttpStatusCode.OK);
            Assert.Equal(("REFUNDED", 102L), (session.GetProperty("state").GetString(), session.GetProperty("requestCount").GetInt64()));
        }
        using var after = await _gate.WithTokenAsync(HttpMethod.Get, "/api/content/after", token);
        Assert.Equal(HttpStatusCode.PaymentRequired, after.StatusCode);
        Assert.False((await JsonAsync(after, HttpStatusCode.PaymentRequired)).TryGetProperty("topUp", out _));
    }

    [Fact]
    public async Task Failed_upstream_is_not_charged()
    {
        var payer = await _gate.FundedPayerAsync();
        var (id, token, _) = await _gate.OpenAsync(payer, 10 * GetPrice);

        using (var failed = await _gate.WithTokenAsync(HttpMethod.Get, "/api/content/fail-1", token))
        {
            Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
            Assert.Equal("10000", Header(failed, SessionSpending.BalanceHeader));
        }
        using (var missing = await _gate.WithTokenAsync(HttpMethod.Get, "/api/content/missing-1", token))
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        using (var ok = await _gate.WithTokenAsync(HttpMethod.Get, "/api/content/ok", token))
            Assert.Equal("9000", Header(ok, SessionSpending.BalanceHeader));
        using var get = await _gate.WithTokenAsync(HttpMethod.Get, $"/api/sessions/{id}", token);
        var session = await JsonAsync(get, HttpStatusCode.OK);
        Assert.Equal(("9000", "1000", 1L), (session.GetProperty("balance").GetString(), session.GetProperty("spent").GetString(),
            session.GetProperty("requestCount").GetInt64()));
    }

    [Fact]
    public async Task Once_loaded_a_session_is_spent_while_SessionApi_is_away_and_every_debit_reaches_its_ledger_when_it_is_back()
    {
        var payer = await _gate.FundedPayerAsync();
        var (id, token, _) = await _gate.OpenAsync(payer, 10 * GetPrice);
        using (var first = await _gate.WithTokenAsync(HttpMethod.Get, "/api/content/a", token))
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);

        _gate.SessionApiLink.Down = true;
        for (var i = 0; i < 4; i++)
        {
            using var response = await _gate.WithTokenAsync(HttpMethod.Get, $"/api/content/b{i}", token);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(((9 - 1 - i) * GetPrice).ToString(), Header(response, SessionSpending.BalanceHeader));
        }
        await Assert.ThrowsAsync<SessionApiUnavailableException>(() =>
            _gate.GateServices.GetRequiredService<SessionDebitFolder>().FoldAsync(TestContext.Current.CancellationToken));

        _gate.SessionApiLink.Down = false;
        Assert.Equal(5L, await _gate.LedgerCountAsync(id, "debit"));
        using var get = await _gate.WithTokenAsync(HttpMethod.Get, $"/api/sessions/{id}", token);
        var session = await JsonAsync(get, HttpStatusCode.OK);
        Assert.Equal(("5000", "5000", 5L), (session.GetProperty("balance").GetString(), session.GetProperty("spent").GetString(),
            session.GetProperty("requestCount").GetInt64()));
        Assert.Empty((await _gate.AuditAsync()).GetProperty("violations").EnumerateArray());
    }

    [Fact]
    public async Task A_hold_left_by_a_gate_that_stopped_mid_request_is_released_and_never_charged()
    {
        var payer = await _gate.FundedPayerAsync();
        var (id, token, _) = await _gate.OpenAsync(payer, 10 * GetPrice);
        using (var first = await _gate.WithTokenAsync(HttpMethod.Get, "/api/content/a", token))
            Assert.Equal("9000", Header(first, SessionSpending.BalanceHeader));
        // What a gate leaves when it dies between forwarding and answering: a hold nobody confirms or releases.
        var balances = _gate.GateServices.GetRequiredService<SessionBalances>();
        var hold = await balances.HoldAsync(SessionSpending.TokenHash(token), "demo", "req_of_a_dead_gate", 3000, _gate.Clock.GetUtcNow());
        Assert.Equal(HoldStatus.Held, hold.Status);
        var folder = _gate.GateServices.GetRequiredService<SessionDebitFolder>();

        Assert.Equal(0, await folder.SweepAsync());   // not old enough: it could still be answered
        _gate.Clock.Advance(TimeSpan.FromMinutes(3));
        Assert.Equal(1, await folder.SweepAsync());

        Assert.Equal(9000, (await balances.BalanceAsync(id))!.Value);
        Assert.Equal(SettleStatus.Unknown, (await balances.ConfirmAsync(id, "req_of_a_dead_gate", "r", _gate.Clock.GetUtcNow())).Status);
        Assert.Equal(1L, await _gate.LedgerCountAsync(id, "debit"));
    }

    [Fact]
    public async Task A_close_waits_for_the_request_in_flight_and_refunds_exactly_what_is_left_after_it()
    {
        var payer = await _gate.FundedPayerAsync(100_000);
        var (id, token, _) = await _gate.OpenAsync(payer, 10 * GetPrice);
        using (var first = await _gate.WithTokenAsync(HttpMethod.Get, "/api/content/a", token))
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var balances = _gate.GateServices.GetRequiredService<SessionBalances>();
        var now = _gate.Clock.GetUtcNow();
        Assert.Equal(HoldStatus.Held, (await balances.HoldAsync(SessionSpending.TokenHash(token), "demo", "req_in_flight", 2000, now)).Status);

        var close = _gate.WithTokenAsync(HttpMethod.Post, $"/api/sessions/{id}/close", token);
        await Task.Delay(300, TestContext.Current.CancellationToken);
        Assert.False(close.IsCompleted);   // waiting for the request in flight
        using (var refused = await _gate.WithTokenAsync(HttpMethod.Get, "/api/content/late", token))
            Assert.Equal(HttpStatusCode.PaymentRequired, refused.StatusCode);   // no new spending once closing
        Assert.Equal(SettleStatus.Done, (await balances.ConfirmAsync(id, "req_in_flight", "r", now)).Status);

        using var closed = await close;
        var body = await JsonAsync(closed, HttpStatusCode.OK);
        Assert.Equal(("7000", "REFUNDED"), (body.GetProperty("refunded").GetString(), body.GetProperty("state").GetString()));
        Assert.Equal(2L, await _gate.LedgerCountAsync(id, "debit"));
        Assert.Empty((await _gate.AuditAsync()).GetProperty("violations").EnumerateArray());
    }

    [Fact]
    public async Task Top_up_refused_after_settlement_because_the_session_expired_meanwhile_is_refunded_once()
    {
        var payer = await _gate.FundedPayerAsync(1_000_000);
        var (id, _, _) = await _gate.OpenAsync(payer, 10 * GetPrice, ttlSeconds: 60);
        var payment = await _gate.PayAsync(payer, $"/api/sessions/{id}/topup", new { amount = "5000" }, "5000");
        // The gate checks the session, settles, then asks SessionApi to top up: the session expires in between (90 s
        // later, within the 2-minute life of the payer context the gate signed).
        _gate.SessionApiLink.OnSend = request =>
        {
            if (request.RequestUri!.AbsolutePath.EndsWith("/topups", StringComparison.Ordinal))
                _gate.Clock.Advance(TimeSpan.FromSeconds(90));
        };
        using (var refused = await _gate.PostJsonAsync($"/api/sessions/{id}/topup", new { amount = "5000" }, payment))
        {
            var problem = await JsonAsync(refused, HttpStatusCode.Conflict);
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
            Assert.Equal(("topup-refunded", "session-expired"), (problem.GetProperty("code").GetString(), problem.GetProperty("sessionCode").GetString()));
            var refund = problem.GetProperty("refund");
            Assert.Equal(("5000", "ledger", SessionRefunds.TopUpTransactionOf(problem.GetProperty("paymentId").GetString()!)),
                (refund.GetProperty("amount").GetString(), refund.GetProperty("method").GetString(), refund.GetProperty("transaction").GetString()));
            // The payment itself was settled: its settlement is reported like any other.
            Assert.True(PaywallHarness.SettlementOf(refused).Success);
            Assert.Equal("refunded", await _gate.PaymentStatusAsync(problem.GetProperty("paymentId").GetString()!));
        }
        _gate.SessionApiLink.OnSend = null;
        // Deposit gone into the session, the top-up paid and paid back.
        Assert.Equal(1_000_000 - 10 * GetPrice, await _gate.BalanceAsync(payer.Lower));
        var back = (await _gate.TransfersAsync(payer.Lower)).EnumerateArray().First();
        Assert.Equal(("refund", "5000"), (back.GetProperty("kind").GetString(), back.GetProperty("value").GetString()));
        Assert.Equal(0L, await _gate.LedgerCountAsync(id, "topup"));

        // The same header again is neither a second top-up nor a second refund: the expired session is refused up front.
        using (var again = await _gate.PostJsonAsync($"/api/sessions/{id}/topup", new { amount = "5000" }, payment))
            Assert.Contains("nothing was charged", (await JsonAsync(again, HttpStatusCode.Conflict)).GetProperty("detail").GetString());
        Assert.Equal(1_000_000 - 10 * GetPrice, await _gate.BalanceAsync(payer.Lower));
        Assert.Equal(0L, await _gate.LedgerCountAsync(id, "topup"));
    }

    [Fact]
    public async Task Any_session_token_lists_its_payers_sessions_newest_first_without_tokens()
    {
        var payer = await _gate.FundedPayerAsync();
        var (first, firstToken, _) = await _gate.OpenAsync(payer, 10 * GetPrice);
        var (second, _, _) = await _gate.OpenAsync(payer, 20 * GetPrice);
        var other = await _gate.FundedPayerAsync();
        await _gate.OpenAsync(other, 10 * GetPrice);
        using (var closed = await _gate.WithTokenAsync(HttpMethod.Post, $"/api/sessions/{first}/close", firstToken))
            Assert.Equal(HttpStatusCode.OK, closed.StatusCode);

        // A closed session's token still proves its payer.
        using (var all = await _gate.WithTokenAsync(HttpMethod.Get, "/api/sessions", firstToken))
        {
            var items = (await JsonAsync(all, HttpStatusCode.OK)).GetProperty("items").EnumerateArray().ToList();
            Assert.Equal([second, first], items.Select(i => i.GetProperty("id").GetString()));
            Assert.All(items, i => Assert.Equal(payer.Lower, i.GetProperty("payer").GetString()));
            Assert.All(items, i => Assert.False(i.TryGetProperty("token", out _)));
        }
        using (var refunded = await _gate.WithTokenAsync(HttpMethod.Get, "/api/sessions?state=REFUNDED&limit=10", firstToken))
            Assert.Equal([first], (await JsonAsync(refunded, HttpStatusCode.OK)).GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetString()));
        using (var invalid = await _gate.WithTokenAsync(HttpMethod.Get, "/api/sessions?limit=0", firstToken))
        {
            Assert.True((await JsonAsync(invalid, HttpStatusCode.BadRequest)).GetProperty("errors").TryGetProperty("limit", out _));
            Assert.Equal("application/problem+json", invalid.Content.Headers.ContentType?.MediaType);
        }
        using (var none = await _gate.WithTokenAsync(HttpMethod.Get, "/api/sessions", null))
            await JsonAsync(none, HttpStatusCode.Unauthorized);
        using (var unknown = await _gate.WithTokenAsync(HttpMethod.Get, "/api/sessions", "st_" + new string('A', 43)))
            await JsonAsync(unknown, HttpStatusCode.Unauthorized);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Top_up_settled_while_SessionApi_was_away_then_resent_after_expiry_is_refunded_or_if_it_was_applied_answered(bool applied)
    {
        var payer = await _gate.FundedPayerAsync(1_000_000);
        var (id, _, _) = await _gate.OpenAsync(payer, 10 * GetPrice, ttlSeconds: 60);
        var payment = await _gate.PayAsync(payer, $"/api/sessions/{id}/topup", new { amount = "5000" }, "5000");
        static bool TopUps(HttpRequestMessage request) => request.RequestUri!.AbsolutePath.EndsWith("/topups", StringComparison.Ordinal);
        // Settled, then SessionApi is unreachable (nothing applied) or applies it and its answer is lost: 503, send again.
        if (applied) _gate.SessionApiLink.LoseResponsesFor = TopUps; else _gate.SessionApiLink.DownFor = TopUps;
        using (var away = await _gate.PostJsonAsync($"/api/sessions/{id}/topup", new { amount = "5000" }, payment))
            Assert.NotNull((await JsonAsync(away, HttpStatusCode.ServiceUnavailable)).GetProperty("paymentId").GetString());
        (_gate.SessionApiLink.LoseResponsesFor, _gate.SessionApiLink.DownFor) = (null, null);
        Assert.Equal(1_000_000 - 10 * GetPrice - 5000, await _gate.BalanceAsync(payer.Lower));

        // By the time the agent sends the same header again, the session has expired: no new money, but this one is finished.
        _gate.Clock.Advance(TimeSpan.FromSeconds(90));
        using var again = await _gate.PostJsonAsync($"/api/sessions/{id}/topup", new { amount = "5000" }, payment);
        if (applied)
        {
            // SessionApi had applied it: the top-up's own answer, and the money is in the session (refunded when it is closed).
            Assert.Equal("5000", (await JsonAsync(again, HttpStatusCode.OK)).GetProperty("toppedUp").GetString());
            Assert.Equal(1L, await _gate.LedgerCountAsync(id, "topup"));
            Assert.Equal(1_000_000 - 10 * GetPrice - 5000, await _gate.BalanceAsync(payer.Lower));
        }
        else
        {
            var problem = await JsonAsync(again, HttpStatusCode.Conflict);
            Assert.Equal(("topup-refunded", "session-expired"), (problem.GetProperty("code").GetString(), problem.GetProperty("sessionCode").GetString()));
            Assert.Equal(0L, await _gate.LedgerCountAsync(id, "topup"));
            Assert.Equal(1_000_000 - 10 * GetPrice, await _gate.BalanceAsync(payer.Lower));
            Assert.Equal("refunded", await _gate.PaymentStatusAsync(problem.GetProperty("paymentId").GetString()!));
        }
        // Finished either way: the header pays for nothing more (applied, it answers the top-up's answer again).
        using var third = await _gate.PostJsonAsync($"/api/sessions/{id}/topup", new { amount = "5000" }, payment);
        if (applied)
            Assert.Equal("5000", (await JsonAsync(third, HttpStatusCode.OK)).GetProperty("toppedUp").GetString());
        else
            Assert.Contains("nothing was charged", (await JsonAsync(third, HttpStatusCode.Conflict)).GetProperty("detail").GetString());
        Assert.Equal(applied ? 1L : 0L, await _gate.LedgerCountAsync(id, "topup"));
    }

    [Fact]
    public async Task Expired_unknown_or_malformed_token_gets_the_plain_402()
    {
        var payer = await _gate.FundedPayerAsync();
        var (_, token, _) = await _gate.OpenAsync(payer, 10 * GetPrice, ttlSeconds: 60);
        using (var fresh = await _gate.WithTokenAsync(HttpMethod.Get, "/api/content/a", token))
            Assert.Equal(HttpStatusCode.OK, fresh.StatusCode);

        _gate.Clock.Advance(TimeSpan.FromSeconds(61));
        foreach (var candidate in new[] { token, "st_" + new string('A', 43), "not-a-token" })
        {
            using var response = await _gate.WithTokenAsync(HttpMethod.Get, "/api/content/a", candidate);
            var body = await JsonAsync(response, HttpStatusCode.PaymentRequired);
            Assert.Equal("1000", body.GetProperty("accepts")[0].GetProperty("maxAmountRequired").GetString());
            Assert.False(body.TryGetProperty("topUp", out _));
            Assert.Null(Header(response, SessionSpending.BalanceHeader));
        }
        Assert.Single(_gate.Upstream.Calls);
    }

    [Fact]
    public async Task Concurrent_requests_on_a_balance_for_50_serve_exactly_50()
    {
        var payer = await _gate.FundedPayerAsync();
        var (id, token, _) = await _gate.OpenAsync(payer, 50 * GetPrice);

        var statuses = await Task.WhenAll(Enumerable.Range(0, 500).Select(async i =>
        {
            using var response = await _gate.WithTokenAsync(HttpMethod.Get, $"/api/content/c{i}", token);
            return response.StatusCode;
        }));

        var summary = string.Join(", ", statuses.GroupBy(s => s).Select(g => $"{(int)g.Key}x{g.Count()}"));
        Assert.True(statuses.Count(s => s == HttpStatusCode.OK) == 50, summary);
        Assert.Equal(450, statuses.Count(s => s == HttpStatusCode.PaymentRequired));
        Assert.Equal(50, _gate.Upstream.Calls.Count);
        using var get = await _gate.WithTokenAsync(HttpMethod.Get, $"/api/sessions/{id}", token);
        var session = await JsonAsync(get, HttpStatusCode.OK);
        Assert.Equal(("0", "DEPLETED", 50L), (session.GetProperty("balance").GetString(), session.GetProperty("state").GetString(),
            session.GetProperty("requestCount").GetInt64()));
    }

    [Theory]
    [InlineData("""{"deposit":"0"}""", "deposit")]
    [InlineData("""{"deposit":"12.5"}""", "deposit")]
    [InlineData("""{"deposit":"999"}""", "deposit")]             // below the cheapest route (1000)
    [InlineData("""{"deposit":"1000000001"}""", "deposit")]      // above Gate:Sessions:MaximumDeposit
    [InlineData("""{"deposit":"100000","ttlSeconds":10}""", "ttlSeconds")]
    [InlineData("""{"deposit":"100000","kind":"pass"}""", "kind")] // demo sells no passes here
    [InlineData("""{"deposit":"100000","kind":"forever"}""", "kind")]
    [InlineData("""{"deposit":"100000","organization":"nobody"}""", "organization")]
    public async Task Invalid_open_request_is_400_before_any_402(string json, string field)
    {
        using var response = await _gate.Http.PostAsync("/api/sessions", new StringContent(json, System.Text.Encoding.UTF8, "application/json"), Ct);
        var body = await JsonAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.True(body.GetProperty("errors").TryGetProperty(field, out _), body.ToString());
    }

    [Fact]
    public async Task SessionApi_down_after_settlement_keeps_the_money_on_record_and_the_same_header_opens_the_session()
    {
        var payer = await _gate.FundedPayerAsync();
        var body = new { deposit = "20000" };
        var payment = await _gate.PayAsync(payer, "/api/sessions", body, "20000");

        _gate.SessionApiLink.Down = true;
        string paymentId;
        using (var down = await _gate.PostJsonAsync("/api/sessions", body, payment))
        {
            var problem = await JsonAsync(down, HttpStatusCode.ServiceUnavailable);
            paymentId = problem.GetProperty("paymentId").GetString()!;
        }
        Assert.Equal(980_000, await _gate.BalanceAsync(payer.Lower));
        Assert.Equal("settled", await _gate.PaymentStatusAsync(paymentId));

        _gate.SessionApiLink.Down = false;
        string text;
        using (var retried = await _gate.PostJsonAsync("/api/sessions", body, payment))
        {
            text = await retried.Content.ReadAsStringAsync(Ct);
            var session = await JsonAsync(retried, HttpStatusCode.Created);
            Assert.Equal("20000", session.GetProperty("deposit").GetString());
            Assert.NotNull(Header(retried, SessionSpending.TokenHeader));
        }
        Assert.Equal("served", await _gate.PaymentStatusAsync(paymentId));
        Assert.Equal(980_000, await _gate.BalanceAsync(payer.Lower));
        // Served once: the same header again answers the same (session and token), charging nothing.
        using var repeat = await _gate.PostJsonAsync("/api/sessions", body, payment);
        Assert.Equal(HttpStatusCode.Created, repeat.StatusCode);
        Assert.Equal(text, await repeat.Content.ReadAsStringAsync(Ct));
        Assert.Equal(980_000, await _gate.BalanceAsync(payer.Lower));
        Assert.Equal("served", await _gate.PaymentStatusAsync(paymentId));
    }

    [Fact]
    public async Task SessionApi_down_answers_503_for_session_requests_and_forwards_nothing()
    {
        var payer = await _gate.FundedPayerAsync();
        var (_, token, _) = await _gate.OpenAsync(payer, 10 * GetPrice);
        _gate.SessionApiLink.Down = true;
        using var response = await _gate.WithTokenAsync(HttpMethod.Get, "/api/content/a", token);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Empty(_gate.Upstream.Calls);
    }

    [Fact]
    public async Task Close_and_get_need_the_sessions_own_token()
    {
        var payer = await _gate.FundedPayerAsync();
        var (id, _, _) = await _gate.OpenAsync(payer, 10 * GetPrice);
        var (_, otherToken, _) = await _gate.OpenAsync(payer, 10 * GetPrice);

        using (var none = await _gate.WithTokenAsync(HttpMethod.Post, $"/api/sessions/{id}/close", null))
            Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        using (var other = await _gate.WithTokenAsync(HttpMethod.Post, $"/api/sessions/{id}/close", otherToken))
            Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
        using (var get = await _gate.WithTokenAsync(HttpMethod.Get, $"/api/sessions/{id}", otherToken))
            Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
        Assert.Equal(980_000, await _gate.BalanceAsync(payer.Lower));
    }
}
