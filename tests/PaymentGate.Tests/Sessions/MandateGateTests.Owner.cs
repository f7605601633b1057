extern alias sessionapi;

using System.Net;
using System.Net.Http.Json;
using System.Numerics;
using System.Text;
using System.Text.Json;
using Sessions.PaymentGate.Sessions;
using Sessions.Payments.Crypto;
using Sessions.Payments.Eip712;
using sessionapi::Sessions.SessionApi.Mandates;
using static PaymentGate.Tests.Sessions.SessionGateHarness;

namespace PaymentGate.Tests.Sessions;

// What a mandate's owner (the user wallet) does through the gate (docs/mandates.md "Reaching mandates through the gate"): create,
// approve, deny and revoke are authenticated by the user's EIP-712 signature in the body; reads by a ReadMandates signature
// in headers. SessionApi's /internal and /admin paths are not the gate's. (MandateAsync and DecideAsync go through the gate too.)
public sealed partial class MandateGateTests
{
    // The typed data as the README defines it, hashed here independently of SessionApi's code.
    static readonly Eip712TypeSet ReadTypes = Eip712TypeSet.Create(("ReadMandates", [new("user", "address"), new("timestamp", "uint256")]));

    Task<HttpResponseMessage> ReadAsync(string path, UserWallet? signer, EvmAddress? claimedUser = null, long? timestamp = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (signer is not null)
        {
            var ts = timestamp ?? _gate.Clock.GetUtcNow().ToUnixTimeSeconds();
            var digest = Eip712Hasher.HashTypedData(MandateTypedData.Domain, ReadTypes, "ReadMandates",
                new Dictionary<string, object?> { ["user"] = claimedUser ?? signer.Address, ["timestamp"] = new BigInteger(ts) });
            request.Headers.Add("Mandate-Timestamp", ts.ToString());
            request.Headers.Add("Mandate-Signature", signer.Sign(digest));
        }
        return _gate.Http.SendAsync(request, Ct);
    }

    Task<HttpResponseMessage> RevokeAsync(string mandateId, UserWallet signer) =>
        _gate.Http.PostAsJsonAsync($"/api/mandates/{mandateId}/revoke", RevokeBody(mandateId, signer), Ct);

    object RevokeBody(string mandateId, UserWallet signer)
    {
        var ts = _gate.Clock.GetUtcNow().ToUnixTimeSeconds();
        return new { timestamp = ts, signature = signer.Sign(MandateTypedData.RevokeDigest(mandateId, ts)) };
    }

    static async Task<JsonElement> ProblemAsync(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        var problem = await JsonAsync(response, status);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(code, problem.GetProperty("code").GetString());
        return problem;
    }

    [Fact]
    public async Task Owner_creates_reads_and_revokes_through_the_gate_and_the_next_payment_is_refused()
    {
        var agent = await _gate.FundedPayerAsync(10_000);
        var (consent, user) = Consent(agent, perDay: 10 * GetPrice);
        string id;
        using (var created = await _gate.Http.PostAsJsonAsync("/api/mandates", consent, Ct))
        {
            id = (await JsonAsync(created, HttpStatusCode.Created)).GetProperty("id").GetString()!;
            Assert.Equal($"/api/mandates/{id}", created.Headers.Location?.OriginalString);
        }
        using (var again = await _gate.Http.PostAsJsonAsync("/api/mandates", consent, Ct))
            Assert.Equal(id, (await JsonAsync(again, HttpStatusCode.OK)).GetProperty("id").GetString());

        // Reads: signed by the user, or refused; nobody else's signature reads it.
        using (var read = await ReadAsync($"/api/mandates/{id}", user))
            Assert.Equal(user.Address.ToLowerHex(), (await JsonAsync(read, HttpStatusCode.OK)).GetProperty("user").GetString());
        using (var list = await ReadAsync($"/api/mandates?user={user.Address}", user))
            Assert.Equal(id, Assert.Single((await JsonAsync(list, HttpStatusCode.OK)).GetProperty("items").EnumerateArray()).GetProperty("id").GetString());
        using (var unsigned = await ReadAsync($"/api/mandates/{id}", null))
            await ProblemAsync(unsigned, HttpStatusCode.Unauthorized, "signature-required");
        using (var unsignedList = await ReadAsync($"/api/mandates?agent={agent.Lower}", null))
            await ProblemAsync(unsignedList, HttpStatusCode.Unauthorized, "signature-required");
        var stranger = new UserWallet();
        using (var foreign = await ReadAsync($"/api/mandates/{id}", stranger))
            await ProblemAsync(foreign, HttpStatusCode.Unauthorized, "invalid-signature");
        using (var claimed = await ReadAsync($"/api/mandates?user={user.Address}", stranger, claimedUser: user.Address))
            await ProblemAsync(claimed, HttpStatusCode.Unauthorized, "invalid-signature");
        using (var stale = await ReadAsync($"/api/mandates/{id}", user, timestamp: _gate.Clock.GetUtcNow().ToUnixTimeSeconds() - 3600))
            await ProblemAsync(stale, HttpStatusCode.Unauthorized, "invalid-signature");

        using (var paid = await PayAsync(agent, "/api/content/before-revoke"))
            Assert.Equal(HttpStatusCode.OK, paid.StatusCode);

        // A revoke signed by anyone but the user changes nothing.
        using (var forged = await RevokeAsync(id, stranger))
            await ProblemAsync(forged, HttpStatusCode.Unauthorized, "invalid-signature");
        using (var unsignedRevoke = await _gate.Http.PostAsJsonAsync($"/api/mandates/{id}/revoke", new { timestamp = 1 }, Ct))
            Assert.True((await JsonAsync(unsignedRevoke, HttpStatusCode.BadRequest)).GetProperty("errors").TryGetProperty("signature", out _));
        Assert.Equal("active", (await MandateJsonAsync(id)).GetProperty("state").GetString());

        using (var revoked = await RevokeAsync(id, user))
            Assert.Equal("revoked", (await JsonAsync(revoked, HttpStatusCode.OK)).GetProperty("state").GetString());
        using (var refused = await PayAsync(agent, "/api/content/after-revoke"))
            await RefusedAsync(refused, HttpStatusCode.Forbidden, "mandate-revoked");
        Assert.Equal(9_000, await _gate.BalanceAsync(agent.Lower));
        Assert.Single(_gate.Upstream.Calls);
    }

