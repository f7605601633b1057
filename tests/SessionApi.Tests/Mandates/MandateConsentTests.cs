using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Sessions.Payments.Crypto;
using Sessions.Payments.Eip712;
using Sessions.SessionApi.Mandates;
using Sessions.Testing;
using SessionApi.Tests.Sessions;

namespace SessionApi.Tests.Mandates;

// Creating mandates: consent signatures (user and agent) over the EIP-712 terms, validation, idempotency, one active per agent.
public sealed class MandateConsentTests(InfrastructureFixture infrastructure) : MandateTestBase(infrastructure)
{
    [Fact]
    public async Task A_mandate_signed_by_user_and_agent_is_created_and_readable()
    {
        Wallet user = new(), agent = new();
        var (body, terms) = _mandates.Terms(user, agent, new Limits(PerTransaction: 5000, PerDay: 20000, ApprovalAbove: 4000, Merchants: ["demo"]));
        var digest = MandateTypedData.Digest(terms);

        using var created = await _mandates.CreateAsync(body, user.Sign(digest), agent.Sign(digest), new { agentName = "researcher" });
        var mandate = await SessionHarness.JsonAsync(created, HttpStatusCode.Created);

        var id = mandate.Str("id");
        Assert.True(MandateIds.IsMandateId(id));
        Assert.Equal($"/api/mandates/{id}", created.Headers.Location?.ToString());
        Assert.Equal(user.Lower, mandate.Str("user"));
        Assert.Equal(agent.Lower, mandate.Str("agent"));
        Assert.Equal("5000", mandate.Str("maxPerTransaction"));
        Assert.Equal("20000", mandate.Str("maxPerDay"));
        Assert.Equal(System.Text.Json.JsonValueKind.Null, mandate.GetProperty("maxPerWeek").ValueKind);
        Assert.Equal("4000", mandate.Str("requireApprovalAbove"));
        Assert.Equal("demo", mandate.GetProperty("allowedMerchants")[0].GetString());
        Assert.Equal("researcher", mandate.GetProperty("metadata").Str("agentName"));
        Assert.True(mandate.GetProperty("isActive").GetBoolean());
        Assert.Equal("active", mandate.Str("state"));
        Assert.Equal("20000", mandate.Str("remainingToday"));
        Assert.Equal(System.Text.Json.JsonValueKind.Null, mandate.GetProperty("remainingThisWeek").ValueKind);
        Assert.Equal(_api.Clock.GetUtcNow().AddHours(24), mandate.GetProperty("expiresAt").GetDateTimeOffset());

        Assert.Equal(id, (await _mandates.GetAsync(id)).Str("id"));
        foreach (var query in new[] { $"user={user.Checksum}", $"agent={agent.Lower}", $"user={user.Lower}&agent={agent.Lower}" })
        {
            using var list = await _api.SendAsync(HttpMethod.Get, $"/api/mandates?{query}", payer: null);
            var items = (await SessionHarness.JsonAsync(list, HttpStatusCode.OK)).GetProperty("items");
            Assert.Equal(id, Assert.Single(items.EnumerateArray()).Str("id"));
        }

        // The same consent again (a retry after a lost answer) is the same mandate.
        using var again = await _mandates.CreateAsync(body, user.Sign(digest), agent.Sign(digest));
        Assert.Equal(id, (await SessionHarness.JsonAsync(again, HttpStatusCode.OK)).Str("id"));

        Assert.Equal(1L, await _api.ScalarAsync<long>("SELECT count(*) FROM outbox WHERE event = 'agent.session.created'"));
    }

