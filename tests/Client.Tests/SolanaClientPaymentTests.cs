using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using PaymentGate.Tests.Facilitator;
using PaymentGate.Tests.Paywall;
using Sessions.Client;
using Sessions.Payments;
using Sessions.Payments.Svm;
using Sessions.Payments.X402;
using Sessions.Testing;

namespace Client.Tests;

// Issue 21: the handler pays a gate's Solana offer (x402 v2 exact on solana devnet) with a Solana signer, the gate's local
// facilitator settles it on its simulated chain; the spend policy refuses before signing; EVM stays first when both can pay.
public sealed class SolanaClientPaymentTests(InfrastructureFixture infrastructure) : IAsyncLifetime
{
    const long GetPrice = 1_000;
    static CancellationToken Ct => TestContext.Current.CancellationToken;
    static readonly LocalSolanaKeySigner Payer = new(Enumerable.Repeat((byte)7, 32).ToArray());
    static readonly LocalSolanaKeySigner Merchant = new(Enumerable.Repeat((byte)8, 32).ToArray());

    PaywallHarness _gate = null!;
    ServiceProvider? _services;
    readonly TestPayer _evmPayer = new();

    public async ValueTask InitializeAsync()
    {
        _gate = await PaywallHarness.StartAsync(infrastructure,
            new() { ["Gate:Organizations:demo:Solana:PayTo"] = Merchant.Address.ToString() });
        await _gate.FundAsync(_evmPayer);
        using var funded = await _gate.Http.PostAsJsonAsync("/dev/faucet",
            new { address = Payer.Address.ToString(), amount = "1000000", network = SvmNetworks.Devnet }, Ct);
        funded.EnsureSuccessStatusCode();
    }

    public async ValueTask DisposeAsync()
    {
        if (_services is not null)
            await _services.DisposeAsync();
        await _gate.DisposeAsync();
    }

    HttpClient Client(Action<PaymentClientOptions> configure)
    {
        var services = new ServiceCollection();
        services.AddHttpClient("gate", client => client.BaseAddress = _gate.Http.BaseAddress)
            .ConfigurePrimaryHttpMessageHandler(() => _gate.Factory.Server.CreateHandler())
            .AddPaymentHandler(options =>
            {
                options.SolanaRpcUrl = new Uri(_gate.Http.BaseAddress!, "/dev/solana-rpc");
                configure(options);
            });
        _services = services.BuildServiceProvider();
        return _services.GetRequiredService<IHttpClientFactory>().CreateClient("gate");
    }

    async Task<string> SolanaBalanceAsync(SolanaAddress owner) =>
        (await _gate.Http.GetFromJsonAsync<JsonElement>($"/dev/accounts/{owner}?network={SvmNetworks.Devnet}", Ct)).GetProperty("balance").GetString()!;

    [Fact]
    public async Task A_Solana_signer_alone_pays_the_content_route_and_the_gate_settles_it()
    {
        using var http = Client(options => options.SolanaSigner = Payer);

        using var response = await http.GetAsync("/api/content/notes/solana", Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var result = response.GetPaymentResult();
        Assert.NotNull(result);
        Assert.Equal((PaymentProtocol.X402V2, SvmNetworks.Devnet, new AtomicAmount(GetPrice)), (result.Protocol, result.Network, result.Amount));
        Assert.Equal(new SolanaPaymentParties(KnownSvmAssets.UsdcDevnet.Mint, Merchant.Address, Payer.Address), result.Solana);
        Assert.True(result.Settled);
        Assert.Equal(SvmNetworks.Devnet, result.Settlement!.Network);
        Assert.False(string.IsNullOrEmpty(result.Transaction));
        Assert.Equal((1_000_000 - GetPrice).ToString(), await SolanaBalanceAsync(Payer.Address));
        Assert.Equal(GetPrice.ToString(), await SolanaBalanceAsync(Merchant.Address));
        Assert.Equal("1000000", await _gate.BalanceAsync(_evmPayer.Lower));   // nothing on EVM
    }

    [Fact]
    public async Task A_Solana_price_above_the_limit_is_refused_before_signing()
    {
        using var http = Client(options =>
        {
            options.SolanaSigner = Payer;
            options.SpendPolicy = new SpendPolicy { MaxPerPayment = new AtomicAmount(GetPrice - 1) };
        });

        var refusal = await Assert.ThrowsAsync<PaymentRefusedException>(() => http.GetAsync("/api/content/notes/too-dear", Ct));

        Assert.Equal((SpendLimit.PerPayment, SvmNetworks.Devnet, KnownSvmAssets.UsdcDevnet.Mint.ToString(), new AtomicAmount(GetPrice)),
            (refusal.Limit, refusal.Network, refusal.AssetId, refusal.Amount));
        Assert.Null(refusal.Asset);
        Assert.Empty(_gate.Upstream.Calls);
        Assert.Empty(await _gate.PaymentsAsync());
        Assert.Equal("1000000", await SolanaBalanceAsync(Payer.Address));
    }

    [Fact]
    public async Task With_both_signers_EVM_is_paid_first_unless_Solana_is_preferred()
    {
        using (var http = Client(options => { options.Signer = new LocalKeySigner(_evmPayer.Key); options.SolanaSigner = Payer; }))
        using (var response = await http.GetAsync("/api/content/notes/evm-first", Ct))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal((Networks.BaseSepolia, _evmPayer.Address, (SolanaPaymentParties?)null),
                (response.GetPaymentResult()!.Network, response.GetPaymentResult()!.Payer, response.GetPaymentResult()!.Solana));
        }
        Assert.Equal((1_000_000 - GetPrice).ToString(), await _gate.BalanceAsync(_evmPayer.Lower));
        Assert.Equal("1000000", await SolanaBalanceAsync(Payer.Address));

        using (var http = Client(options =>
        {
            options.Signer = new LocalKeySigner(_evmPayer.Key);
            options.SolanaSigner = Payer;
            options.PreferSolana = true;
        }))
        using (var response = await http.GetAsync("/api/content/notes/solana-first", Ct))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(SvmNetworks.Devnet, response.GetPaymentResult()!.Network);
        }
        Assert.Equal((1_000_000 - GetPrice).ToString(), await SolanaBalanceAsync(Payer.Address));
        Assert.Equal((1_000_000 - GetPrice).ToString(), await _gate.BalanceAsync(_evmPayer.Lower));
    }

    [Fact]
    public async Task With_both_signers_Solana_is_paid_when_the_policy_allows_only_Solana()
    {
        using var http = Client(options =>
        {
            options.Signer = new LocalKeySigner(_evmPayer.Key);
            options.SolanaSigner = Payer;
            options.SpendPolicy = new SpendPolicy { AllowedNetworks = [SvmNetworks.Devnet] };
        });

        using var response = await http.GetAsync("/api/content/notes/solana-only", Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(SvmNetworks.Devnet, response.GetPaymentResult()!.Network);
        Assert.Equal((1_000_000 - GetPrice).ToString(), await SolanaBalanceAsync(Payer.Address));
        Assert.Equal("1000000", await _gate.BalanceAsync(_evmPayer.Lower));
    }
}
