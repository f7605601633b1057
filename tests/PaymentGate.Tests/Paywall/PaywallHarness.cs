using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;
using PaymentGate.Tests.Facilitator;
using Sessions.Payments.X402;
using Sessions.Testing;

namespace PaymentGate.Tests.Paywall;

/// <summary>
/// The gate in memory, configured as the AppHost does (gatedb, redis, services:mcpserver, payer-context key), in front of a
/// <see cref="FakeUpstream"/>; the facilitator is the gate's own local one (reached through the test server's handler)
/// unless <c>Facilitator:Url</c> is given.
/// </summary>
public sealed class PaywallHarness : IAsyncDisposable
{
    public const string SigningKey = "paywall-tests-signing-key-0123456789abcdef";
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    PaywallHarness(ServiceFactory<Program> factory, FakeUpstream upstream, string database)
    {
        Factory = factory;
        Upstream = upstream;
        Database = database;
        Http = factory.CreateClient();
    }

    public ServiceFactory<Program> Factory { get; }
    public FakeUpstream Upstream { get; }
    public string Database { get; }
    public HttpClient Http { get; }

    public static async Task<PaywallHarness> StartAsync(InfrastructureFixture infrastructure, Dictionary<string, string?>? extra = null)
    {
        var upstream = await FakeUpstream.StartAsync();
        var database = await infrastructure.CreateDatabaseAsync("gatedb");
        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:gatedb"] = database,
            // One stack per harness in the suite's shared Redis.
            ["Gate:Sessions:RedisKeyPrefix"] = $"gate-{Guid.NewGuid():N}:",
            ["ConnectionStrings:redis"] = infrastructure.RedisConnectionString,
            ["services:mcpserver:http:0"] = upstream.Url,
            ["PayerContext:SigningKey"] = SigningKey,
            // The tests drive the reconciler by hand.
            ["Gate:ReconcileInterval"] = "01:00:00",
        };
        foreach (var (key, value) in extra ?? [])
            settings[key] = value;
        var factory = string.IsNullOrEmpty(settings.GetValueOrDefault("Facilitator:Url"))
            ? new GateFactory(settings)
            : new ServiceFactory<Program>(settings);
        var harness = new PaywallHarness(factory, upstream, database);
        _ = factory.Server;
        return harness;
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Factory.DisposeAsync();
        await Upstream.DisposeAsync();
    }

    public async Task FundAsync(TestPayer payer, long amount = 1_000_000)
    {
        using var response = await Http.PostAsJsonAsync("/dev/faucet", new { address = payer.Lower, amount = amount.ToString() }, Ct);
        response.EnsureSuccessStatusCode();
    }

    public async Task<string> BalanceAsync(string address)
    {
        var account = await Http.GetFromJsonAsync<JsonElement>($"/dev/accounts/{address}", Ct);
        return account.GetProperty("balance").GetString()!;
    }

    /// <summary>Asks without paying, as a client does first; returns the v2 offer (header) and the v1 body.</summary>
    public async Task<(PaymentRequired V2, PaymentRequiredV1 V1)> OfferAsync(HttpMethod method, string path)
    {
        using var response = await Http.SendAsync(new HttpRequestMessage(method, path), Ct);
        Assert.Equal(System.Net.HttpStatusCode.PaymentRequired, response.StatusCode);
        var v2 = X402HeaderCodec.Decode(response.Headers.GetValues(X402HeaderCodec.PaymentRequiredHeader).Single(), X402JsonContext.Strict.PaymentRequired);
        Assert.True(v2.Succeeded, v2.Message);
        var v1 = JsonSerializer.Deserialize(await response.Content.ReadAsStringAsync(Ct), X402JsonContext.Strict.PaymentRequiredV1)!;
        return (v2.Value!, v1);
    }

    /// <summary>A v2 PAYMENT-SIGNATURE header for <paramref name="accepted"/>, signed by <paramref name="payer"/>.</summary>
    public static string V2Header(PaymentRequirements accepted, ExactEvmPayload exact, string resource = "http://localhost/") =>
        X402HeaderCodec.Encode(new PaymentPayload { Resource = new ResourceInfo { Url = resource }, Accepted = accepted, Payload = exact.ToJsonElement() });

    public static string V1Header(ExactEvmPayload exact, string network = "base-sepolia", string scheme = "exact") =>
        X402HeaderCodec.Encode(new PaymentPayloadV1 { Scheme = scheme, Network = network, Payload = exact.ToJsonElement() });

    /// <summary>Signs a payment matching the route's offer (value = the offered amount).</summary>
    public async Task<string> PayV2Async(TestPayer payer, HttpMethod method, string path)
    {
        var (offer, _) = await OfferAsync(method, path);
        var accepted = offer.Accepts.Single();
        return V2Header(accepted, payer.Sign(value: System.Numerics.BigInteger.Parse(accepted.Amount)), offer.Resource.Url);
    }

    public Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? header, string headerName = X402HeaderCodec.PaymentSignatureHeader,
        HttpContent? content = null)
    {
        var request = new HttpRequestMessage(method, path) { Content = content };
        if (header is not null)
            request.Headers.TryAddWithoutValidation(headerName, header);
        return Http.SendAsync(request, Ct);
    }

    public async Task<List<(string Id, string Status, string Payer, string Amount, string? Transaction)>> PaymentsAsync()
    {
        await using var connection = new NpgsqlConnection(Database);
        await connection.OpenAsync(Ct);
        await using var command = new NpgsqlCommand("SELECT id, status, payer, amount::text, transaction FROM payments ORDER BY created_at", connection);
        await using var reader = await command.ExecuteReaderAsync(Ct);
        var rows = new List<(string, string, string, string, string?)>();
        while (await reader.ReadAsync(Ct))
            rows.Add((reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.IsDBNull(4) ? null : reader.GetString(4)));
        return rows;
    }

    public static SettleResponse SettlementOf(HttpResponseMessage response, string header = X402HeaderCodec.PaymentResponseHeader)
    {
        var decoded = X402HeaderCodec.Decode(response.Headers.GetValues(header).Single(), X402JsonContext.Strict.SettleResponse);
        Assert.True(decoded.Succeeded, decoded.Message);
        return decoded.Value!;
    }

    public static async Task<PaymentRequiredV1> V1BodyAsync(HttpResponseMessage response) =>
        JsonSerializer.Deserialize(await response.Content.ReadAsStringAsync(Ct), X402JsonContext.Strict.PaymentRequiredV1)!;
}
