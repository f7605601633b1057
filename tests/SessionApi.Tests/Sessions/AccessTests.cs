using System.Net;
using Microsoft.Extensions.Options;
using Sessions.ServiceDefaults.Payers;
using Sessions.Testing;
using static SessionApi.Tests.Sessions.SessionHarness;
using static Sessions.Testing.ServiceHarness<Program>;

namespace SessionApi.Tests.Sessions;

// Who may call what: the gate's signed payer context for everything, the payer's own sessions only, the admin key for the ledger audit.
public sealed class AccessTests(InfrastructureFixture infrastructure) : IAsyncLifetime
{
    SessionHarness _api = null!;

    public async ValueTask InitializeAsync() => _api = await StartAsync(infrastructure);

    public ValueTask DisposeAsync() => _api.DisposeAsync();

    [Theory]
    [InlineData("POST", "/internal/sessions")]
    [InlineData("POST", "/internal/sessions/resolve")]
    [InlineData("POST", "/internal/sessions/debits")]
    [InlineData("POST", "/internal/sessions/ses_00000000000000000000000000000000/topups")]
    [InlineData("POST", "/internal/sessions/ses_00000000000000000000000000000000/close")]
    [InlineData("GET", "/api/sessions")]
    [InlineData("GET", "/api/sessions/ses_00000000000000000000000000000000")]
    public async Task Every_session_endpoint_answers_401_without_a_payer_context(string method, string path)
    {
        using var response = await _api.SendAsync(new HttpMethod(method), path, method == "POST" ? new { } : null, payer: null);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task A_context_signed_with_another_key_is_a_401()
    {
        var forger = new PayerContextSigner(Options.Create(new PayerContextOptions { SigningKey = new string('x', 48) }), _api.Clock);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/internal/sessions")
        {
            Content = System.Net.Http.Json.JsonContent.Create(new { organization = Organization, payer = Payer, kind = "prepaid", deposit = "1000", paymentId = "pay_forged" }),
        };
        request.Headers.Add(PayerContextSigner.HeaderName,
            forger.Sign(new PayerContext { Payer = Payer, Organization = Organization, ExpiresAt = forger.NewExpiry() }));
        using var response = await _api.Client.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(0L, await _api.ScalarAsync<long>("SELECT count(*) FROM sessions"));
    }

    [Fact]
    public async Task Opening_for_a_payer_other_than_the_contexts_is_a_403()
    {
        using var response = await _api.PostAsync("/internal/sessions",
            new { organization = Organization, payer = OtherPayer, kind = "prepaid", deposit = "1000", paymentId = "pay_x" });
        Assert.Equal("payer-mismatch", (await JsonAsync(response, HttpStatusCode.Forbidden)).Str("code"));
        using var otherOrg = await _api.PostAsync("/internal/sessions",
            new { organization = "other", payer = Payer, kind = "prepaid", deposit = "1000", paymentId = "pay_y" });
        Assert.Equal(HttpStatusCode.Forbidden, otherOrg.StatusCode);
    }

    [Fact]
    public async Task Another_payers_session_is_a_404_everywhere()
    {
        var session = await _api.OpenAsync("5000");
        var id = session.Str("id");

        using var get = await _api.SendAsync(HttpMethod.Get, $"/api/sessions/{id}", payer: OtherPayer);
        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
        Assert.False(await _api.SpendAsync(id, "1000", payer: OtherPayer));   // refused, as if there were no such session
        using var close = await _api.PostAsync($"/internal/sessions/{id}/close", null, payer: OtherPayer);
        Assert.Equal(HttpStatusCode.NotFound, close.StatusCode);
        using var topUp = await _api.PostAsync($"/internal/sessions/{id}/topups", new { amount = "1", paymentId = "pay_z" }, payer: OtherPayer);
        Assert.Equal(HttpStatusCode.NotFound, topUp.StatusCode);
        using var list = await _api.SendAsync(HttpMethod.Get, "/api/sessions", payer: OtherPayer);
        Assert.Empty((await JsonAsync(list, HttpStatusCode.OK)).GetProperty("items").EnumerateArray());

        // Same payer, other organisation: not found either; a token works only where it was bought.
        using var otherOrg = await _api.SendAsync(HttpMethod.Get, $"/api/sessions/{id}", organization: "other");
        Assert.Equal(HttpStatusCode.NotFound, otherOrg.StatusCode);
        using var resolve = await _api.PostAsync("/internal/sessions/resolve", new { token = session.Str("token") }, organization: "other");
        Assert.Equal(HttpStatusCode.NotFound, resolve.StatusCode);

        Assert.Equal("5000", (await _api.GetAsync(id)).Str("balance"));
    }

    [Fact]
    public async Task Payer_addresses_in_any_casing_are_one_payer()
    {
        var checksummed = "0xAbCdEf0123456789aBcDeF0123456789AbCdEf01";
        using var response = await _api.PostAsync("/internal/sessions",
            new { organization = Organization, payer = checksummed, kind = "prepaid", deposit = "1000", paymentId = "pay_case" }, payer: checksummed);
        var session = await JsonAsync(response, HttpStatusCode.Created);
        Assert.Equal(checksummed.ToLowerInvariant(), session.Str("payer"));
        Assert.Equal(session.Str("id"), (await _api.GetAsync(session.Str("id"), payer: checksummed.ToLowerInvariant())).Str("id"));
    }

    [Fact]
    public async Task List_shows_the_payers_sessions_filtered_by_state()
    {
        var active = (await _api.OpenAsync("5000")).Str("id");
        var closed = (await _api.OpenAsync("5000")).Str("id");
        (await _api.PostAsync($"/internal/sessions/{closed}/close", null)).Dispose();
        await _api.OpenAsync("5000", payer: OtherPayer);

        using var all = await _api.SendAsync(HttpMethod.Get, "/api/sessions");
        Assert.Equal(2, (await JsonAsync(all, HttpStatusCode.OK)).GetProperty("items").GetArrayLength());
        using var refunded = await _api.SendAsync(HttpMethod.Get, "/api/sessions?state=REFUNDED");
        var items = (await JsonAsync(refunded, HttpStatusCode.OK)).GetProperty("items");
        Assert.Equal(closed, Assert.Single(items.EnumerateArray()).Str("id"));
        using var bad = await _api.SendAsync(HttpMethod.Get, "/api/sessions?state=open");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.NotEqual(active, closed);
    }

    [Fact]
    public async Task Ledger_audit_needs_the_admin_key()
    {
        using var none = await _api.Client.GetAsync("/admin/audit", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        Assert.Equal("application/problem+json", none.Content.Headers.ContentType?.MediaType);
        using var wrong = new HttpRequestMessage(HttpMethod.Get, "/admin/audit");
        wrong.Headers.Add("X-Admin-Key", "guess");
        using var wrongResponse = await _api.Client.SendAsync(wrong, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Unauthorized, wrongResponse.StatusCode);
        Assert.Equal(0, (await _api.AuditAsync()).GetProperty("checked").GetInt32());
    }
}
