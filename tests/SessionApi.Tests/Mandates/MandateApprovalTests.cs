using System.Net;
using Sessions.Testing;
using SessionApi.Tests.Sessions;

namespace SessionApi.Tests.Mandates;

// Above requireApprovalAbove: held as pending_approval, the user approves or denies with a signature, the agent retries.
// Revocation: signed by the user, immediate and final.
public sealed class MandateApprovalTests(InfrastructureFixture infrastructure) : MandateTestBase(infrastructure)
{
    async Task<string> PendingAsync(long amount, string key)
    {
        using var response = await _mandates.ChargeAsync(_agent, amount, key);
        var problem = await MandateHarness.ProblemAsync(response, HttpStatusCode.Conflict, "approval-required");
        Assert.Equal("pending_approval", problem.Str("state"));
        return problem.Str("approvalId");
    }

    [Fact]
    public async Task Approved_payment_is_charged_once_on_retry_with_the_approval_id()
    {
        var mandate = await _mandates.MandateAsync(_user, _agent, new Limits(PerDay: 200_000, ApprovalAbove: 10_000));
        using (var small = await _mandates.ChargeAsync(_agent, 10_000))   // at the threshold: no approval needed
            await SessionHarness.JsonAsync(small, HttpStatusCode.OK);

        var approvalId = await PendingAsync(50_000, "req_big");
        Assert.Equal(approvalId, await PendingAsync(50_000, "req_big"));   // the same request asks once
        Assert.Equal(1L, await _api.ScalarAsync<long>("SELECT count(*) FROM outbox WHERE event = 'approval.requested'"));
        using (var list = await _api.SendAsync(HttpMethod.Get, $"/api/mandates/{mandate.Str("id")}/approvals", payer: null))
        {
            var approval = Assert.Single((await SessionHarness.JsonAsync(list, HttpStatusCode.OK)).GetProperty("items").EnumerateArray());
            Assert.Equal("pending", approval.Str("state"));
            Assert.Equal("50000", approval.Str("amount"));
        }
        // Still pending: retrying with the id is held again; nothing was charged.
        using (var early = await _mandates.ChargeAsync(_agent, 50_000, "req_retry", approvalId))
            await MandateHarness.ProblemAsync(early, HttpStatusCode.Conflict, "approval-required");

        // Only the mandate's user decides.
        using (var forged = await _mandates.DecideAsync(approvalId, "approve", _agent))
            await MandateHarness.ProblemAsync(forged, HttpStatusCode.Unauthorized, "invalid-signature");
        using (var approved = await _mandates.DecideAsync(approvalId, "approve", _user))
            Assert.Equal("approved", (await SessionHarness.JsonAsync(approved, HttpStatusCode.OK)).Str("state"));

        // A larger amount is not covered; the approved one is, once.
        using (var more = await _mandates.ChargeAsync(_agent, 50_001, "req_more", approvalId))
            await MandateHarness.ProblemAsync(more, HttpStatusCode.Conflict, "approval-mismatch");
        using (var charged = await _mandates.ChargeAsync(_agent, 50_000, "req_retry", approvalId))
        {
            var body = await SessionHarness.JsonAsync(charged, HttpStatusCode.OK);
            Assert.Equal(approvalId, body.Str("approvalId"));
            Assert.Equal("140000", body.GetProperty("mandate").Str("remainingToday"));
        }
        using (var twice = await _mandates.ChargeAsync(_agent, 50_000, "req_again", approvalId))
            await MandateHarness.ProblemAsync(twice, HttpStatusCode.Conflict, "approval-used");

        // The payment failed after all: releasing the charge makes the approval usable again.
        (await _api.PostAsync("/internal/mandates/charges/req_retry/release", null, _agent.Lower)).Dispose();
        using (var reused = await _mandates.ChargeAsync(_agent, 50_000, "req_again", approvalId))
            await SessionHarness.JsonAsync(reused, HttpStatusCode.OK);
    }

