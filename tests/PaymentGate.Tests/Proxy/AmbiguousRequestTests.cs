using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using PaymentGate.Tests.Facilitator;
using PaymentGate.Tests.Mpp;
using PaymentGate.Tests.Paywall;
using Sessions.Payments.X402;
using Sessions.Testing;

namespace PaymentGate.Tests.Proxy;

// Requests that could mean two things are refused before anything is looked up, charged or forwarded: two payment
// credentials at once, and paths whose meaning changes once an encoded '.', '/' or '\' is decoded.
public sealed class AmbiguousRequestTests(InfrastructureFixture infrastructure)
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;
    const string Path = "/api/content/notes/a";

    static async Task<JsonElement> ProblemAsync(HttpResponseMessage response, string code)
    {
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(text).RootElement.Clone();
        Assert.Equal(code, problem.GetProperty("code").GetString());
        return problem;
    }

    [Theory]
    [InlineData("x402 v2 and v1")]
    [InlineData("x402 v2 and MPP")]
    [InlineData("x402 v1 and MPP")]
    public async Task Two_payment_credentials_are_a_400_naming_both_and_nothing_is_charged_or_forwarded(string combination)
    {
        await using var gate = await PaywallHarness.StartAsync(infrastructure);
        var payer = new TestPayer();
        await gate.FundAsync(payer);
        var (offer, _) = await gate.OfferAsync(HttpMethod.Get, Path);
        var exact = payer.Sign(value: System.Numerics.BigInteger.Parse(offer.Accepts.Single().Amount));
        var headers = new List<(string Name, string Value)>();
        if (combination.Contains("v2"))
            headers.Add((X402HeaderCodec.PaymentSignatureHeader, PaywallHarness.V2Header(offer.Accepts.Single(), exact, offer.Resource.Url)));
        if (combination.Contains("v1"))
            headers.Add((X402HeaderCodec.PaymentHeaderV1, PaywallHarness.V1Header(exact)));
        if (combination.Contains("MPP"))
        {
            using var unpaid = await gate.Http.GetAsync(Path, Ct);
            headers.Add(("Authorization", MppClient.Pay(payer, MppClient.ChallengeOf(unpaid))));
        }

        foreach (var path in new[] { Path, "/api/ping", "/api/sessions", "/mcp" })
        {
            var request = new HttpRequestMessage(path is "/api/sessions" or "/mcp" ? HttpMethod.Post : HttpMethod.Get, path);
            foreach (var (name, value) in headers)
                request.Headers.TryAddWithoutValidation(name, value);
            if (request.Method == HttpMethod.Post)
                request.Content = new StringContent("""{"deposit":"100000"}""", Encoding.UTF8, "application/json");
            using var response = await gate.Http.SendAsync(request, Ct);

            var problem = await ProblemAsync(response, "ambiguous-payment");
            var detail = problem.GetProperty("detail").GetString()!;
            foreach (var (name, _) in headers)
                Assert.Contains(name, detail, StringComparison.OrdinalIgnoreCase);
        }
        Assert.Empty(gate.Upstream.Calls);
        Assert.Empty(await gate.PaymentsAsync());
        Assert.Equal("1000000", await gate.BalanceAsync(payer.Lower));
    }

    [Theory]
    [InlineData("/api/content/a/%2e%2e/%2e%2e/sessions")]   // decoded and normalised: the session list
    [InlineData("/api/content/a/%2E%2E/%2e%2E/ping")]       // a priced path served as the free ping
    [InlineData("/api/content/a/../../ping")]
    [InlineData("/api/content/a/%2e%2e%2f%2e%2e%2fping")]
    [InlineData("/api/content/a%2Fb")]
    [InlineData("/api/content/a/%5c..%5cping")]
    [InlineData("/api/content/a/%252e%252e/%252e%252e/ping")]   // double-encoded: one more decoding away
    [InlineData("/api/content/a/%252F")]
    [InlineData("/api/content/a/%25%32%65%25%32%65/ping")]   // double-encoded, another shape
    [InlineData("/api/ping/%2e")]
    public async Task Encoded_dot_slash_or_backslash_segments_are_a_400_before_any_route_or_price_lookup(string rawPath)
    {
        await using var gate = await KestrelGate.StartAsync(infrastructure);

        var (status, body) = await gate.SendRawAsync($"GET {rawPath} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");

        Assert.True(status == 400, $"{status}: {body}");
        Assert.Equal("invalid-path", JsonDocument.Parse(body).RootElement.GetProperty("code").GetString());
        Assert.Empty(gate.Upstream.Calls);
    }

    [Fact]
    public async Task Plain_paths_with_dots_and_percent_escapes_still_pass()
    {
        await using var gate = await KestrelGate.StartAsync(infrastructure);

        var (ping, _) = await gate.SendRawAsync("GET /api/ping HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        var (content, _) = await gate.SendRawAsync("GET /api/content/v1.2/50%25%20off HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");

        Assert.Equal(200, ping);
        Assert.Equal(402, content);   // priced, unpaid: the path was read as written
    }

    /// <summary>The gate on a real Kestrel socket: only Kestrel decodes and normalises request targets as an attacker sends them.</summary>
    sealed class KestrelGate : IAsyncDisposable
    {
        readonly GateFactory _factory;
        readonly Uri _address;

        KestrelGate(GateFactory factory, FakeUpstream upstream)
        {
            _factory = factory;
            Upstream = upstream;
            _factory.UseKestrel(0);
            _factory.StartServer();
            _address = new Uri(_factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        }

        public FakeUpstream Upstream { get; }

        public static async Task<KestrelGate> StartAsync(InfrastructureFixture infrastructure)
        {
            var upstream = await FakeUpstream.StartAsync();
            return new KestrelGate(new GateFactory(new Dictionary<string, string?>
            {
                ["ConnectionStrings:gatedb"] = await infrastructure.CreateDatabaseAsync("gatedb"),
                ["ConnectionStrings:redis"] = infrastructure.RedisConnectionString,
                ["services:mcpserver:http:0"] = upstream.Url,
                ["services:sessionapi:http:0"] = upstream.Url,
                ["PayerContext:SigningKey"] = PaywallHarness.SigningKey,
            }), upstream);
        }

        /// <summary>Sends <paramref name="request"/> byte for byte (no client normalises it); the status and the body.</summary>
        public async Task<(int Status, string Body)> SendRawAsync(string request)
        {
            using var client = new TcpClient();
            await client.ConnectAsync(_address.Host, _address.Port, Ct);
            await using var stream = client.GetStream();
            await stream.WriteAsync(Encoding.ASCII.GetBytes(request), Ct);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            var answer = await reader.ReadToEndAsync(Ct);
            var status = int.Parse(answer.Split(' ', 3)[1]);
            var headerEnd = answer.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            var body = answer[(headerEnd + 4)..];
            return (status, answer[..headerEnd].Contains("transfer-encoding: chunked", StringComparison.OrdinalIgnoreCase) ? Dechunk(body) : body);
        }

        static string Dechunk(string chunked)
        {
            var body = new StringBuilder();
            var at = 0;
            while (true)
            {
                var lineEnd = chunked.IndexOf("\r\n", at, StringComparison.Ordinal);
                var size = Convert.ToInt32(chunked[at..lineEnd], 16);
                if (size == 0)
                    return body.ToString();
                body.Append(chunked, lineEnd + 2, size);
                at = lineEnd + 2 + size + 2;
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _factory.DisposeAsync();
            await Upstream.DisposeAsync();
        }
    }
}
