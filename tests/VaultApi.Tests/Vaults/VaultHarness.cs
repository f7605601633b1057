using Microsoft.Extensions.Time.Testing;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Sessions.ServiceDefaults.Payers;
using Sessions.Testing;

namespace VaultApi.Tests.Vaults;

/// <summary>
/// VaultApi on a fresh vaultsdb with a manual clock, and a client that acts as the gate: it signs payer contexts (with
/// session and request ids) using the shared test key.
/// </summary>
public sealed class VaultHarness : ServiceHarness<Program>
{
    public const string SigningKey = "vault-tests-signing-key-0123456789abcdef";
    public const string Organization = "demo";
    public const string Payer = "0x1111111111111111111111111111111111111111";
    public const string OtherPayer = "0x2222222222222222222222222222222222222222";
    public const int MaxDocumentBytes = 1000;

    readonly PayerContextSigner _signer;

    public FakeTimeProvider Clock { get; }

    VaultHarness(string connectionString, FakeTimeProvider clock) : base(connectionString, new Dictionary<string, string?>
    {
        ["ConnectionStrings:vaultsdb"] = connectionString,
        ["PayerContext:SigningKey"] = SigningKey,
        ["VaultApi:MaxDocumentBytes"] = MaxDocumentBytes.ToString(),
        ["VaultApi:DefaultRetention"] = "30.00:00:00",
        ["VaultApi:Retention:short"] = "1.00:00:00",
        ["VaultApi:SweepInterval"] = "01:00:00",   // tests sweep by hand
    }, clock)
    {
        Clock = clock;
        _signer = new PayerContextSigner(Options.Create(new PayerContextOptions { SigningKey = SigningKey }), clock);
    }

    public static async Task<VaultHarness> StartAsync(InfrastructureFixture infrastructure) =>
        new(await infrastructure.CreateDatabaseAsync("vaultsdb"), new FakeTimeProvider());

    public static string NewSessionId() => "ses_" + Guid.NewGuid().ToString("N");

    public string Context(string payer = Payer, string organization = Organization, string? sessionId = null, string? requestId = null) =>
        _signer.Sign(new PayerContext
        {
            Payer = payer, Organization = organization, SessionId = sessionId, RequestId = requestId, ExpiresAt = _signer.NewExpiry(),
        });

    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, object? body = null, string? payer = Payer,
        string organization = Organization, string? sessionId = null, string? requestId = null, Action<HttpRequestMessage>? configure = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (payer is not null) request.Headers.Add(PayerContextSigner.HeaderName, Context(payer, organization, sessionId, requestId));
        if (body is not null) request.Content = JsonContent.Create(body);
        configure?.Invoke(request);
        return await Client.SendAsync(request, Cancel);
    }

    public static async Task<string> ProblemCodeAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await JsonAsync(response, expected);
        return problem.TryGetProperty("code", out var code) ? code.GetString()! : "";
    }

    /// <summary>Creates (or ensures) the vault of a session through the internal API, as the gate does.</summary>
    public async Task<HttpResponseMessage> EnsureAsync(string sessionId, string payer = Payer, string organization = Organization,
        DateTimeOffset? expiresAt = null, string? contextPayer = null) =>
        await SendAsync(HttpMethod.Put, $"/internal/vaults/{sessionId}",
            new { organization, payer, expiresAt = expiresAt ?? Clock.GetUtcNow().AddHours(1) }, contextPayer ?? payer, organization);

    /// <summary>A new session's vault (expiring in an hour unless told) and its JSON.</summary>
    public async Task<JsonElement> CreateVaultAsync(string payer = Payer, string organization = Organization, TimeSpan? ttl = null,
        string? sessionId = null)
    {
        using var response = await EnsureAsync(sessionId ?? NewSessionId(), payer, organization, Clock.GetUtcNow() + (ttl ?? TimeSpan.FromHours(1)));
        return await JsonAsync(response, HttpStatusCode.Created);
    }

    public Task<HttpResponseMessage> AddAsync(string vaultId, string name, object content, string? contentType = null, string payer = Payer,
        string organization = Organization, string? requestId = null) =>
        SendAsync(HttpMethod.Post, $"/api/vaults/{vaultId}/documents", new { name, content, contentType }, payer, organization, requestId: requestId);
}