    [Fact]
    public async Task A_forged_or_altered_consent_is_rejected_and_nothing_is_stored()
    {
        Wallet user = new(), agent = new(), mallory = new();
        var (body, terms) = _mandates.Terms(user, agent, new Limits(PerDay: 1000));
        var digest = MandateTypedData.Digest(terms);

        // Signed by someone else than terms.user.
        using (var forged = await _mandates.CreateAsync(body, mallory.Sign(digest), agent.Sign(digest)))
            Assert.Equal("user", (await MandateHarness.ProblemAsync(forged, HttpStatusCode.Unauthorized, "invalid-consent")).Str("signer"));

        // Genuine signatures, but the terms were altered afterwards (a higher daily limit).
        var (altered, _) = _mandates.Terms(user, agent, new Limits(PerDay: 1_000_000), nonce: terms.Nonce.ToString());
        using (var response = await _mandates.CreateAsync(altered, user.Sign(digest), agent.Sign(digest)))
            await MandateHarness.ProblemAsync(response, HttpStatusCode.Unauthorized, "invalid-consent");

        // The agent did not accept (someone binding another's agent address).
        using (var response = await _mandates.CreateAsync(body, user.Sign(digest), mallory.Sign(digest)))
            Assert.Equal("agent", (await MandateHarness.ProblemAsync(response, HttpStatusCode.Unauthorized, "invalid-consent")).Str("signer"));

        // A signature with one bit flipped, and one that is not a signature at all.
        var flipped = Hex.Encode(Secp256k1.Sign(digest, user.Key).Select((b, i) => i == 10 ? (byte)(b ^ 1) : b).ToArray());
        using (var response = await _mandates.CreateAsync(body, flipped, agent.Sign(digest)))
            await MandateHarness.ProblemAsync(response, HttpStatusCode.Unauthorized, "invalid-consent");
        using (var response = await _mandates.CreateAsync(body, "0x1234", agent.Sign(digest)))
            await MandateHarness.ProblemAsync(response, HttpStatusCode.BadRequest, "invalid-consent");

        Assert.Equal(0L, await _api.ScalarAsync<long>("SELECT count(*) FROM mandates"));
    }

    [Fact]
    public async Task Invalid_terms_are_400_with_field_errors()
    {
        Wallet user = new(), agent = new();
        var (tooLong, terms) = _mandates.Terms(user, agent, new Limits(Duration: TimeSpan.FromHours(169)));
        var digest = MandateTypedData.Digest(terms);
        using (var response = await _mandates.CreateAsync(tooLong, user.Sign(digest), agent.Sign(digest)))
        {
            var problem = await SessionHarness.JsonAsync(response, HttpStatusCode.BadRequest);
            Assert.True(problem.GetProperty("errors").TryGetProperty("terms.expiresAt", out _));
        }
        using (var response = await _mandates.CreateAsync(new { user = "0x12", agent = agent.Lower, maxPerDay = "-5", expiresAt = 1, nonce = "0x00" }, null, null))
        {
            var errors = (await SessionHarness.JsonAsync(response, HttpStatusCode.BadRequest)).GetProperty("errors");
            foreach (var field in new[] { "terms.user", "terms.maxPerDay", "terms.expiresAt", "terms.nonce", "signature", "agentSignature" })
                Assert.True(errors.TryGetProperty(field, out _), field);
        }
        // 168 hours is the maximum, and allowed.
        await _mandates.MandateAsync(user, agent, new Limits(Duration: TimeSpan.FromHours(168)));
    }

    [Fact]
    public async Task An_agent_has_one_active_mandate_and_stays_with_its_user()
    {
        Wallet user = new(), agent = new(), otherUser = new();
        var first = await _mandates.MandateAsync(user, agent, new Limits(PerDay: 1000));

        var (body, terms) = _mandates.Terms(user, agent, new Limits(PerDay: 5000));
        var digest = MandateTypedData.Digest(terms);
        using (var response = await _mandates.CreateAsync(body, user.Sign(digest), agent.Sign(digest)))
            Assert.Equal(first.Str("id"), (await MandateHarness.ProblemAsync(response, HttpStatusCode.Conflict, "mandate-exists")).Str("mandateId"));

        // The same nonce with other terms is another consent: refused.
        var (reused, reusedTerms) = _mandates.Terms(user, new Wallet(), new Limits(), nonce: first.Str("nonce"));
        var reusedDigest = MandateTypedData.Digest(reusedTerms);
        using (var response = await _mandates.CreateAsync(reused, user.Sign(reusedDigest), new Wallet().Sign(reusedDigest)))
            await MandateHarness.ProblemAsync(response, HttpStatusCode.Unauthorized, "invalid-consent");   // the agent did not sign

        (await _mandates.RevokeAsync(first.Str("id"), user)).Dispose();

        // Revoked: its user may mandate the agent again, another user may not (the agent would escape its user's limits).
        var (stolen, stolenTerms) = _mandates.Terms(otherUser, agent, new Limits());
        var stolenDigest = MandateTypedData.Digest(stolenTerms);
        using (var response = await _mandates.CreateAsync(stolen, otherUser.Sign(stolenDigest), agent.Sign(stolenDigest)))
            await MandateHarness.ProblemAsync(response, HttpStatusCode.Forbidden, "agent-bound");
        using (var response = await _mandates.CreateAsync(body, user.Sign(digest), agent.Sign(digest)))
            await SessionHarness.JsonAsync(response, HttpStatusCode.Created);
    }

