using McpServer.Tests.Support;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol.Client;
using Sessions.ServiceDefaults.Payers;
using Sessions.Testing;

namespace McpServer.Tests.Mcp;

/// <summary>McpServer in-process (real Redis) plus MCP clients that carry a gate-signed payer context, or none.</summary>
public sealed class McpTestHost : IAsyncDisposable
{
    readonly ServiceFactory<Program> _root;

    public McpTestHost(InfrastructureFixture infrastructure, Action<IServiceCollection>? services = null,
        IReadOnlyDictionary<string, string?>? settings = null)
    {
        var all = new Dictionary<string, string?>
        {
            ["ConnectionStrings:redis"] = infrastructure.RedisConnectionString,
            ["PayerContext:SigningKey"] = Payers.SigningKey,
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>()) all[key] = value;
        _root = new ServiceFactory<Program>(all);
        Factory = services is null ? _root : _root.WithWebHostBuilder(builder => builder.ConfigureTestServices(services));
    }

    public WebApplicationFactory<Program> Factory { get; }

    /// <summary>An HttpClient to the test server; every request carries <paramref name="payer"/> signed with the tests' key (valid 2 minutes).</summary>
    public HttpClient Http(PayerContext? payer = null) => Factory.CreateDefaultClient(new PayerContextHandler(payer));

    /// <summary>The SDK's own client over Streamable HTTP. <paramref name="protocolVersion"/> null = the client's default (2026-07-28 with fallback).</summary>
    public Task<McpClient> ConnectAsync(PayerContext? payer = null, string? protocolVersion = null) =>
        McpClient.CreateAsync(
            new HttpClientTransport(new HttpClientTransportOptions
            {
                Endpoint = new Uri("http://localhost/mcp"),
                TransportMode = HttpTransportMode.StreamableHttp,
            }, Http(payer), ownsHttpClient: true),
            new McpClientOptions { ProtocolVersion = protocolVersion },
            cancellationToken: TestContext.Current.CancellationToken);

    public static PayerContext Payer(string? address = null, string? sessionId = null, string? vaultId = null) =>
        Payers.Context(address ?? Payers.NewAddress()) with { SessionId = sessionId, VaultId = vaultId };

    public async ValueTask DisposeAsync()
    {
        if (!ReferenceEquals(Factory, _root)) await Factory.DisposeAsync();
        await _root.DisposeAsync();
    }

    sealed class PayerContextHandler(PayerContext? payer) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (payer is not null)
                request.Headers.TryAddWithoutValidation(PayerContextSigner.HeaderName, Payers.Signer.Sign(payer));
            return base.SendAsync(request, cancellationToken);
        }
    }
}
