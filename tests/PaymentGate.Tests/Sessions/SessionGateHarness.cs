extern alias sessionapi;
extern alias vaultapi;

using System.Net;
using System.Net.Http.Json;
using System.Numerics;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using PaymentGate.Tests.Facilitator;
using PaymentGate.Tests.Paywall;
using Sessions.PaymentGate.Sessions;
using Sessions.Payments.X402;
using Sessions.Testing;

namespace PaymentGate.Tests.Sessions;

/// <summary>
/// Lets a test take a service "down" for its callers (connection refused) without stopping it, or lose its answers (the
/// service did the work, then died before answering).
/// </summary>
public sealed class SwitchableHandler(HttpMessageHandler inner) : DelegatingHandler(inner)
{
    public volatile bool Down;
    public volatile bool LoseResponses;
    /// <summary>Down for the requests this selects only (e.g. SessionApi's credits while its debits go through).</summary>
    public volatile Func<HttpRequestMessage, bool>? DownFor;
    /// <summary>Runs before each request goes through: lets a test change the world between the gate's steps.</summary>
    public volatile Action<HttpRequestMessage>? OnSend;
    /// <summary>Loses the answers of the requests this selects only (the service did the work).</summary>
    public volatile Func<HttpRequestMessage, bool>? LoseResponsesFor;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (Down || DownFor?.Invoke(request) == true) throw new HttpRequestException("connection refused (test)");
        OnSend?.Invoke(request);
        var response = await base.SendAsync(request, cancellationToken);
        if (!LoseResponses && LoseResponsesFor?.Invoke(request) != true) return response;
        response.Dispose();
        throw new HttpRequestException("connection reset after the request was processed (test)");
    }
}

