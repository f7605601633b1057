using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;
using Sessions.ServiceDefaults.PayerContext;
using Sessions.Testing;

namespace VaultApi.Tests.Vaults;

/// <summary>A clock the test moves by hand; timers stay on wall-clock time.</summary>
public sealed class ManualTimeProvider(DateTimeOffset start) : TimeProvider
{
    readonly Lock _lock = new();
    DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow()
    {
        lock (_lock) return _now;
    }

    public void Advance(TimeSpan by)
    {
        lock (_lock) _now += by;
    }
}

/// <summary>
/// VaultApi on a fresh vaultsdb with a manual clock, and a client that acts as the gate: it signs payer contexts (with
/// session and request ids) using the shared test key.
/// </summary>
public sealed class VaultHarness : IAsyncDisposable
{
    public const string SigningKey = "vault-tests-signing-key-0123456789abcdef";
    public const string Organization = "demo";
    public const string Payer = "0x1111111111111111111111111111111111111111";
    public const string OtherPayer = "0x2222222222222222222222222222222222222222";
    public const int MaxDocumentBytes = 1000;

    sealed class Factory(Dictionary<string, string?> settings, TimeProvider time) : ServiceFactory<Program>(settings)
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureTestServices(services => services.AddSingleton(time));
        }
    }

    readonly Factory _factory;
    readonly PayerContextSigner _signer;

    public ManualTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero));
    public string ConnectionString { get; }
    public HttpClient Client { get; }
    public IServiceProvider Services => _factory.Services;

    VaultHarness(string connectionString)
    {
        ConnectionString = connectionString;
        _factory = new Factory(new()
        {
            ["ConnectionStrings:vaultsdb"] = connectionString,
            ["PayerContext:SigningKey"] = SigningKey,
            ["VaultApi:MaxDocumentBytes"] = MaxDocumentBytes.ToString(),
            ["VaultApi:DefaultRetention"] = "30.00:00:00",
            ["VaultApi:Retention:short"] = "1.00:00:00",
            ["VaultApi:SweepInterval"] = "01:00:00",   // tests sweep by hand
        }, Clock);
        Client = _factory.CreateClient();
        _signer = new PayerContextSigner(Options.Create(new PayerContextOptions { SigningKey = SigningKey }), Clock);
    }

    public static async Task<VaultHarness> StartAsync(InfrastructureFixture infrastructure) =>
        new(await infrastructure.CreateDatabaseAsync("vaultsdb"));

    public ValueTask DisposeAsync()
    {
        Client.Dispose();
        return _factory.DisposeAsync();
    }

    static CancellationToken Cancel => TestContext.Current.CancellationToken;

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

    public static async Task<JsonElement> JsonAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync(Cancel);
        Assert.True(expected == response.StatusCode, $"Expected {(int)expected}, got {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
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

    public async Task<T> ScalarAsync<T>(string sql, params object[] values)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync(Cancel);
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var value in values) command.Parameters.Add(new NpgsqlParameter { Value = value });
        return (T)(await command.ExecuteScalarAsync(Cancel))!;
    }
}

public static class JsonElementExtensions
{
    public static string Str(this JsonElement element, string name) => element.GetProperty(name).GetString()!;
}
