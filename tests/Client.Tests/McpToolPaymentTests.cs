using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using Npgsql;
using PaymentGate.Tests.Facilitator;
using PaymentGate.Tests.Sessions;
using Sessions.Client;
using Sessions.Client.Mcp;
using Sessions.Payments;
using Sessions.Testing;
using FakeMcpServer = PaymentGate.Tests.Mcp.FakeMcpServer;

namespace Client.Tests;

// The ModelContextProtocol .NET client through the real gate in memory (local facilitator, real Redis and Postgres, SessionApi
// in-process) to an MCP upstream: McpToolPayer pays priced tools with x402 in _meta and with MPP (from the result's challenges
// and from a -32042 error), refuses over the spend limit before signing, lets a session token pay, and leaves free tools alone.
public sealed class McpToolPaymentTests(InfrastructureFixture infrastructure) : IAsyncLifetime
{
    const string MppChallengeKey = "client-mcp-tests-challenge-key-0123456789abcdef";
    const long PutPrice = 10_000, GetPrice = 1_000, Funding = 1_000_000;
    static CancellationToken Ct => TestContext.Current.CancellationToken;
    static readonly Dictionary<string, object?> PutArguments = new() { ["key"] = "notes/a", ["value"] = "from .NET over MCP" };

    SessionGateHarness _gate = null!;
    FakeMcpServer _mcp = null!;
    TestPayer _payer = null!;
    ServiceProvider? _services;
    McpClient? _client;

    public async ValueTask InitializeAsync()
    {
        _mcp = await FakeMcpServer.StartAsync();
        _gate = await SessionGateHarness.StartAsync(infrastructure, new()
        {
            ["services:mcpserver:http:0"] = _mcp.Url, ["Gate:Mpp:ChallengeKey"] = MppChallengeKey,
        });
        _payer = await _gate.FundedPayerAsync(Funding);
    }

    public async ValueTask DisposeAsync()
    {
        if (_client is not null)
            await _client.DisposeAsync();
        if (_services is not null)
            await _services.DisposeAsync();
        await _gate.DisposeAsync();
        await _mcp.DisposeAsync();
    }

    /// <summary>
    /// What an agent builds: the named HttpClient with the payment handler, the SDK's McpClient over it (Streamable HTTP at
    /// /mcp) and the tool payer sharing the handler's signer, policy and ledger.
    /// </summary>
    async Task<(McpClient Client, McpToolPayer Payer, HttpClient Http)> ConnectAsync(Action<PaymentClientOptions>? configure = null,
        Dictionary<string, string>? headers = null)
    {
        var server = (TestServer)_gate.GateServices.GetRequiredService<IServer>();
        var services = new ServiceCollection();
        services.AddHttpClient("gate", client => client.BaseAddress = _gate.Http.BaseAddress)
            .ConfigurePrimaryHttpMessageHandler(server.CreateHandler)
            .AddPaymentHandler(options =>
            {
                options.Signer = new LocalKeySigner(_payer.Key);
                configure?.Invoke(options);
            });
        _services = services.BuildServiceProvider();
        var http = _services.GetRequiredService<IHttpClientFactory>().CreateClient("gate");
        var endpoint = new Uri(_gate.Http.BaseAddress!, "/mcp");
        _client = await McpClient.CreateAsync(new HttpClientTransport(new HttpClientTransportOptions
        {
            Endpoint = endpoint, TransportMode = HttpTransportMode.StreamableHttp, AdditionalHeaders = headers,
        }, http), FakeServerProtocol, cancellationToken: Ct);
        return (_client, McpToolPayer.ForHttpClient(_services, "gate", endpoint), http);
    }

    // The fake server speaks the initialize handshake only; pinned, the SDK skips its server/discover probe.
    static readonly McpClientOptions FakeServerProtocol = new() { ProtocolVersion = "2025-06-18" };

    async Task<long> PaymentsAsync()
    {
        await using var connection = new NpgsqlConnection(_gate.GateDatabase);
        await connection.OpenAsync(Ct);
        await using var command = new NpgsqlCommand("SELECT count(*) FROM payments", connection);
        return (long)(await command.ExecuteScalarAsync(Ct))!;
    }

    static string? Text(ModelContextProtocol.Protocol.CallToolResult result) =>
        result.Content.OfType<ModelContextProtocol.Protocol.TextContentBlock>().FirstOrDefault()?.Text;

    [Fact]
    public async Task Pays_a_priced_tool_with_x402_in_meta_and_reads_the_settlement()
    {
        var (client, payer, _) = await ConnectAsync();

        var paid = await client.CallPaidToolAsync(payer, "put-content", PutArguments, Ct);

        Assert.NotEqual(true, paid.Result.IsError);
        Assert.Equal("ok put-content", Text(paid.Result));
        var payment = Assert.IsType<PaymentResult>(paid.Payment);
        Assert.Equal((PaymentProtocol.X402V2, PutPrice, true), (payment.Protocol, (long)payment.Amount.Value, payment.Settled));
        Assert.StartsWith("0x", payment.Transaction);
        Assert.Equal(_payer.Address, payment.Payer);
        // The unpaid ask is answered by the gate; only the paid call reached the server, without the proof.
        var call = Assert.Single(_mcp.ToolCalls("put-content"));
        Assert.DoesNotContain("x402/payment", call.Body!.ToJsonString());
        Assert.Equal(1, await PaymentsAsync());
        Assert.Equal(Funding - PutPrice, (long)await _gate.BalanceAsync(_payer.Lower));
        Assert.Equal(PutPrice, (long)payer.Ledger.Spent().Value);
    }

