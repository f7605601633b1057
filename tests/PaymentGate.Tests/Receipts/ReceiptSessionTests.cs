using System.Net;
using Microsoft.Extensions.DependencyInjection;
using PaymentGate.Tests.Sessions;
using Sessions.PaymentGate.Receipts;
using Sessions.PaymentGate.Sessions;
using Sessions.Payments.Receipts;
using Sessions.Testing;
using static PaymentGate.Tests.Receipts.ReceiptAssertions;

namespace PaymentGate.Tests.Receipts;

// Issue 19: a session-debited answer (HTTP or MCP tool) carries a signed receipt with the session and its balance after;
// GET /api/receipts with the session token lists that payer's receipts and no one else's.
public sealed class ReceiptSessionTests(InfrastructureFixture infrastructure) : IAsyncLifetime
{
    SessionGateHarness _gate = null!;
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _gate = await SessionGateHarness.StartAsync(infrastructure);

    public ValueTask DisposeAsync() => _gate.DisposeAsync();

    [Fact]
    public async Task A_session_debit_answers_with_a_receipt_naming_the_session_the_debit_and_the_balance_after()
    {
        var payer = await _gate.FundedPayerAsync();
        var (id, token, _) = await _gate.OpenAsync(payer, 100_000);

        using var response = await _gate.WithTokenAsync(HttpMethod.Get, "/api/content/notes/s?q=2", token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var receipt = await VerifiedAsync(_gate.Http, response, "GET", "/api/content/notes/s?q=2");
        Assert.Equal(("session", payer.Lower, id, "99000", "1000"), (receipt.Method, receipt.Payer, receipt.SessionId, receipt.BalanceAfter, receipt.Amount));
        Assert.Equal(SessionGateHarness.Header(response, SessionSpending.BalanceHeader), receipt.BalanceAfter);
        Assert.Matches("^req_[0-9a-f]{32}$", receipt.DebitId);
        Assert.Equal((receipt.DebitId, ReceiptIds.For(receipt.DebitId!)), (receipt.Reference, receipt.Id));
        Assert.Null(receipt.PaymentId);
    }

    [Fact]
    public async Task Listing_with_a_session_token_returns_only_that_payers_receipts()
    {
        var alice = await _gate.FundedPayerAsync();
        var bob = await _gate.FundedPayerAsync();
        var (_, aliceToken, _) = await _gate.OpenAsync(alice, 100_000);
        var (_, bobToken, _) = await _gate.OpenAsync(bob, 100_000);
        var aliceReceipts = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            using var paid = await _gate.WithTokenAsync(HttpMethod.Get, $"/api/content/a{i}", aliceToken);
            aliceReceipts.Add(Receipt.TryParse(Jws.PayloadOf(paid.Headers.GetValues("Sessions-Receipt").Single()))!.Id);
        }
        using (var paid = await _gate.WithTokenAsync(HttpMethod.Get, "/api/content/b", bobToken))
            Assert.Equal(HttpStatusCode.OK, paid.StatusCode);
        await _gate.GateServices.GetRequiredService<ReceiptStore>().FlushAsync(Ct);

        // Another payer's filter is ignored: the token says whose receipts these are. Pages of two, newest first.
        using var first = await _gate.WithTokenAsync(HttpMethod.Get, $"/api/receipts?limit=2&payer={bob.Lower}", aliceToken);
        var page = await SessionGateHarness.JsonAsync(first, HttpStatusCode.OK);
        var ids = page.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetString()!).ToList();
        Assert.Equal(2, ids.Count);
        using var second = await _gate.WithTokenAsync(HttpMethod.Get, $"/api/receipts?limit=2&before={page.GetProperty("next").GetString()}", aliceToken);
        var rest = await SessionGateHarness.JsonAsync(second, HttpStatusCode.OK);
        ids.AddRange(rest.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetString()!));
        Assert.Equal(aliceReceipts.AsEnumerable().Reverse(), ids);
        Assert.All(rest.GetProperty("items").EnumerateArray(), i => Assert.Equal(alice.Lower, i.GetProperty("receipt").GetProperty("payer").GetString()));

        using var noToken = await _gate.Http.GetAsync("/api/receipts", Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, noToken.StatusCode);
        using var unknown = await _gate.WithTokenAsync(HttpMethod.Get, "/api/receipts", "st_" + new string('a', 43));
        Assert.Equal(HttpStatusCode.Unauthorized, unknown.StatusCode);
    }
}