    [Fact]
    public async Task The_sweeper_expires_mandates_nobody_uses_with_their_event()
    {
        Wallet user = new(), agent = new();
        var mandate = await _mandates.MandateAsync(user, agent, new Limits(PerDay: 1000, Duration: TimeSpan.FromHours(1)));
        var sweeper = _api.Services.GetRequiredService<MandateExpirySweeper>();
        Assert.Equal(0, await sweeper.SweepAsync(TestContext.Current.CancellationToken));

        _api.Clock.Advance(TimeSpan.FromHours(1));
        Assert.Equal(1, await sweeper.SweepAsync(TestContext.Current.CancellationToken));
        Assert.Equal(0, await sweeper.SweepAsync(TestContext.Current.CancellationToken));   // once
        Assert.Equal("expired", await _api.ScalarAsync<string>("SELECT state FROM mandates WHERE id = $1", mandate.Str("id")));
        Assert.Equal(1L, await _api.ScalarAsync<long>("SELECT count(*) FROM outbox WHERE event = 'agent.session.expired'"));
        using var charge = await _mandates.ChargeAsync(agent, 1);
        await MandateHarness.ProblemAsync(charge, HttpStatusCode.Forbidden, "mandate-expired");
    }

    [Fact]
    public async Task Unknown_ids_are_404_and_a_list_needs_a_filter()
    {
        using (var response = await _api.SendAsync(HttpMethod.Get, "/api/mandates/man_00000000000000000000000000000000", payer: null))
            await MandateHarness.ProblemAsync(response, HttpStatusCode.NotFound, "mandate-not-found");
        using (var response = await _api.SendAsync(HttpMethod.Get, "/api/mandates/nope", payer: null))
            await MandateHarness.ProblemAsync(response, HttpStatusCode.NotFound, "mandate-not-found");
        using (var response = await _api.SendAsync(HttpMethod.Get, "/api/mandates", payer: null))
            await SessionHarness.JsonAsync(response, HttpStatusCode.BadRequest);
        // The charge endpoint is the gate's: it needs a payer context.
        using (var response = await _api.PostAsync("/internal/mandates/charge", new { amount = "1", idempotencyKey = "k" }, payer: null))
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task A_read_signed_by_a_user_answers_only_that_users_mandates()
    {
        Wallet other = new(), otherAgent = new();
        var mine = (await _mandates.MandateAsync(_user, _agent, new Limits(PerDay: 1000))).Str("id");
        var theirs = (await _mandates.MandateAsync(other, otherAgent, new Limits(PerDay: 1000))).Str("id");
        Task<HttpResponseMessage> Read(string path, Wallet signer, string? timestamp = null)
        {
            var ts = timestamp ?? _api.Clock.GetUtcNow().ToUnixTimeSeconds().ToString();
            var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.Add(SignedRead.TimestampHeader, ts);
            request.Headers.Add(SignedRead.SignatureHeader,
                long.TryParse(ts, out var t) ? signer.Sign(MandateTypedData.ReadDigest(signer.Address, t)) : "0x00");
            return _api.Client.SendAsync(request, TestContext.Current.CancellationToken);
        }

        using (var own = await Read($"/api/mandates?user={_user.Lower}&agent={otherAgent.Lower}", _user))
            Assert.Empty((await SessionHarness.JsonAsync(own, HttpStatusCode.OK)).GetProperty("items").EnumerateArray());
        using (var own = await Read($"/api/mandates/{mine}/approvals", _user))
            Assert.Empty((await SessionHarness.JsonAsync(own, HttpStatusCode.OK)).GetProperty("items").EnumerateArray());
        using (var foreign = await Read($"/api/mandates/{theirs}", _user))
            await MandateHarness.ProblemAsync(foreign, HttpStatusCode.Unauthorized, "invalid-signature");
        using (var claimed = await Read($"/api/mandates?user={other.Lower}", _user))
            await MandateHarness.ProblemAsync(claimed, HttpStatusCode.Unauthorized, "invalid-signature");
        using (var byAgent = await Read($"/api/mandates?agent={_agent.Lower}", _user))
            Assert.True((await SessionHarness.JsonAsync(byAgent, HttpStatusCode.BadRequest)).GetProperty("errors").TryGetProperty("user", out _));
        using (var malformed = await Read($"/api/mandates/{mine}", _user, timestamp: "soon"))
            await MandateHarness.ProblemAsync(malformed, HttpStatusCode.BadRequest, "invalid-signature");
    }
}
