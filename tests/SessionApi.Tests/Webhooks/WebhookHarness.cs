using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Sessions.ServiceDefaults.Payers;
using Sessions.Testing;

namespace SessionApi.Tests.Webhooks;

/// <summary>
/// SessionApi on a real sessionsdb with a fast webhook dispatcher (50 ms polls, 100 ms back-off base) and a shifted clock;
/// a client that acts as the gate (signed payer contexts) and as an operator (admin key). <see cref="StartOn"/> starts
/// another instance on the same database: a restart, or a second instance running beside the first.
/// </summary>
public sealed class WebhookHarness : ServiceHarness<Program>
{
    public const string SigningKey = "webhook-tests-signing-key-0123456789abcdef";
    public const string AdminKey = "webhook-tests-admin-key";
    public const string Organization = "demo";
    public const string Payer = "0x1111111111111111111111111111111111111111";

    readonly PayerContextSigner _signer;

    public ShiftedClock Clock { get; }

    WebhookHarness(string connectionString, ShiftedClock clock, IReadOnlyDictionary<string, string?>? overrides)
        : base(connectionString, Settings(connectionString, overrides), clock)
    {
        Clock = clock;
        _signer = new PayerContextSigner(Options.Create(new PayerContextOptions { SigningKey = SigningKey }), clock);
    }

    static Dictionary<string, string?> Settings(string connectionString, IReadOnlyDictionary<string, string?>? overrides)
    {
        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:sessionsdb"] = connectionString,
            ["PayerContext:SigningKey"] = SigningKey,
            ["SessionApi:AdminKey"] = AdminKey,
            ["SessionApi:SweepInterval"] = "01:00:00",   // the tests sweep by hand
            ["SessionApi:Webhooks:PollInterval"] = "00:00:00.050",
            ["SessionApi:Webhooks:BackoffBase"] = "00:00:00.100",
            ["SessionApi:Webhooks:MaxBackoff"] = "00:00:01",
            ["SessionApi:Webhooks:Timeout"] = "00:00:05",
        };
        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>())
            settings[key] = value;
        return settings;
    }

    public static async Task<WebhookHarness> StartAsync(InfrastructureFixture infrastructure, IReadOnlyDictionary<string, string?>? overrides = null) =>
        new(await infrastructure.CreateDatabaseAsync("webhooks"), new ShiftedClock(), overrides);

    public static WebhookHarness StartOn(string connectionString, ShiftedClock clock, IReadOnlyDictionary<string, string?>? overrides = null) =>
        new(connectionString, clock, overrides);

    public async Task<HttpResponseMessage> GateAsync(string path, object? body, string payer = Payer, string organization = Organization)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path);
        request.Headers.Add(PayerContextSigner.HeaderName,
            _signer.Sign(new PayerContext { Payer = payer, Organization = organization, ExpiresAt = _signer.NewExpiry() }));
        if (body is not null) request.Content = JsonContent.Create(body);
        return await Client.SendAsync(request, Cancel);
    }

    public async Task<HttpResponseMessage> PayerGetAsync(string path, string payer = Payer, string organization = Organization)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add(PayerContextSigner.HeaderName,
            _signer.Sign(new PayerContext { Payer = payer, Organization = organization, ExpiresAt = _signer.NewExpiry() }));
        return await Client.SendAsync(request, Cancel);
    }

    public async Task<HttpResponseMessage> AdminAsync(HttpMethod method, string path, object? body = null, string? key = AdminKey)
    {
        using var request = new HttpRequestMessage(method, path);
        if (key is not null) request.Headers.Add("X-Admin-Key", key);
        if (body is not null) request.Content = JsonContent.Create(body);
        return await Client.SendAsync(request, Cancel);
    }

    /// <summary>Registers an endpoint; returns the registration answer (with the secret).</summary>
    public async Task<JsonElement> RegisterAsync(string url, string[]? events = null, string? organization = null)
    {
        using var response = await AdminAsync(HttpMethod.Post, "/admin/webhooks", new { url, events, organization });
        return await JsonAsync(response, HttpStatusCode.Created);
    }

    public async Task<JsonElement> OpenAsync(string deposit, long? ttlSeconds = null, string organization = Organization, string kind = "prepaid")
    {
        using var response = await GateAsync("/internal/sessions", new
        {
            organization, payer = Payer, kind, deposit, paymentId = "pay_" + Guid.NewGuid().ToString("N"), ttlSeconds,
        }, organization: organization);
        return await JsonAsync(response, HttpStatusCode.Created);
    }

    /// <summary>Folds one debit as the gate does (<c>POST /internal/sessions/debits</c>); answers <c>{applied, replayed, refused}</c>.</summary>
    public async Task<JsonElement> SpendAsync(string id, string amount, string? key = null)
    {
        var debit = new { sessionId = id, key = key ?? "req_" + Guid.NewGuid().ToString("N"), amount, at = Clock.GetUtcNow().ToUnixTimeMilliseconds() };
        using var response = await GateAsync("/internal/sessions/debits", new { debits = new[] { debit } });
        return await JsonAsync(response, HttpStatusCode.OK);
    }

    /// <summary>Polls until <paramref name="condition"/> holds (the dispatcher works in the background).</summary>
    public static async Task EventuallyAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("Timed out waiting for " + what);
            await Task.Delay(25, Cancel);
        }
    }
}
