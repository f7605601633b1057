using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using PaymentGate.Tests.Facilitator;
using PaymentGate.Tests.Paywall;
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
        await using var count = new Npgsql.NpgsqlCommand("SELECT count(*) FROM receipts WHERE id = $1", connection) { Parameters = { new() { Value = id } } };
        Assert.Equal(1L, await count.ExecuteScalarAsync(Ct));
    }

    [Fact]
    public async Task A_batch_written_again_after_an_unacknowledged_commit_stores_each_receipt_once()
    {
        var payer = new TestPayer();
        await _gate.FundAsync(payer);
        using var response = await _gate.SendAsync(HttpMethod.Get, "/api/content/notes/again",
            await _gate.PayV2Async(payer, HttpMethod.Get, "/api/content/notes/again"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var store = _gate.Factory.Services.GetRequiredService<ReceiptStore>();
        await store.FlushAsync(Ct);
        var stored = Assert.Single(await store.ListAsync(payer.Lower, null, 10, null, Ct));

        // The stored one again (a batch is put back and retried when its commit's answer was lost) with one that is new: the
        // stored id is skipped, the new one written, and the batch does not fail (and come back) on every retry.
        var fresh = stored with { Receipt = stored.Receipt with { Id = ReceiptIds.For(ChargeIds.New("req_")) } };
        store.Enqueue(stored);
        store.Enqueue(fresh);
        await store.FlushAsync(Ct);

        await using var connection = new Npgsql.NpgsqlConnection(_gate.Database);
        await connection.OpenAsync(Ct);
        await using var count = new Npgsql.NpgsqlCommand("SELECT id, count(*) FROM receipts WHERE payer = $1 GROUP BY id ORDER BY id", connection)
            { Parameters = { new() { Value = payer.Lower } } };
        var ids = new List<(string, long)>();
        await using (var reader = await count.ExecuteReaderAsync(Ct))
            while (await reader.ReadAsync(Ct))
                ids.Add((reader.GetString(0), reader.GetInt64(1)));
        Assert.Equal(new[] { (stored.Receipt.Id, 1L), (fresh.Receipt.Id, 1L) }.OrderBy(i => i.Item1, StringComparer.Ordinal), ids);
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
