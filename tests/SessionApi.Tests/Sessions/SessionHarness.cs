using Microsoft.Extensions.Time.Testing;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Sessions.ServiceDefaults.Payers;
using Sessions.Testing;

namespace SessionApi.Tests.Sessions;

/// <summary>
/// SessionApi on a fresh sessionsdb with a manual clock, and a client that acts as the gate: it signs payer contexts with
/// the shared test key. Each test class gets its own harness (and database).
/// </summary>
public sealed class SessionHarness : ServiceHarness<Program>
{
    public const string SigningKey = "session-tests-signing-key-0123456789abcdef";
    public const string AdminKey = "session-tests-admin-key";
    public const string Organization = "demo";
    public const string Payer = "0x1111111111111111111111111111111111111111";
    public const string OtherPayer = "0x2222222222222222222222222222222222222222";

    readonly PayerContextSigner _signer;

    public FakeTimeProvider Clock { get; }

    SessionHarness(string connectionString, TimeSpan sweepInterval, FakeTimeProvider clock, Dictionary<string, string?>? extra)
        : base(connectionString, new Dictionary<string, string?>(extra ?? [])
    {
        ["ConnectionStrings:sessionsdb"] = connectionString,
        ["PayerContext:SigningKey"] = SigningKey,
        ["SessionApi:AdminKey"] = AdminKey,
        ["SessionApi:SweepInterval"] = sweepInterval.ToString(),
    }, clock)
    {
        Clock = clock;
        _signer = new PayerContextSigner(Options.Create(new PayerContextOptions { SigningKey = SigningKey }), clock);
    }

    /// <param name="extra">More settings (e.g. <c>Ledger:Chain:Enabled</c>).</param>
    public static async Task<SessionHarness> StartAsync(InfrastructureFixture infrastructure, TimeSpan? sweepInterval = null,
        Dictionary<string, string?>? extra = null)
    {
        var connectionString = await infrastructure.CreateDatabaseAsync("sessionsdb");
        return new SessionHarness(connectionString, sweepInterval ?? TimeSpan.FromHours(1), new FakeTimeProvider(), extra);
    }

    /// <summary>The gate's signed header for this payer (and organisation).</summary>
    public string Context(string payer = Payer, string organization = Organization, string? requestId = null) =>
        _signer.Sign(new PayerContext { Payer = payer, Organization = organization, RequestId = requestId, ExpiresAt = _signer.NewExpiry() });

    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, object? body = null, string? payer = Payer,
        string organization = Organization)
    {
        using var request = new HttpRequestMessage(method, path);
        if (payer is not null) request.Headers.Add(PayerContextSigner.HeaderName, Context(payer, organization));
        if (body is not null) request.Content = JsonContent.Create(body);
        return await Client.SendAsync(request, Cancel);
    }

    public Task<HttpResponseMessage> PostAsync(string path, object? body, string? payer = Payer, string organization = Organization) =>
        SendAsync(HttpMethod.Post, path, body, payer, organization);

    /// <summary>Opens a session through the internal API and returns its JSON (with the token).</summary>
    public async Task<JsonElement> OpenAsync(string deposit, string kind = "prepaid", string payer = Payer, string? paymentId = null,
        long? ttlSeconds = null, string organization = Organization)
    {
        using var response = await PostAsync("/internal/sessions", new
        {
            organization, payer, kind, deposit, paymentId = paymentId ?? "pay_" + Guid.NewGuid().ToString("N"), ttlSeconds,
        }, payer, organization);
        return await JsonAsync(response, HttpStatusCode.Created);
    }

    /// <summary>One debit as the gate's folder sends it (decided in Redis, confirmed now by the harness clock).</summary>
    public object Debit(string sessionId, string key, string amount) =>
        new { sessionId, key, amount, route = "GET /api/content/{**key}", at = Clock.GetUtcNow().ToUnixTimeMilliseconds() };

    /// <summary>The void of the debit of <paramref name="key"/> as the gate's folder sends it (its request was answered 503).</summary>
    public object Void(string sessionId, string key) =>
        new { sessionId, key, amount = "0", at = Clock.GetUtcNow().ToUnixTimeMilliseconds(), @void = true };

    /// <summary>Folds a batch into the ledger (<c>POST /internal/sessions/debits</c>); answers <c>{applied, replayed, refused}</c>.</summary>
    public async Task<JsonElement> FoldAsync(object[] debits, string payer = Payer, HttpStatusCode expected = HttpStatusCode.OK)
    {
        using var response = await PostAsync("/internal/sessions/debits", new { debits }, payer);
        return await JsonAsync(response, expected);
    }

    /// <summary>Folds one debit of <paramref name="amount"/>; true when the ledger applied it, false when it refused it.</summary>
    public async Task<bool> SpendAsync(string id, string amount, string? key = null, string payer = Payer)
    {
        var result = await FoldAsync([Debit(id, key ?? "req_" + Guid.NewGuid().ToString("N"), amount)], payer);
        return result.GetProperty("applied").GetInt32() == 1;
    }

    public async Task<JsonElement> GetAsync(string id, string payer = Payer)
    {
        using var response = await SendAsync(HttpMethod.Get, $"/api/sessions/{id}", payer: payer);
        return await JsonAsync(response, HttpStatusCode.OK);
    }

    public async Task<JsonElement> AuditAsync()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/admin/audit");
        request.Headers.Add("X-Admin-Key", AdminKey);
        using var response = await Client.SendAsync(request, Cancel);
        return await JsonAsync(response, HttpStatusCode.OK);
    }
}