/// <summary>
/// The gate (local facilitator, real Redis and gatedb) in front of a <see cref="FakeUpstream"/>, and SessionApi in-process on
/// its own sessionsdb; the gate reaches SessionApi through service discovery (<c>services:sessionapi:http:0</c>) with the
/// test server's handler as transport. Both share one clock and the payer-context key.
/// </summary>
public sealed class SessionGateHarness : IAsyncDisposable
{
    public const long GetPrice = 1000;
    public const string AdminKey = "test-admin-key-0123456789abcdef";
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    // SessionApi's vault provisioner reaches VaultApi, and VaultApi's webhook reports reach SessionApi, over the same switchable links.
    sealed class LinkedFactory<TProgram>(Dictionary<string, string?> settings, TimeProvider clock, string httpClientName, Func<SwitchableHandler> link)
        : ServiceFactory<TProgram>(settings, clock) where TProgram : class
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureTestServices(services => services.AddHttpClient(httpClientName).ConfigurePrimaryHttpMessageHandler(link));
        }
    }

    sealed class Gate(Dictionary<string, string?> settings, TimeProvider clock, Func<SwitchableHandler> sessionApi, Func<SwitchableHandler> vaultApi)
        : GateFactory(settings)
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureTestServices(services =>
            {
                services.AddSingleton(clock);
                services.AddHttpClient(SessionApiClient.HttpClientName).ConfigurePrimaryHttpMessageHandler(sessionApi);
                services.AddHttpClient(VaultApiClient.HttpClientName).ConfigurePrimaryHttpMessageHandler(vaultApi);
            });
        }
    }

    LinkedFactory<sessionapi::Program> _sessionApi = null!;
    LinkedFactory<vaultapi::Program> _vaultApi = null!;
    Gate _gate = null!;
    readonly List<Gate> _moreGates = [];
    Dictionary<string, string?> _settings = [];

    public ShiftedClock Clock { get; } = new();
    public SwitchableHandler SessionApiLink { get; private set; } = null!;
    /// <summary>The gate's link to VaultApi (in-process on its own vaultsdb), switchable like SessionApi's.</summary>
    public SwitchableHandler VaultApiLink { get; private set; } = null!;
    public string VaultsDatabase { get; private set; } = "";
    public FakeUpstream Upstream { get; private set; } = null!;
    public HttpClient Http { get; private set; } = null!;
    /// <summary>SessionApi directly (its public mandate and approval endpoints need no payer context).</summary>
    public HttpClient SessionApiHttp { get; private set; } = null!;
    public IServiceProvider GateServices => _gate.Services;
    public IServiceProvider SessionApiServices => _sessionApi.Services;
    public IServiceProvider VaultApiServices => _vaultApi.Services;
    public string GateDatabase { get; private set; } = "";
    public string SessionsDatabase { get; private set; } = "";

    public static async Task<SessionGateHarness> StartAsync(InfrastructureFixture infrastructure, Dictionary<string, string?>? extra = null)
    {
        var harness = new SessionGateHarness { Upstream = await FakeUpstream.StartAsync() };
        harness.SessionsDatabase = await infrastructure.CreateDatabaseAsync("sessionsdb");
        harness._sessionApi = new LinkedFactory<sessionapi::Program>(new()
        {
            ["ConnectionStrings:sessionsdb"] = harness.SessionsDatabase,
            ["ConnectionStrings:redis"] = infrastructure.RedisConnectionString,
            ["PayerContext:SigningKey"] = PaywallHarness.SigningKey,
            ["SessionApi:SweepInterval"] = "01:00:00",
            ["SessionApi:AdminKey"] = AdminKey,
            // Passes are driven by the tests (ProvisionVaultsAsync); the loop runs once at start-up.
            ["SessionApi:Vaults:Interval"] = "01:00:00",
            ["services:vaultapi:http:0"] = "http://127.0.0.1:9",
        }, harness.Clock, sessionapi::Sessions.SessionApi.Vaults.VaultProvisioner.HttpClientName, () => harness.VaultApiLink);
        _ = harness._sessionApi.Server;
        harness.SessionApiLink = new SwitchableHandler(harness._sessionApi.Server.CreateHandler());
        harness.SessionApiHttp = harness._sessionApi.CreateClient();
        harness.VaultsDatabase = await infrastructure.CreateDatabaseAsync("vaultsdb");
        harness._vaultApi = new LinkedFactory<vaultapi::Program>(new()
        {
            ["ConnectionStrings:vaultsdb"] = harness.VaultsDatabase,
            ["PayerContext:SigningKey"] = PaywallHarness.SigningKey,
            ["VaultApi:SweepInterval"] = "01:00:00",
            ["services:sessionapi:http:0"] = "http://127.0.0.1:9",
        }, harness.Clock, vaultapi::Sessions.VaultApi.Vaults.VaultEvents.HttpClientName, () => harness.SessionApiLink);
        harness.VaultApiLink = new SwitchableHandler(harness._vaultApi.Server.CreateHandler());
        harness.GateDatabase = await infrastructure.CreateDatabaseAsync("gatedb");
        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:gatedb"] = harness.GateDatabase,
            // One stack per harness in the suite's shared Redis (its gates share it: AddGate).
            ["Gate:Sessions:RedisKeyPrefix"] = $"gate-{Guid.NewGuid():N}:",
            ["ConnectionStrings:redis"] = infrastructure.RedisConnectionString,
            ["services:mcpserver:http:0"] = harness.Upstream.Url,
            // Any address: the transport is the test server's handler, which ignores it.
            ["services:sessionapi:http:0"] = "http://127.0.0.1:9",
            ["services:vaultapi:http:0"] = "http://127.0.0.1:9",
            ["PayerContext:SigningKey"] = PaywallHarness.SigningKey,
            ["Gate:ReconcileInterval"] = "01:00:00",
            // Passes are driven by the tests (CompensationRetrier.RetryDueAsync); the loop runs once at start-up.
            ["Gate:Compensations:Interval"] = "01:00:00",
        };
        foreach (var (key, value) in extra ?? [])
            settings[key] = value;
        var (link, vaultLink) = (harness.SessionApiLink, harness.VaultApiLink);
        harness._settings = settings;
        harness._gate = new Gate(settings, harness.Clock, () => link, () => vaultLink);
        harness.Http = harness._gate.CreateClient();
        return harness;
    }

    /// <summary>Another gate instance on the same gatedb, Redis, SessionApi and upstream (as behind a load balancer).</summary>
    public HttpClient AddGate()
    {
        var (link, vaultLink) = (SessionApiLink, VaultApiLink);
        var gate = new Gate(_settings, Clock, () => link, () => vaultLink);
        _moreGates.Add(gate);
        return gate.CreateClient();
    }

    /// <summary>
    /// Waits until every session debit the gates decided in Redis is in SessionApi's ledger (the stream is empty): the fold
    /// runs in the background, so a test reading sessionsdb right after a request would see it trail.
    /// </summary>
    public async Task FoldedAsync()
    {
        var balances = GateServices.GetRequiredService<SessionBalances>();
        var redis = GateServices.GetRequiredService<StackExchange.Redis.IConnectionMultiplexer>().GetDatabase();
        var folder = GateServices.GetRequiredService<SessionDebitFolder>();
        for (var waited = TimeSpan.Zero; waited < TimeSpan.FromSeconds(30); waited += TimeSpan.FromMilliseconds(50))
        {
            try
            {
                await folder.FoldAsync(Ct);
                if (await redis.StreamLengthAsync(balances.StreamKey) == 0)
                    return;
            }
            catch (StackExchange.Redis.RedisConnectionException)
            {
                // Redis restarted by the test: the multiplexer reconnects in a moment.
            }
            await Task.Delay(50, Ct);
        }
        throw new TimeoutException("Session debits were not folded into SessionApi's ledger within 30 s.");
    }

    /// <summary>The count a <c>SELECT count(*) …</c> returns in <paramref name="database"/> (gatedb, sessionsdb or a paywall's).</summary>
    public static async Task<long> CountAsync(string database, string sql)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync(Ct);
        await using var command = new NpgsqlCommand(sql, connection);
        return (long)(await command.ExecuteScalarAsync(Ct))!;
    }

    /// <summary>Rows of <paramref name="kind"/> (debit, credit, ...) in the session's ledger in sessionsdb.</summary>
    public async Task<long> LedgerCountAsync(string sessionId, string kind)
    {
        await FoldedAsync();
        await using var connection = new NpgsqlConnection(SessionsDatabase);
        await connection.OpenAsync(Ct);
        await using var command = new NpgsqlCommand("SELECT count(*) FROM session_ledger WHERE session_id = $1 AND kind = $2", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = sessionId });
        command.Parameters.Add(new NpgsqlParameter { Value = kind });
        return (long)(await command.ExecuteScalarAsync(Ct))!;
    }

    /// <summary>Vaults of the session in vaultsdb: (count, state of the last one).</summary>
    public async Task<(long Count, string? State)> VaultsOfAsync(string sessionId)
    {
        await using var connection = new NpgsqlConnection(VaultsDatabase);
        await connection.OpenAsync(Ct);
        await using var command = new NpgsqlCommand("SELECT count(*), max(state) FROM vaults WHERE session_id = $1", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = sessionId });
        await using var reader = await command.ExecuteReaderAsync(Ct);
        await reader.ReadAsync(Ct);
        return (reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetString(1));
    }

    public async ValueTask DisposeAsync()
    {
        Http?.Dispose();
        SessionApiHttp?.Dispose();
        foreach (var gate in _moreGates)
            await gate.DisposeAsync();
        if (_gate is not null) await _gate.DisposeAsync();
        if (_sessionApi is not null) await _sessionApi.DisposeAsync();
        if (_vaultApi is not null) await _vaultApi.DisposeAsync();
        if (Upstream is not null) await Upstream.DisposeAsync();
    }

    /// <summary>SessionApi's <c>GET /admin/audit</c>: {checked, violations, checkedAt}.</summary>
    public async Task<JsonElement> AuditAsync()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/admin/audit");
        request.Headers.Add("X-Admin-Key", AdminKey);
        using var response = await SessionApiHttp.SendAsync(request, Ct);
        return await JsonAsync(response, HttpStatusCode.OK);
    }

    public async Task<TestPayer> FundedPayerAsync(long amount = 1_000_000)
    {
        var payer = new TestPayer();
        using var response = await Http.PostAsJsonAsync("/dev/faucet", new { address = payer.Lower, amount = amount.ToString() }, Ct);
        response.EnsureSuccessStatusCode();
        return payer;
    }

    public async Task<BigInteger> BalanceAsync(string address) =>
        BigInteger.Parse((await Http.GetFromJsonAsync<JsonElement>($"/dev/accounts/{address}", Ct)).GetProperty("balance").GetString()!);

    public async Task<JsonElement> TransfersAsync(string address) =>
        (await Http.GetFromJsonAsync<JsonElement>($"/dev/accounts/{address}", Ct)).GetProperty("transfers");

    public Task<HttpResponseMessage> PostJsonAsync(string path, object body, string? payment = null, string? token = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
        if (payment is not null) request.Headers.TryAddWithoutValidation(X402HeaderCodec.PaymentSignatureHeader, payment);
        if (token is not null) request.Headers.TryAddWithoutValidation(SessionSpending.TokenHeader, token);
        return Http.SendAsync(request, Ct);
    }

    public Task<HttpResponseMessage> WithTokenAsync(HttpMethod method, string path, string? token)
    {
        var request = new HttpRequestMessage(method, path);
        if (token is not null) request.Headers.TryAddWithoutValidation(SessionSpending.TokenHeader, token);
        return Http.SendAsync(request, Ct);
    }

    /// <summary>Asks unpaid (402), checks the offer asks for <paramref name="amount"/>, and signs exactly that.</summary>
    public async Task<string> PayAsync(TestPayer payer, string path, object body, string amount)
    {
        using var offer = await PostJsonAsync(path, body);
        Assert.Equal(HttpStatusCode.PaymentRequired, offer.StatusCode);
        var v2 = X402HeaderCodec.Decode(offer.Headers.GetValues(X402HeaderCodec.PaymentRequiredHeader).Single(), X402JsonContext.Strict.PaymentRequired).Value!;
        var accepted = v2.Accepts.Single();
        Assert.Equal(amount, accepted.Amount);
        var v1 = await PaywallHarness.V1BodyAsync(offer);
        Assert.Equal(amount, v1.Accepts.Single().MaxAmountRequired);
        return PaywallHarness.V2Header(accepted, payer.Sign(value: BigInteger.Parse(amount)), v2.Resource.Url);
    }

    /// <summary>Opens a prepaid session paid by <paramref name="payer"/>; returns (id, token, answer body).</summary>
    public async Task<(string Id, string Token, JsonElement Body)> OpenAsync(TestPayer payer, long deposit, long? ttlSeconds = null, string kind = "prepaid",
        string? expectedAmount = null)
    {
        object body = kind == "pass" ? new { kind } : new { deposit = deposit.ToString(), ttlSeconds };
        var payment = await PayAsync(payer, "/api/sessions", body, expectedAmount ?? deposit.ToString());
        using var response = await PostJsonAsync("/api/sessions", body, payment);
        var json = await JsonAsync(response, HttpStatusCode.Created);
        Assert.True(PaywallHarness.SettlementOf(response).Success);
        var token = response.Headers.GetValues(SessionSpending.TokenHeader).Single();
        Assert.Equal(json.GetProperty("token").GetString(), token);
        return (json.GetProperty("id").GetString()!, token, json);
    }

    public static async Task<JsonElement> JsonAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(expected == response.StatusCode, $"Expected {(int)expected}, got {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    public static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.Single() : null;

    /// <summary>The gate's owed compensations (gatedb), oldest first.</summary>
    public async Task<List<(string Kind, string Key, string Status, string? Outcome, int Attempts)>> CompensationsAsync()
    {
        await using var connection = new NpgsqlConnection(GateDatabase);
        await connection.OpenAsync(Ct);
        await using var command = new NpgsqlCommand("SELECT kind, key, status, outcome, attempts FROM compensations ORDER BY created_at, id", connection);
        await using var reader = await command.ExecuteReaderAsync(Ct);
        var rows = new List<(string, string, string, string?, int)>();
        while (await reader.ReadAsync(Ct))
            rows.Add((reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3), reader.GetInt32(4)));
        return rows;
    }

    /// <summary>Moves the moment every compensation was owed back by <paramref name="by"/> (the in-flight window counts from it).</summary>
    public async Task AgeCompensationsAsync(TimeSpan by)
    {
        await using var connection = new NpgsqlConnection(GateDatabase);
        await connection.OpenAsync(Ct);
        await using var command = new NpgsqlCommand("UPDATE compensations SET created_at = created_at - make_interval(secs => $1)", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = by.TotalSeconds });
        await command.ExecuteNonQueryAsync(Ct);
    }

    /// <summary>Makes every pending compensation due now (its backoff elapsed) and runs one retrier pass; returns how many finished.</summary>
    public async Task<int> RetryCompensationsNowAsync()
    {
        await using (var connection = new NpgsqlConnection(GateDatabase))
        {
            await connection.OpenAsync(Ct);
            await using var command = new NpgsqlCommand("UPDATE compensations SET next_attempt_at = now() WHERE status = 'pending'", connection);
            await command.ExecuteNonQueryAsync(Ct);
        }
        return await GateServices.GetRequiredService<CompensationRetrier>().RetryDueAsync(Ct);
    }

    public async Task<string> PaymentStatusAsync(string paymentId)
    {
        await using var connection = new NpgsqlConnection(GateDatabase);
        await connection.OpenAsync(Ct);
        await using var command = new NpgsqlCommand("SELECT status FROM payments WHERE id = $1", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = paymentId });
        return (string)(await command.ExecuteScalarAsync(Ct))!;
    }
}