    [Fact]
    public async Task Denied_payment_is_refused_and_the_decision_is_final()
    {
        await _mandates.MandateAsync(_user, _agent, new Limits(ApprovalAbove: 1000));
        var approvalId = await PendingAsync(5000, "req_1");
        using (var denied = await _mandates.DecideAsync(approvalId, "deny", _user))
            Assert.Equal("denied", (await SessionHarness.JsonAsync(denied, HttpStatusCode.OK)).Str("state"));
        using (var again = await _mandates.DecideAsync(approvalId, "deny", _user))
            await SessionHarness.JsonAsync(again, HttpStatusCode.OK);
        using (var flip = await _mandates.DecideAsync(approvalId, "approve", _user))
            await MandateHarness.ProblemAsync(flip, HttpStatusCode.Conflict, "approval-decided");

        using (var retry = await _mandates.ChargeAsync(_agent, 5000, "req_2", approvalId))
            Assert.Equal(approvalId, (await MandateHarness.ProblemAsync(retry, HttpStatusCode.Forbidden, "approval-denied")).Str("approvalId"));
        using (var sameKey = await _mandates.ChargeAsync(_agent, 5000, "req_1"))
            await MandateHarness.ProblemAsync(sameKey, HttpStatusCode.Forbidden, "approval-denied");
        using (var unknown = await _mandates.ChargeAsync(_agent, 5000, "req_3", "apr_00000000000000000000000000000000"))
            await MandateHarness.ProblemAsync(unknown, HttpStatusCode.NotFound, "approval-not-found");
        Assert.Equal(0L, await _api.ScalarAsync<long>("SELECT count(*) FROM mandate_charges"));
    }

    [Fact]
    public async Task Limits_still_apply_to_an_approved_payment()
    {
        await _mandates.MandateAsync(_user, _agent, new Limits(PerDay: 6000, ApprovalAbove: 1000));
        using (var over = await _mandates.ChargeAsync(_agent, 7000))   // over the limit: no approval can help, none is asked
            await MandateHarness.ProblemAsync(over, HttpStatusCode.Forbidden, "limit-exceeded");
        var approvalId = await PendingAsync(5000, "req_1");
        (await _mandates.DecideAsync(approvalId, "approve", _user)).Dispose();
        using (var fill = await _mandates.ChargeAsync(_agent, 1000))
            await SessionHarness.JsonAsync(fill, HttpStatusCode.OK);
        using (var approved = await _mandates.ChargeAsync(_agent, 5000, "req_1", approvalId))
            await SessionHarness.JsonAsync(approved, HttpStatusCode.OK);   // 1000 + 5000 = the day's 6000 exactly
        Assert.Equal(0L, await _api.ScalarAsync<long>("SELECT count(*) FROM mandate_approvals WHERE state = 'approved'"));
    }

    [Fact]
    public async Task Revoke_is_signed_by_the_user_immediate_and_final()
    {
        var mandate = await _mandates.MandateAsync(_user, _agent, new Limits(PerDay: 10_000, ApprovalAbove: 5000));
        var id = mandate.Str("id");
        using (var ok = await _mandates.ChargeAsync(_agent, 100))
            await SessionHarness.JsonAsync(ok, HttpStatusCode.OK);
        var approvalId = await PendingAsync(6000, "req_pending");

        using (var forged = await _mandates.RevokeAsync(id, _agent))
            await MandateHarness.ProblemAsync(forged, HttpStatusCode.Unauthorized, "invalid-signature");
        using (var stale = await _mandates.RevokeAsync(id, _user, _api.Clock.GetUtcNow().AddMinutes(-10).ToUnixTimeSeconds()))
            await MandateHarness.ProblemAsync(stale, HttpStatusCode.Unauthorized, "invalid-signature");
        using (var revoked = await _mandates.RevokeAsync(id, _user))
        {
            var body = await SessionHarness.JsonAsync(revoked, HttpStatusCode.OK);
            Assert.Equal("revoked", body.Str("state"));
            Assert.False(body.GetProperty("isActive").GetBoolean());
        }
        using (var again = await _mandates.RevokeAsync(id, _user))
            Assert.Equal("revoked", (await SessionHarness.JsonAsync(again, HttpStatusCode.OK)).Str("state"));

        // The agent may spend nothing now (a revoked agent does not fall back to "unrestricted").
        using (var after = await _mandates.ChargeAsync(_agent, 1))
            await MandateHarness.ProblemAsync(after, HttpStatusCode.Forbidden, "mandate-revoked");
        using (var approve = await _mandates.DecideAsync(approvalId, "approve", _user))
            await MandateHarness.ProblemAsync(approve, HttpStatusCode.Conflict, "mandate-not-active");
        Assert.Equal("revoked", (await _mandates.GetAsync(id)).Str("state"));
        Assert.Equal(1L, await _api.ScalarAsync<long>("SELECT count(*) FROM outbox WHERE event = 'agent.session.revoked'"));
    }
}
