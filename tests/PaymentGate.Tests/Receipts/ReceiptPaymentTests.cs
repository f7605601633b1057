using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using PaymentGate.Tests.Facilitator;
using PaymentGate.Tests.Paywall;
using PaymentGate.Tests.Sessions;
using Sessions.PaymentGate.Receipts;
using Sessions.Payments.Receipts;
using Sessions.Testing;
using static PaymentGate.Tests.Mpp.MppClient;
using static PaymentGate.Tests.Receipts.ReceiptAssertions;

namespace PaymentGate.Tests.Receipts;

// Issue 19: every fresh payment (x402 v2, v1, MPP) answers with a signed receipt that verifies against the published keys,
// is stored, and is listed to the operator with the admin key only.
public sealed class ReceiptPaymentTests(InfrastructureFixture infrastructure) : IAsyncLifetime
{
    const string AdminKey = "receipts-admin-key-0123456789";
    PaywallHarness _gate = null!;
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _gate = await PaywallHarness.StartAsync(infrastructure, new()
    {
        ["Gate:Mpp:ChallengeKey"] = ChallengeKey,
        ["Gate:AdminKey"] = AdminKey,
        ["Gate:Receipts:SigningKeys:0"] = "current-receipt-key-secret",
        ["Gate:Receipts:SigningKeys:1"] = "previous-receipt-key-secret",
    });

    public ValueTask DisposeAsync() => _gate.DisposeAsync();

    [Fact]
    public async Task The_gate_publishes_its_current_and_previous_keys_and_signs_with_the_first()
    {
        var jwks = await JwksAsync(_gate.Http);
        Assert.Equal([Ed25519Key.FromSecret("current-receipt-key-secret").Kid, Ed25519Key.FromSecret("previous-receipt-key-secret").Kid],
            jwks.Keys.Select(k => k.Kid));
        Assert.All(jwks.Keys, k => Assert.Equal(("OKP", "Ed25519", "EdDSA"), (k.Kty, k.Crv, k.Alg)));

        using var document = await _gate.Http.GetAsync("/openapi/v1.json", Ct);
        var openApi = await document.Content.ReadAsStringAsync(Ct);
        Assert.Contains("/.well-known/jwks.json", openApi);
        Assert.Contains("Sessions-Receipt", openApi);
    }

