using System.Net;
using SessionApi.Tests.Sessions;
using Sessions.Testing;

namespace SessionApi.Tests.Mandates;

// GET /internal/mandates/agents: every agent that has or had a mandate, for the gate's set of mandated agents (its payments
// skip the mandate charge for everyone else).
public sealed class MandateAgentsTests(InfrastructureFixture infrastructure) : MandateTestBase(infrastructure)
{
    [Fact]
    public async Task Lists_every_agent_ever_mandated_revoked_ones_too_and_only_for_the_gate()
    {
        Wallet otherUser = new(), otherAgent = new();
        var revoked = await _mandates.MandateAsync(_user, _agent, new Limits(PerDay: 1000));
        using (var revoke = await _mandates.RevokeAsync(revoked.Str("id"), _user))
            Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);
        await _mandates.MandateAsync(otherUser, otherAgent, new Limits(PerDay: 1000));

        using (var anonymous = await _api.SendAsync(HttpMethod.Get, "/internal/mandates/agents", payer: null))
            await MandateHarness.ProblemAsync(anonymous, HttpStatusCode.Unauthorized, "payer-context-required");
        using var listed = await _api.SendAsync(HttpMethod.Get, "/internal/mandates/agents");
        var agents = (await SessionHarness.JsonAsync(listed, HttpStatusCode.OK)).GetProperty("agents").EnumerateArray().Select(a => a.GetString()).ToList();
        Assert.Contains(_agent.Lower, agents);
        Assert.Contains(otherAgent.Lower, agents);
        Assert.DoesNotContain(_user.Lower, agents);
        Assert.Equal(agents.Count, agents.Distinct().Count());
    }
}
