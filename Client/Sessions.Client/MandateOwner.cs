using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Sessions.Payments;
using Sessions.Payments.Crypto;
using Sessions.Payments.Eip712;

namespace Sessions.Client;

/// <summary>The limits of a new mandate, atomic units (null = no limit); <c>AllowedMerchants</c> empty = any organisation.</summary>
public sealed record MandateLimits(
    AtomicAmount? MaxPerTransaction = null, AtomicAmount? MaxPerDay = null, AtomicAmount? MaxPerWeek = null, AtomicAmount? MaxPerMonth = null,
    AtomicAmount? RequireApprovalAbove = null, IReadOnlyList<string>? AllowedMerchants = null);

/// <summary>
/// What an agent's owner (the user wallet) does with its mandates at the gate (docs/mandates.md "Reaching mandates through the
/// gate"): every call is authenticated by the owner's EIP-712 signature (<see cref="MandateTypedData"/>), never by a payment or
/// a session token. Creating also needs the agent's signature of the same terms: a mandate binds the agent. The answers are the
/// gate's as they are (the caller reads the mandate JSON or the problem).
/// </summary>
public sealed class MandateOwner(HttpClient gate, IPaymentSigner owner, TimeProvider? time = null)
{
    public const string ReadTimestampHeader = "Mandate-Timestamp";
    public const string ReadSignatureHeader = "Mandate-Signature";
    /// <summary>The request header an agent names an approved charge with when it retries.</summary>
    public const string ApprovalHeader = "Mandate-Approval";

    readonly TimeProvider _time = time ?? TimeProvider.System;

    public EvmAddress Address => owner.Address;

    /// <summary>
    /// <c>POST /api/mandates</c>: the terms signed by the owner and by <paramref name="agent"/>, a fresh nonce, expiring
    /// <paramref name="duration"/> from now (SessionApi takes at most 168 hours).
    /// </summary>
    public async Task<HttpResponseMessage> CreateAsync(IPaymentSigner agent, MandateLimits limits, TimeSpan duration, JsonObject? metadata = null,
        CancellationToken cancellationToken = default)
    {
        var merchants = limits.AllowedMerchants ?? [];
        var terms = new MandateTerms(owner.Address, agent.Address, Value(limits.MaxPerTransaction), Value(limits.MaxPerDay), Value(limits.MaxPerWeek),
            Value(limits.MaxPerMonth), Value(limits.RequireApprovalAbove), merchants, (_time.GetUtcNow() + duration).ToUnixTimeSeconds(),
            Bytes32.FromBytes(RandomNumberGenerator.GetBytes(Bytes32.Length)));
        var digest = MandateTypedData.Digest(terms);
        var body = new JsonObject
        {
            ["terms"] = new JsonObject
            {
                ["user"] = terms.User.ToString(), ["agent"] = terms.Agent.ToString(),
                ["maxPerTransaction"] = Text(limits.MaxPerTransaction), ["maxPerDay"] = Text(limits.MaxPerDay), ["maxPerWeek"] = Text(limits.MaxPerWeek),
                ["maxPerMonth"] = Text(limits.MaxPerMonth), ["requireApprovalAbove"] = Text(limits.RequireApprovalAbove),
                ["allowedMerchants"] = new JsonArray([.. merchants.Select(m => JsonValue.Create(m))]),
                ["expiresAt"] = terms.ExpiresAt, ["nonce"] = terms.Nonce.ToString(),
            },
            ["signature"] = Hex.Encode(await owner.SignDigestAsync(digest, cancellationToken)),
            ["agentSignature"] = Hex.Encode(await agent.SignDigestAsync(digest, cancellationToken)),
        };
        if (metadata is not null)
            body["metadata"] = metadata;
        return await gate.PostAsync("api/mandates", Json(body), cancellationToken);
    }

    /// <summary><c>GET /api/mandates?user=</c> (the owner's, newest first), optionally of one agent.</summary>
    public Task<HttpResponseMessage> ListAsync(EvmAddress? agent = null, int? limit = null, CancellationToken cancellationToken = default) =>
        ReadAsync($"api/mandates?user={owner.Address}{(agent is null ? "" : $"&agent={agent}")}{(limit is null ? "" : $"&limit={limit}")}", cancellationToken);

    /// <summary><c>GET /api/mandates/{id}</c>.</summary>
    public Task<HttpResponseMessage> GetAsync(string mandateId, CancellationToken cancellationToken = default) =>
        ReadAsync($"api/mandates/{Uri.EscapeDataString(mandateId)}", cancellationToken);

    /// <summary><c>GET /api/mandates/{id}/approvals</c>: the charges held above <c>requireApprovalAbove</c> and their decisions.</summary>
    public Task<HttpResponseMessage> ApprovalsAsync(string mandateId, CancellationToken cancellationToken = default) =>
        ReadAsync($"api/mandates/{Uri.EscapeDataString(mandateId)}/approvals", cancellationToken);

    /// <summary><c>POST /api/mandates/{id}/revoke</c>: the agent may spend nothing more until a new mandate.</summary>
    public async Task<HttpResponseMessage> RevokeAsync(string mandateId, CancellationToken cancellationToken = default)
    {
        var timestamp = _time.GetUtcNow().ToUnixTimeSeconds();
        var signature = await owner.SignDigestAsync(MandateTypedData.RevokeDigest(mandateId, timestamp), cancellationToken);
        return await gate.PostAsync($"api/mandates/{Uri.EscapeDataString(mandateId)}/revoke", Signed(timestamp, signature), cancellationToken);
    }

    /// <summary><c>POST /api/approvals/{id}/approve</c> or <c>/deny</c>: the owner's decision on a held charge.</summary>
    public async Task<HttpResponseMessage> DecideAsync(string approvalId, bool approve, CancellationToken cancellationToken = default)
    {
        var decision = approve ? "approve" : "deny";
        var timestamp = _time.GetUtcNow().ToUnixTimeSeconds();
        var signature = await owner.SignDigestAsync(MandateTypedData.DecisionDigest(approvalId, decision, timestamp), cancellationToken);
        return await gate.PostAsync($"api/approvals/{Uri.EscapeDataString(approvalId)}/{decision}", Signed(timestamp, signature), cancellationToken);
    }

    async Task<HttpResponseMessage> ReadAsync(string path, CancellationToken cancellationToken)
    {
        var timestamp = _time.GetUtcNow().ToUnixTimeSeconds();
        var signature = await owner.SignDigestAsync(MandateTypedData.ReadDigest(owner.Address, timestamp), cancellationToken);
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add(ReadTimestampHeader, timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.Add(ReadSignatureHeader, Hex.Encode(signature));
        return await gate.SendAsync(request, cancellationToken);
    }

    static StringContent Signed(long timestamp, byte[] signature) => Json(new JsonObject { ["timestamp"] = timestamp, ["signature"] = Hex.Encode(signature) });

    static StringContent Json(JsonNode body) => new(body.ToJsonString(JsonSerializerOptions.Web), Encoding.UTF8, "application/json");

    static BigInteger? Value(AtomicAmount? amount) => amount is { IsZero: false } a ? a.Value : null;

    static string Text(AtomicAmount? amount) => amount?.ToString() ?? "0";
}
