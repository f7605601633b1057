using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using PaymentGate.Tests.Facilitator;
using Sessions.PaymentGate.Sessions;
using Sessions.Payments.Mpp;
using Sessions.Payments.Receipts;
using Sessions.Testing;
using static PaymentGate.Tests.Sessions.SessionGateHarness;

namespace PaymentGate.Tests.Sessions;

// Issue 20: terms before money. An intent gets an offer signed with the gate's key (volume tiers applied); a session opened on
// it pays the offered prices, and the gate measures each request's upstream part: over the latency bound the debit is the
// price less the SLA credit, a failed answer is never charged. Forged, altered, expired and foreign offers are refused.
public sealed class OfferSessionTests(InfrastructureFixture infrastructure) : IAsyncLifetime
{
    const string GetRoute = "GET /api/content/{**key}";
    SessionGateHarness _gate = null!;
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _gate = await SessionGateHarness.StartAsync(infrastructure, new()
        {
            ["Gate:Organizations:demo:Offers:Tiers:0:MinRequests"] = "100",
            ["Gate:Organizations:demo:Offers:Tiers:0:DiscountPercent"] = "10",
            ["Gate:Organizations:demo:Offers:Tiers:1:MinRequests"] = "1000",
            ["Gate:Organizations:demo:Offers:Tiers:1:DiscountPercent"] = "25",
            ["Gate:Organizations:demo:Offers:LatencyMs"] = "1000",
            ["Gate:Organizations:demo:Offers:LatencyCreditPercent"] = "50",
            ["Gate:Organizations:demo:Offers:OfferTtlSeconds"] = "300",
        });
        _gate.Upstream.SlowFor = TimeSpan.FromMilliseconds(2500);
    }

    public ValueTask DisposeAsync() => _gate.DisposeAsync();

    async Task<(JsonElement Offer, string Jws)> OfferAsync(object intent)
    {
        using var response = await _gate.Http.PostAsJsonAsync("/api/offers", intent, Ct);
        var body = await JsonAsync(response, HttpStatusCode.Created);
        return (body.GetProperty("offer"), body.GetProperty("jws").GetString()!);
    }

    static string PriceOf(JsonElement offer, string route) =>
        offer.GetProperty("routes").EnumerateArray().Single(r => r.GetProperty("route").GetString() == route).GetProperty("price").GetString()!;

    /// <summary>Opens a session on the offer, paying <paramref name="deposit"/>; returns (id, token, body).</summary>
    async Task<(string Id, string Token, JsonElement Body)> OpenOnAsync(TestPayer payer, string jws, string deposit)
    {
        var body = new { offer = jws };
        var payment = await _gate.PayAsync(payer, "/api/sessions", body, deposit);
        using var response = await _gate.PostJsonAsync("/api/sessions", body, payment);
        var json = await JsonAsync(response, HttpStatusCode.Created);
        return (json.GetProperty("id").GetString()!, json.GetProperty("token").GetString()!, json);
    }

    [Fact]
    public async Task Volume_tiers_price_the_routes_as_configured_and_the_offer_verifies_with_the_published_keys()
    {
        var jwks = JwkSet.TryParse(await _gate.Http.GetStringAsync("/.well-known/jwks.json", Ct))!;
        foreach (var (intent, expected) in new (object, string)[]
        {
            (new { expectedRequests = 99, routes = new[] { GetRoute } }, "1000"),
            (new { expectedRequests = 100, routes = new[] { GetRoute } }, "900"),
            (new { expectedRequests = 5000, routes = new[] { GetRoute } }, "750"),
            (new { budget = "150000", routes = new[] { GetRoute } }, "900"),   // 150 requests at list price: tier 100
        })
        {
            var (offer, jws) = await OfferAsync(intent);
            Assert.Equal(expected, PriceOf(offer, GetRoute));
            Assert.Equal(JwsCheck.Valid, Jws.Verify(jws, jwks, out var header, out var payload));
            Assert.Equal(("sessions-offer+jws", jwks.Keys[0].Kid), (header!.Typ, header.Kid));
            Assert.Equal(offer.GetProperty("id").GetString(), JsonDocument.Parse(payload).RootElement.GetProperty("id").GetString());
        }
        // Every paid route when none is named; the deposit covers the expected requests at the dearest offered price (PUT 10000 − 10%).
        var (all, _) = await OfferAsync(new { expectedRequests = 100 });
        Assert.Equal(("9000", "900", "900000"), (PriceOf(all, "PUT /api/content/{**key}"), PriceOf(all, GetRoute), all.GetProperty("deposit").GetString()));
        Assert.Equal((1000L, 50), (all.GetProperty("sla").GetProperty("latencyMs").GetInt64(), all.GetProperty("sla").GetProperty("latencyCreditPercent").GetInt32()));

        using var unknown = await _gate.Http.PostAsJsonAsync("/api/offers", new { routes = new[] { "GET /nowhere" } }, Ct);
        Assert.Equal("invalid-field", (await JsonAsync(unknown, HttpStatusCode.BadRequest)).GetProperty("code").GetString());
    }

    [Fact]
    public async Task Slow_and_failing_requests_under_concurrency_are_credited_exactly_as_the_terms_say_once_in_balance_and_refund()
    {
        var payer = await _gate.FundedPayerAsync();
        var (offer, jws) = await OfferAsync(new { expectedRequests = 100, routes = new[] { GetRoute }, payer = payer.Lower });
        Assert.Equal(("900", "90000"), (PriceOf(offer, GetRoute), offer.GetProperty("deposit").GetString()));
        var (id, token, opened) = await OpenOnAsync(payer, jws, "90000");
        Assert.Equal(offer.GetProperty("id").GetString(), opened.GetProperty("terms").GetProperty("id").GetString());

        // 16 at once: 8 slow (over the 1000 ms bound: 900 − 50% = 450 each), 4 failing (500: never charged), 4 fast (900).
        var keys = Enumerable.Range(0, 8).Select(i => $"slow-{i}").Concat(Enumerable.Range(0, 4).Select(i => $"fail-{i}"))
            .Concat(Enumerable.Range(0, 4).Select(i => $"ok-{i}")).ToList();
        var answers = await Task.WhenAll(keys.Select(async key =>
        {
            using var response = await _gate.WithTokenAsync(HttpMethod.Get, $"/api/content/{key}", token);
            var receipt = Header(response, "Sessions-Receipt") is { } jwsReceipt ? Receipt.TryParse(Jws.PayloadOf(jwsReceipt)) : null;
            return (key, response.StatusCode, Charged: receipt?.Amount);
        }));
        foreach (var (key, status, charged) in answers)
        {
            var expected = key.StartsWith("slow") ? (HttpStatusCode.OK, "450") : key.StartsWith("fail") ? (HttpStatusCode.InternalServerError, (string?)null)
                : (HttpStatusCode.OK, "900");
            Assert.True(expected == (status, charged), $"{key}: {(int)status} charged {charged}");
        }

        const long spent = 8 * 450 + 4 * 900;
        using (var get = await _gate.WithTokenAsync(HttpMethod.Get, $"/api/sessions/{id}", token))
        {
            var session = await JsonAsync(get, HttpStatusCode.OK);
            Assert.Equal((90_000 - spent).ToString(), session.GetProperty("balance").GetString());
            Assert.Equal(jws, session.GetProperty("terms").GetProperty("jws").GetString());
            var sla = session.GetProperty("sla");
            Assert.Equal((12L, 4L, 8L, 8L, "3600", "3600"), (sla.GetProperty("served").GetInt64(), sla.GetProperty("failed").GetInt64(),
                sla.GetProperty("overLatencyBound").GetInt64(), sla.GetProperty("credits").GetInt64(), sla.GetProperty("credited").GetString(),
                sla.GetProperty("failedNotCharged").GetString()));
            Assert.Equal(7500L, sla.GetProperty("availabilityBasisPoints").GetInt64());
            Assert.True(sla.GetProperty("latencyMaxMs").GetInt64() >= 2500);
        }
        Assert.Equal(12, await _gate.LedgerCountAsync(id, "debit"));
        // The ledger says which debits were credited, and each credit was announced once (session.sla_breached + session.credited).
        Assert.Equal("8 3600", await SessionsDbAsync("SELECT count(*) || ' ' || sum(sla_credit) FROM session_ledger WHERE session_id = $1 AND sla_credit > 0", id));
        Assert.Equal("session.credited:8:3600 session.sla_breached:8:", await SessionsDbAsync("""
            SELECT string_agg(event || ':' || n || ':' || coalesce(credited::text, ''), ' ' ORDER BY event) FROM (
              SELECT event, count(*) AS n, sum((payload->>'amount')::numeric) AS credited FROM outbox
              WHERE payload->'session'->>'id' = $1 AND event IN ('session.credited', 'session.sla_breached') GROUP BY event) e
            """, id));

        using (var closed = await _gate.WithTokenAsync(HttpMethod.Post, $"/api/sessions/{id}/close", token))
            Assert.Equal((90_000 - spent).ToString(), (await JsonAsync(closed, HttpStatusCode.OK)).GetProperty("refunded").GetString());
        Assert.Equal(1_000_000 - spent, await _gate.BalanceAsync(payer.Lower));
    }

    [Fact]
    public async Task An_offer_altered_in_any_field_forged_expired_or_foreign_is_refused_before_any_charge()
    {
        var payer = await _gate.FundedPayerAsync();
        var (_, jws) = await OfferAsync(new { expectedRequests = 100, routes = new[] { GetRoute }, payer = payer.Lower });
        var parts = jws.Split('.');
        var payload = JsonNode.Parse(Decode(parts[1]))!.AsObject();

        var altered = new List<Action<JsonObject>>
        {
            o => o["id"] = "off_0000", o => o["organization"] = "other", o => o["payer"] = new TestPayer().Lower,
            o => o["deposit"] = "1", o => o["durationSeconds"] = 604800, o => o["expiresAt"] = "2099-01-01T00:00:00Z",
            o => o["routes"]![0]!["price"] = "1", o => o["sla"]!["latencyMs"] = 1, o => o["sla"]!["latencyCreditPercent"] = 100,
        };
        foreach (var alter in altered)
        {
            var copy = payload.DeepClone().AsObject();
            alter(copy);
            await RefusedAsync(payer, parts[0] + "." + Base64Url.Encode(JsonSerializer.SerializeToUtf8Bytes(copy)) + "." + parts[2], 400, "offer-invalid");
        }
        // Signed by another key, under its own kid or under the gate's.
        var stranger = Ed25519Key.Generate();
        var forged = Jws.Sign(stranger, "sessions-offer+jws", Decode(parts[1]));
        await RefusedAsync(payer, forged, 400, "offer-invalid");
        var forgedParts = forged.Split('.');
        await RefusedAsync(payer, parts[0] + "." + forgedParts[1] + "." + forgedParts[2], 400, "offer-invalid");
        await RefusedAsync(payer, "not-a-jws", 400, "offer-invalid");

        // Made to another payer; for another organisation.
        await RefusedAsync(await _gate.FundedPayerAsync(), jws, 403, "offer-foreign", pays: true);
        using (var other = await _gate.PostJsonAsync("/api/sessions", new { offer = jws, organization = "other" }))
            Assert.Equal("offer-foreign", (await JsonAsync(other, HttpStatusCode.Forbidden)).GetProperty("code").GetString());

        _gate.Clock.Advance(TimeSpan.FromSeconds(301));
        await RefusedAsync(payer, jws, 410, "offer-expired");
        Assert.Equal(1_000_000, await _gate.BalanceAsync(payer.Lower));
        Assert.Empty(_gate.Upstream.Calls);
    }

    async Task<string?> SessionsDbAsync(string sql, string sessionId)
    {
        await using var connection = new Npgsql.NpgsqlConnection(_gate.SessionsDatabase);
        await connection.OpenAsync(Ct);
        await using var command = new Npgsql.NpgsqlCommand(sql, connection);
        command.Parameters.Add(new Npgsql.NpgsqlParameter { Value = sessionId });
        return (await command.ExecuteScalarAsync(Ct))?.ToString();
    }

    static byte[] Decode(string part) => Base64Url.TryDecode(part, out var bytes) ? bytes : throw new FormatException(part);

    /// <summary>Presents the offer (with a signed payment of its deposit when <paramref name="pays"/>) and expects the problem.</summary>
    async Task RefusedAsync(TestPayer payer, string jws, int status, string code, bool pays = false)
    {
        var body = new { offer = jws };
        var payment = pays ? await _gate.PayAsync(payer, "/api/sessions", body, "90000") : null;
        using var response = await _gate.PostJsonAsync("/api/sessions", body, payment);
        var problem = await JsonAsync(response, (HttpStatusCode)status);
        Assert.Equal(code, problem.GetProperty("code").GetString());
        if (pays)
            Assert.Equal(1_000_000, await _gate.BalanceAsync(payer.Lower));
    }

    [Fact]
    public async Task An_exhausted_session_on_an_offer_asks_for_a_top_up_of_what_its_terms_price_lacks()
    {
        var payer = await _gate.FundedPayerAsync();
        var (offer, jws) = await OfferAsync(new { expectedRequests = 100, budget = "1000", routes = new[] { GetRoute } });
        Assert.Equal(("900", "1000"), (PriceOf(offer, GetRoute), offer.GetProperty("deposit").GetString()));
        var (id, token, _) = await OpenOnAsync(payer, jws, "1000");
        using (var served = await _gate.WithTokenAsync(HttpMethod.Get, "/api/content/first", token))
            Assert.Equal("100", Header(served, SessionSpending.BalanceHeader));
        using var refused = await _gate.WithTokenAsync(HttpMethod.Get, "/api/content/second", token);
        var topUp = (await JsonAsync(refused, HttpStatusCode.PaymentRequired)).GetProperty("topUp");
        Assert.Equal(($"/api/sessions/{id}/topup", "800"), (topUp.GetProperty("path").GetString(), topUp.GetProperty("minimum").GetString()));
    }

    [Fact]
    public async Task A_session_without_an_offer_pays_the_price_list_with_no_credit_and_shows_no_terms()
    {
        var payer = await _gate.FundedPayerAsync();
        var (id, token, _) = await _gate.OpenAsync(payer, 10_000);
        using (var slow = await _gate.WithTokenAsync(HttpMethod.Get, "/api/content/slow-plain", token))
            Assert.Equal(("9000"), Header(slow, SessionSpending.BalanceHeader));
        using (var failed = await _gate.WithTokenAsync(HttpMethod.Get, "/api/content/fail-plain", token))
            Assert.Equal((HttpStatusCode.InternalServerError, "9000"), (failed.StatusCode, Header(failed, SessionSpending.BalanceHeader)));
        using var get = await _gate.WithTokenAsync(HttpMethod.Get, $"/api/sessions/{id}", token);
        var session = await JsonAsync(get, HttpStatusCode.OK);
        Assert.Equal("9000", session.GetProperty("balance").GetString());
        Assert.False(session.TryGetProperty("terms", out _));
        Assert.False(session.TryGetProperty("sla", out _));
    }
}
