using System.Net;
using System.Text.Json;
using PaymentGate.Tests.Facilitator;
using PaymentGate.Tests.Sessions;
using Sessions.Client;
using Sessions.Payments;
using Sessions.Testing;

namespace Client.Tests;

// MandateOwner against the real gate with SessionApi in memory (real Postgres and Redis): its signatures (owner and agent
// consent, signed reads, revoke) are the ones SessionApi verifies, and nobody else's signature reads the owner's mandates.
public sealed class MandateOwnerTests(InfrastructureFixture infrastructure) : IAsyncLifetime
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    SessionGateHarness _gate = null!;

    public async ValueTask InitializeAsync() => _gate = await SessionGateHarness.StartAsync(infrastructure);

    public async ValueTask DisposeAsync() => await _gate.DisposeAsync();

    MandateOwner Owner(TestPayer wallet, TimeProvider? clock = null) => new(_gate.Http, new LocalKeySigner(wallet.Key), clock ?? _gate.Clock);

    [Fact]
    public async Task An_owner_creates_lists_reads_and_revokes_a_mandate_through_the_gate()
    {
        var (ownerWallet, agentWallet) = (new TestPayer(), new TestPayer());
        var owner = Owner(ownerWallet);
        var agent = new LocalKeySigner(agentWallet.Key);

        using var created = await owner.CreateAsync(agent, new MandateLimits(MaxPerDay: new AtomicAmount(1_000_000), RequireApprovalAbove: new AtomicAmount(5_000),
            AllowedMerchants: ["demo"]), TimeSpan.FromHours(24), new() { ["agentName"] = "researcher" }, Ct);
        var mandate = await SessionGateHarness.JsonAsync(created, HttpStatusCode.Created);
        var id = mandate.GetProperty("id").GetString()!;
        Assert.Equal((ownerWallet.Lower, agentWallet.Lower, "active", "1000000", "5000", (string?)null, "demo", "researcher"),
            (mandate.GetProperty("user").GetString()!.ToLowerInvariant(), mandate.GetProperty("agent").GetString()!.ToLowerInvariant(),
             mandate.GetProperty("state").GetString(), mandate.GetProperty("maxPerDay").GetString(), mandate.GetProperty("requireApprovalAbove").GetString(),
             mandate.GetProperty("maxPerTransaction").GetString(), mandate.GetProperty("allowedMerchants")[0].GetString(),
             mandate.GetProperty("metadata").GetProperty("agentName").GetString()));
        var expiresAt = mandate.GetProperty("expiresAt").GetDateTimeOffset();
        Assert.InRange(expiresAt - _gate.Clock.GetUtcNow(), TimeSpan.FromHours(24) - TimeSpan.FromMinutes(1), TimeSpan.FromHours(24));

        // A new consent (a fresh nonce) for the same agent is a second mandate: refused while the first is active.
        using (var second = await owner.CreateAsync(agent, new MandateLimits(), TimeSpan.FromHours(1), cancellationToken: Ct))
            Assert.Equal("mandate-exists", (await SessionGateHarness.JsonAsync(second, HttpStatusCode.Conflict)).GetProperty("code").GetString());

        using (var listed = await owner.ListAsync(cancellationToken: Ct))
            Assert.Equal([id], (await SessionGateHarness.JsonAsync(listed, HttpStatusCode.OK)).GetProperty("items").EnumerateArray().Select(m => m.GetProperty("id").GetString()));
        using (var approvals = await owner.ApprovalsAsync(id, Ct))
            Assert.Equal(0, (await SessionGateHarness.JsonAsync(approvals, HttpStatusCode.OK)).GetProperty("items").GetArrayLength());

        // Another wallet's signed read, and the owner's signature 10 minutes off the gate's clock, are refused.
        using (var stranger = await Owner(new TestPayer()).GetAsync(id, Ct))
            Assert.Equal(HttpStatusCode.Unauthorized, stranger.StatusCode);
        var late = new ShiftedClock();
        late.Advance(TimeSpan.FromMinutes(10));
        using (var stale = await Owner(ownerWallet, late).RevokeAsync(id, Ct))
            Assert.Equal(HttpStatusCode.Unauthorized, stale.StatusCode);

        using (var revoked = await owner.RevokeAsync(id, Ct))
            Assert.Equal("revoked", (await SessionGateHarness.JsonAsync(revoked, HttpStatusCode.OK)).GetProperty("state").GetString());
        using var read = await owner.GetAsync(id, Ct);
        var after = await SessionGateHarness.JsonAsync(read, HttpStatusCode.OK);
        Assert.Equal(("revoked", JsonValueKind.String), (after.GetProperty("state").GetString(), after.GetProperty("revokedAt").ValueKind));
    }
}