    [Fact]
    public async Task Pays_a_priced_tool_with_MPP_from_the_challenge_beside_the_x402_result()
    {
        var (client, payer, _) = await ConnectAsync(options => options.Protocols = [PaymentProtocol.Mpp]);

        var paid = await client.CallPaidToolAsync(payer, "get-content", new Dictionary<string, object?> { ["key"] = "notes/a" }, Ct);

        Assert.NotEqual(true, paid.Result.IsError);
        var payment = Assert.IsType<PaymentResult>(paid.Payment);
        Assert.Equal((PaymentProtocol.Mpp, GetPrice, true), (payment.Protocol, (long)payment.Amount.Value, payment.Settled));
        Assert.NotNull(payment.Receipt);
        Assert.False(string.IsNullOrEmpty(payment.Transaction));
        Assert.Single(_mcp.ToolCalls("get-content"));
        Assert.Equal(Funding - GetPrice, (long)await _gate.BalanceAsync(_payer.Lower));
    }

    [Fact]
    public async Task An_MPP_credential_the_gate_refuses_throws_its_error_and_gives_the_budget_back()
    {
        _payer = new TestPayer();   // never funded: the credential is well formed, the transfer cannot be made
        var (client, payer, _) = await ConnectAsync(options => options.Protocols = [PaymentProtocol.Mpp]);

        var refused = await Assert.ThrowsAsync<McpProtocolException>(() =>
            client.CallPaidToolAsync(payer, "get-content", new Dictionary<string, object?> { ["key"] = "k" }, Ct));

        Assert.Equal(-32043, (int)refused.ErrorCode);   // MPP's verification failed, with a fresh challenge in its data
        Assert.Equal(AtomicAmount.Zero, payer.Ledger.Spent());
        Assert.Empty(_mcp.ToolCalls("get-content"));
        Assert.Equal(0, await PaymentsAsync());
    }

    [Fact]
    public async Task An_x402_payment_the_gate_refuses_comes_back_as_its_result_and_gives_the_budget_back()
    {
        _payer = new TestPayer();
        var (client, payer, _) = await ConnectAsync();

        var refused = await client.CallPaidToolAsync(payer, "get-content", new Dictionary<string, object?> { ["key"] = "k" }, Ct);

        Assert.True(refused.Result.IsError);   // the payment-required result again, saying why
        Assert.Equal((PaymentProtocol.X402V2, false), (refused.Payment!.Protocol, refused.Payment.Settled));
        Assert.Equal(AtomicAmount.Zero, payer.Ledger.Spent());
        Assert.Empty(_mcp.ToolCalls("get-content"));
    }

    [Fact]
    public async Task Refuses_a_price_over_the_limit_before_signing_with_a_typed_exception()
    {
        var (client, payer, _) = await ConnectAsync(options => options.SpendPolicy = new SpendPolicy { MaxPerPayment = new AtomicAmount(5_000) });

        var refused = await Assert.ThrowsAsync<PaymentRefusedException>(() => client.CallPaidToolAsync(payer, "put-content", PutArguments, Ct));

        Assert.Equal((SpendLimit.PerPayment, PutPrice, 5_000L), (refused.Limit, (long)refused.Amount.Value, (long)refused.LimitAmount!.Value.Value));
        Assert.Empty(_mcp.ToolCalls("put-content"));
        Assert.Equal(0, await PaymentsAsync());
        Assert.Equal(AtomicAmount.Zero, payer.Ledger.Spent());
        Assert.Equal(Funding, (long)await _gate.BalanceAsync(_payer.Lower));
    }

    [Fact]
    public async Task An_open_session_pays_the_tools_by_its_token_with_no_second_payment()
    {
        const long deposit = 50 * GetPrice;
        var (client, payer, http) = await ConnectAsync(options => options.Sessions = new SessionOptions { Deposit = new AtomicAmount(deposit) });
        // The agent's first paid HTTP request opened the session (the deposit is the one payment).
        using (var read = await http.GetAsync("/api/content/notes/x", Ct))
            Assert.Null(read.GetPaymentResult());
        var session = Assert.Single(_services!.GetRequiredKeyedService<PaymentSessions>("gate").Open);
        Assert.Equal(1, await PaymentsAsync());
        var debits = await _gate.LedgerCountAsync(session.Id, "debit");

        for (var i = 0; i < 3; i++)
        {
            var call = await client.CallPaidToolAsync(payer, "get-content", new Dictionary<string, object?> { ["key"] = $"k{i}" }, Ct);
            Assert.NotEqual(true, call.Result.IsError);
            Assert.Null(call.Payment);   // the Payment-Session token paid it: nothing signed
        }

        Assert.Equal(1, await PaymentsAsync());
        Assert.Equal(debits + 3, await _gate.LedgerCountAsync(session.Id, "debit"));   // each tool call debited the session
        Assert.Equal(Funding - deposit, (long)await _gate.BalanceAsync(_payer.Lower));
        Assert.Equal(3, _mcp.ToolCalls("get-content").Count());
    }

    [Fact]
    public async Task A_free_tool_passes_through_untouched_and_pays_nothing()
    {
        var (client, payer, _) = await ConnectAsync();

        var free = await client.CallPaidToolAsync(payer, "session-status", null, Ct);

        Assert.Null(free.Payment);
        Assert.NotEqual(true, free.Result.IsError);
        Assert.Equal("session-status", free.Result.StructuredContent!.Value.GetProperty("tool").GetString());
        var call = Assert.Single(_mcp.ToolCalls("session-status"));
        Assert.Null(call.Body!["params"]!["_meta"]);
        Assert.Equal(0, await PaymentsAsync());
        Assert.Equal(AtomicAmount.Zero, payer.Ledger.Spent());
    }
}