    // Approving and denying through the gate, and paying after: Above_the_threshold_waits_for_approval_approved_is_served_once_denied_is_403.
    [Fact]
    public async Task Owner_reads_pending_approvals_and_only_the_users_signature_decides_them()
    {
        var agent = await _gate.FundedPayerAsync(10_000);
        var (mandateId, user) = await MandateAsync(agent, approvalAbove: GetPrice / 2);
        string approvalId;
        using (var held = await PayAsync(agent, "/api/content/a"))
            approvalId = (await RefusedAsync(held, HttpStatusCode.Conflict, "approval-required")).GetProperty("approvalId").GetString()!;
        async Task<string?> StateAsync()
        {
            using var approvals = await ReadAsync($"/api/mandates/{mandateId}/approvals", user);
            var approval = Assert.Single((await JsonAsync(approvals, HttpStatusCode.OK)).GetProperty("items").EnumerateArray());
            Assert.Equal(approvalId, approval.GetProperty("id").GetString());
            return approval.GetProperty("state").GetString();
        }
        Assert.Equal("pending", await StateAsync());
        using (var unsigned = await ReadAsync($"/api/mandates/{mandateId}/approvals", null))
            await ProblemAsync(unsigned, HttpStatusCode.Unauthorized, "signature-required");

        // The agent cannot approve its own payment.
        var ts = _gate.Clock.GetUtcNow().ToUnixTimeSeconds();
        var byAgent = Hex.Encode(Secp256k1.Sign(MandateTypedData.DecisionDigest(approvalId, "approve", ts), agent.Key));
        using (var forged = await _gate.Http.PostAsJsonAsync($"/api/approvals/{approvalId}/approve", new { timestamp = ts, signature = byAgent }, Ct))
            await ProblemAsync(forged, HttpStatusCode.Unauthorized, "invalid-signature");
        using (var malformed = await _gate.Http.PostAsJsonAsync($"/api/approvals/{approvalId}/approve", new { timestamp = ts, signature = "0x1234" }, Ct))
            await ProblemAsync(malformed, HttpStatusCode.BadRequest, "invalid-signature");
        Assert.Equal("pending", await StateAsync());

        Assert.Equal("denied", (await DecideAsync(approvalId, "deny", user)).GetProperty("state").GetString());
        Assert.Equal("denied", await StateAsync());
        Assert.Empty(_gate.Upstream.Calls);
    }

    [Fact]
    public async Task Forged_or_unreadable_consent_through_the_gate_creates_nothing()
    {
        var agent = await _gate.FundedPayerAsync(10_000);
        var (forged, user) = Consent(agent, perDay: GetPrice, agentKey: new UserWallet().Key);   // someone binds this agent
        using (var response = await _gate.Http.PostAsJsonAsync("/api/mandates", forged, Ct))
            Assert.Equal("agent", (await ProblemAsync(response, HttpStatusCode.Unauthorized, "invalid-consent")).GetProperty("signer").GetString());
        using (var text = await _gate.Http.PostAsync("/api/mandates", new StringContent("{}", Encoding.UTF8, "text/plain"), Ct))
            await ProblemAsync(text, HttpStatusCode.UnsupportedMediaType, "unsupported-media-type");
        using (var broken = await _gate.Http.PostAsync("/api/mandates", new StringContent("{\"terms\":", Encoding.UTF8, "application/json"), Ct))
            await ProblemAsync(broken, HttpStatusCode.BadRequest, "invalid-json");
        using (var list = await ReadAsync($"/api/mandates?user={user.Address}", user))
            Assert.Empty((await JsonAsync(list, HttpStatusCode.OK)).GetProperty("items").EnumerateArray());
        using (var paid = await PayAsync(agent, "/api/content/unbound"))
            Assert.Equal(HttpStatusCode.OK, paid.StatusCode);   // no mandate: not restricted
    }

    [Theory]
    [InlineData("POST", "/internal/mandates/charge")]
    [InlineData("POST", "/internal/mandates/charges/pay_0/release")]
    [InlineData("POST", "/internal/sessions")]
    [InlineData("POST", "/internal/sessions/resolve")]
    [InlineData("POST", "/internal/webhooks/events")]
    [InlineData("GET", "/admin/audit")]
    [InlineData("GET", "/admin/webhooks")]
    public async Task SessionApi_internal_and_admin_paths_are_not_reachable_through_the_gate(string method, string path)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        request.Headers.Add("X-Admin-Key", AdminKey);
        if (method == "POST") request.Content = JsonContent.Create(new { amount = "1000", idempotencyKey = "req_x" });
        using var response = await _gate.Http.SendAsync(request, Ct);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}
