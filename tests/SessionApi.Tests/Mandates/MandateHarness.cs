using System.Net;
using System.Numerics;
using System.Security.Cryptography;
using System.Text.Json;
using Sessions.Payments.Crypto;
using Sessions.Payments.Eip712;
using Sessions.SessionApi.Mandates;
using SessionApi.Tests.Sessions;
using Sessions.Testing;

namespace SessionApi.Tests.Mandates;

/// <summary>A secp256k1 key made in the test, as a user or agent wallet.</summary>
public sealed class Wallet
{
    public byte[] Key { get; } = RandomNumberGenerator.GetBytes(32);
    public EvmAddress Address => Secp256k1.AddressOf(Key);
    public string Lower => Address.ToLowerHex();
    public string Checksum => Address.ToChecksumString();
    public string Sign(byte[] digest) => Hex.Encode(Secp256k1.Sign(digest, Key));
}

/// <summary>Limits of a test mandate (null = no limit) in atomic units.</summary>
public sealed record Limits(long? PerTransaction = null, long? PerDay = null, long? PerWeek = null, long? PerMonth = null, long? ApprovalAbove = null,
    string[]? Merchants = null, TimeSpan? Duration = null);

/// <summary>Signs mandate terms and user actions as a wallet (viem's signTypedData does the same) and calls the mandate API.</summary>
public sealed class MandateHarness(SessionHarness api)
{
    public SessionHarness Api => api;

    public (object Body, MandateTerms Terms) Terms(Wallet user, Wallet agent, Limits limits, string? nonce = null)
    {
        var expiresAt = (api.Clock.GetUtcNow() + (limits.Duration ?? TimeSpan.FromHours(24))).ToUnixTimeSeconds();
        nonce ??= Hex.Encode(RandomNumberGenerator.GetBytes(32));
        var merchants = limits.Merchants ?? [];
        var terms = new MandateTerms(user.Address, agent.Address, Big(limits.PerTransaction), Big(limits.PerDay), Big(limits.PerWeek),
            Big(limits.PerMonth), Big(limits.ApprovalAbove), merchants, expiresAt, Bytes32.Parse(nonce));
        // JSON mirrors the typed message: "0" = no limit.
        var body = new
        {
            user = user.Checksum, agent = agent.Checksum, maxPerTransaction = Text(limits.PerTransaction), maxPerDay = Text(limits.PerDay),
            maxPerWeek = Text(limits.PerWeek), maxPerMonth = Text(limits.PerMonth), requireApprovalAbove = Text(limits.ApprovalAbove),
            allowedMerchants = merchants, expiresAt, nonce,
        };
        return (body, terms);
    }

    public Task<HttpResponseMessage> CreateAsync(object terms, string? signature, string? agentSignature, object? metadata = null) =>
        api.PostAsync("/api/mandates", new { terms, signature, agentSignature, metadata }, payer: null);

    /// <summary>Creates a mandate signed by both wallets and returns its JSON.</summary>
    public async Task<JsonElement> MandateAsync(Wallet user, Wallet agent, Limits limits)
    {
        var (body, terms) = Terms(user, agent, limits);
        var digest = MandateTypedData.Digest(terms);
        using var response = await CreateAsync(body, user.Sign(digest), agent.Sign(digest), new { agentName = "test agent" });
        return await SessionHarness.JsonAsync(response, HttpStatusCode.Created);
    }

    public Task<HttpResponseMessage> ChargeAsync(Wallet agent, long amount, string? key = null, string? approvalId = null,
        string organization = SessionHarness.Organization) =>
        api.PostAsync("/internal/mandates/charge", new { amount = amount.ToString(), idempotencyKey = key ?? "req_" + Guid.NewGuid().ToString("N"), approvalId },
            agent.Lower, organization);

    public Task<HttpResponseMessage> RevokeAsync(string mandateId, Wallet signer, long? timestamp = null)
    {
        var ts = timestamp ?? api.Clock.GetUtcNow().ToUnixTimeSeconds();
        return api.PostAsync($"/api/mandates/{mandateId}/revoke", new { timestamp = ts, signature = signer.Sign(MandateTypedData.RevokeDigest(mandateId, ts)) },
            payer: null);
    }

    public Task<HttpResponseMessage> DecideAsync(string approvalId, string decision, Wallet signer)
    {
        var ts = api.Clock.GetUtcNow().ToUnixTimeSeconds();
        return api.PostAsync($"/api/approvals/{approvalId}/{decision}",
            new { timestamp = ts, signature = signer.Sign(MandateTypedData.DecisionDigest(approvalId, decision, ts)) }, payer: null);
    }

    public async Task<JsonElement> GetAsync(string mandateId)
    {
        using var response = await api.SendAsync(HttpMethod.Get, $"/api/mandates/{mandateId}", payer: null);
        return await SessionHarness.JsonAsync(response, HttpStatusCode.OK);
    }

    /// <summary>Asserts a problem with this status and code and returns it.</summary>
    public static async Task<JsonElement> ProblemAsync(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        var problem = await SessionHarness.JsonAsync(response, status);
        Assert.Equal(code, problem.Str("code"));
        return problem;
    }

    static BigInteger? Big(long? value) => value is { } v ? new BigInteger(v) : null;

    static string Text(long? value) => (value ?? 0).ToString();
}