    [Fact]
    public async Task X402_v2_payment_answers_with_a_receipt_over_the_request_and_the_response()
    {
        var payer = new TestPayer();
        await _gate.FundAsync(payer);
        var header = await _gate.PayV2Async(payer, HttpMethod.Put, "/api/content/notes/r?x=1");
        const string body = """{"value":"buy milk"}""";

        using var response = await _gate.SendAsync(HttpMethod.Put, "/api/content/notes/r?x=1", header,
            content: new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var receipt = await VerifiedAsync(_gate.Http, response, "PUT", "/api/content/notes/r?x=1", Utf8(body));
        var settlement = PaywallHarness.SettlementOf(response);
        var payment = Assert.Single(await _gate.PaymentsAsync());
        Assert.Equal(("x402-v2", payer.Lower, "demo", "PUT /api/content/{**key}", "10000", "eip155:84532"),
            (receipt.Method, receipt.Payer, receipt.Organization, receipt.Route, receipt.Amount, receipt.Network));
        Assert.Equal((payment.Id, settlement.Transaction, ReceiptIds.For(payment.Id)), (receipt.PaymentId, receipt.Reference, receipt.Id));
        Assert.Null(receipt.SessionId);

        // Stored: the operator lists it with the admin key, and only with it.
        await _gate.Factory.Services.GetRequiredService<ReceiptStore>().FlushAsync(Ct);
        using (var anonymous = await _gate.Http.GetAsync("/api/receipts?organization=demo", Ct))
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        using (var wrongKey = await ListAsync("/api/receipts?organization=demo", "not-the-key"))
            Assert.Equal(HttpStatusCode.Unauthorized, wrongKey.StatusCode);
        using var listed = await ListAsync("/api/receipts?organization=demo", AdminKey);
        var page = await listed.Content.ReadFromJsonAsync<JsonElement>(Ct);
        var item = Assert.Single(page.GetProperty("items").EnumerateArray());
        Assert.Equal(receipt.Id, item.GetProperty("id").GetString());
        Assert.Equal(response.Headers.GetValues("Sessions-Receipt").Single(), item.GetProperty("jws").GetString());
    }

    [Fact]
    public async Task X402_v1_payment_answers_with_a_receipt()
    {
        var payer = new TestPayer();
        await _gate.FundAsync(payer);
        using var response = await _gate.SendAsync(HttpMethod.Get, "/api/content/notes/v1", PaywallHarness.V1Header(payer.Sign(value: 1000)), "X-PAYMENT");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var receipt = await VerifiedAsync(_gate.Http, response, "GET", "/api/content/notes/v1");
        Assert.Equal(("x402-v1", "1000"), (receipt.Method, receipt.Amount));
    }

    [Fact]
    public async Task Mpp_payment_keeps_its_Payment_Receipt_and_also_answers_with_a_signed_receipt()
    {
        var payer = new TestPayer();
        await _gate.FundAsync(payer);
        using var offer = await _gate.SendAsync(HttpMethod.Get, "/api/content/notes/mpp", null);
        var challenge = AssertFreshChallenge(offer);
        var request = new HttpRequestMessage(HttpMethod.Get, "/api/content/notes/mpp");
        request.Headers.TryAddWithoutValidation("Authorization", Pay(payer, challenge));

        using var response = await _gate.Http.SendAsync(request, Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Single(response.Headers.GetValues("Payment-Receipt"));
        var receipt = await VerifiedAsync(_gate.Http, response, "GET", "/api/content/notes/mpp");
        Assert.Equal("mpp", receipt.Method);
    }

    [Fact]
    public async Task Receipts_still_queued_when_the_gate_stops_cleanly_are_written()
    {
        var gate = await PaywallHarness.StartAsync(infrastructure);
        string id;
        try
        {
            var payer = new TestPayer();
            await gate.FundAsync(payer);
            using var response = await gate.SendAsync(HttpMethod.Get, "/api/content/notes/stop", await gate.PayV2Async(payer, HttpMethod.Get, "/api/content/notes/stop"));
            id = Receipt.TryParse(Jws.PayloadOf(response.Headers.GetValues("Sessions-Receipt").Single()))!.Id;
        }
        finally
        {
            await gate.DisposeAsync();   // a clean stop, at once: no batch interval has to pass
        }
        await using var connection = new Npgsql.NpgsqlConnection(gate.Database);
        await connection.OpenAsync(Ct);
        await using var count = new Npgsql.NpgsqlCommand("SELECT count(*) FROM receipt_batches, unnest(ids) AS i WHERE i = $1", connection) { Parameters = { new() { Value = id } } };
        Assert.Equal(1L, await count.ExecuteScalarAsync(Ct));
    }

    [Fact]
    public async Task A_batch_written_again_after_an_unacknowledged_commit_is_stored_once()
    {
        var payer = new TestPayer();
        var store = _gate.Factory.Services.GetRequiredService<ReceiptStore>();
        // A failed write keeps its batches, keys included, for the next pass: when the commit did land (its answer was lost),
        // the second write of the same batch is a no-op instead of a second copy of each receipt.
        var batch = ReceiptBatch.Of([Synthetic(payer.Lower, "acme", ChargeIds.New("req_")), Synthetic(payer.Lower, "acme", ChargeIds.New("req_"))]).Single();
        await store.WriteAsync([batch], Ct);
        await store.WriteAsync([batch], Ct);

        var listed = await store.ListAsync(payer.Lower, null, 10, null, Ct);
        Assert.Equal(batch.Receipts.Select(r => r.Receipt.Id).Reverse(), listed.Select(r => r.Receipt.Id));
        Assert.Equal(1L, await SessionGateHarness.CountAsync(_gate.Database,
            $"SELECT count(*) FROM receipt_batches WHERE payer = '{payer.Lower}'"));
    }

    [Fact]
    public async Task Listing_pages_through_batches_whose_ids_interleave_newest_first_without_gaps_or_repeats()
    {
        var payer = new TestPayer();
        var store = _gate.Factory.Services.GetRequiredService<ReceiptStore>();
        // 40 receipts of one payer in 12 batches of the writer, ids interleaving between batches (concurrent requests finish
        // in another order than they started), and one of another organisation and one of another payer in between.
        var ids = Enumerable.Range(0, 40).Select(_ => ChargeIds.New("req_")).ToList();
        var batches = ids.Select((id, i) => (id, i)).GroupBy(x => x.i % 12)
            .SelectMany(g => ReceiptBatch.Of(g.Select(x => Synthetic(payer.Lower, "acme", x.id))))
            .Concat(ReceiptBatch.Of([Synthetic(payer.Lower, "other-org", ChargeIds.New("req_")), Synthetic(new TestPayer().Lower, "acme", ChargeIds.New("req_"))]))
            .ToList();
        foreach (var batch in batches)
            await store.WriteAsync([batch], Ct);

        var pages = new List<IReadOnlyList<StoredReceipt>>();
        string? before = null;
        do
        {
            var page = await store.ListAsync(payer.Lower, "acme", 7, before, Ct);
            pages.Add(page);
            before = page.Count == 7 ? page[^1].Receipt.Id : null;
        } while (before is not null);

        var expected = ids.Select(ReceiptIds.For).OrderByDescending(id => id, StringComparer.Ordinal).ToList();
        Assert.Equal(expected, pages.SelectMany(p => p).Select(r => r.Receipt.Id));
        Assert.Equal([7, 7, 7, 7, 7, 5], pages.Select(p => p.Count));
        Assert.Equal(41, (await store.ListAsync(payer.Lower, null, 100, null, Ct)).Count);   // both organisations
    }

    /// <summary>A receipt as the issuer makes one, signed with the gate's key, for the store alone.</summary>
    StoredReceipt Synthetic(string payer, string organization, string debitId)
    {
        var receipt = new Receipt
        {
            Id = ReceiptIds.For(debitId), Method = "session", Timestamp = "2026-12-07T10:00:00.000Z", Reference = debitId, Payer = payer,
            Organization = organization, Route = "GET /api/content/{**key}", Amount = "1000", Asset = "0x036CbD53842c5426634e7929541eC2318f3dCF7e",
            Network = "eip155:84532", DebitId = debitId, SessionId = "ses_test", BalanceAfter = "0",
            RequestSha256 = new string('0', 64), ResponseSha256 = new string('1', 64), LatencyMs = 1,
        };
        return new StoredReceipt(receipt, _gate.Factory.Services.GetRequiredService<GateSigningKeys>().Sign(receipt), DateTimeOffset.UtcNow);
    }

    [Fact]
    public async Task A_refused_or_failed_request_has_no_receipt()
    {
        using var unpaid = await _gate.SendAsync(HttpMethod.Get, "/api/content/notes/x", null);
        Assert.False(unpaid.Headers.Contains("Sessions-Receipt"));
        using var free = await _gate.SendAsync(HttpMethod.Get, "/api/ping", null);
        Assert.False(free.Headers.Contains("Sessions-Receipt"));
    }

    Task<HttpResponseMessage> ListAsync(string path, string key)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("X-Admin-Key", key);
        return _gate.Http.SendAsync(request, Ct);
    }
}
