using System.Collections.Concurrent;
using System.Net;
using System.Numerics;
using Microsoft.Extensions.DependencyInjection;
using PaymentGate.Tests.Facilitator;
using PaymentGate.Tests.Paywall;
using Sessions.Client;
using Sessions.Payments;
using Sessions.Payments.X402;
using Sessions.Testing;

namespace Client.Tests;

// The handler on the real gate in memory (local facilitator with its ledger, real Redis and gatedb): it pays each protocol by
// itself, the settlement is on the response, the payer's balance drops by the price; the spend policy refuses before signing.
public sealed class GatePaymentTests(InfrastructureFixture infrastructure) : IAsyncLifetime
{
    const string MppChallengeKey = "client-tests-challenge-key-0123456789abcdef";
    const long PutPrice = 10_000, GetPrice = 1_000;
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    PaywallHarness _gate = null!;
    ServiceProvider? _services;
    readonly TestPayer _payer = new();
    /// <summary>Every request that left the payment handler, with its payment headers.</summary>
    readonly ConcurrentQueue<(HttpMethod Method, string Path, string[] PaymentHeaders)> _sent = new();

    public async ValueTask InitializeAsync()
    {
        _gate = await PaywallHarness.StartAsync(infrastructure, new() { ["Gate:Mpp:ChallengeKey"] = MppChallengeKey });
        await _gate.FundAsync(_payer);
    }

    public async ValueTask DisposeAsync()
    {
        if (_services is not null)
            await _services.DisposeAsync();
        await _gate.DisposeAsync();
    }

    /// <summary>An HttpClient from IHttpClientFactory as an agent builds it, with the handler between it and the gate.</summary>
    HttpClient Client(Action<PaymentClientOptions>? configure = null)
    {
        var services = new ServiceCollection();
        services.AddHttpClient("gate", client => client.BaseAddress = _gate.Http.BaseAddress)
            .ConfigurePrimaryHttpMessageHandler(() => _gate.Factory.Server.CreateHandler())
            .AddPaymentHandler(options =>
            {
                options.Signer = new LocalKeySigner(_payer.Key);
                configure?.Invoke(options);
            })
            .AddHttpMessageHandler(() => new Recorder(_sent));
        _services = services.BuildServiceProvider();
        return _services.GetRequiredService<IHttpClientFactory>().CreateClient("gate");
    }

    sealed class Recorder(ConcurrentQueue<(HttpMethod, string, string[])> sent) : DelegatingHandler
    {
        static readonly string[] PaymentHeaders = [X402HeaderCodec.PaymentSignatureHeader, X402HeaderCodec.PaymentHeaderV1, "Authorization"];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            sent.Enqueue((request.Method, request.RequestUri!.AbsolutePath, PaymentHeaders.Where(request.Headers.Contains).ToArray()));
            return base.SendAsync(request, cancellationToken);
        }
    }

    async Task PaidOnceAsync(PaymentResult? result, PaymentProtocol protocol, string header, long price)
    {
        Assert.NotNull(result);
        Assert.Equal((protocol, new AtomicAmount(price), _payer.Address), (result.Protocol, result.Amount, result.Payer));
        Assert.True(result.Settled);
        Assert.False(string.IsNullOrEmpty(result.Transaction));
        Assert.Equal((1_000_000 - price).ToString(), await _gate.BalanceAsync(_payer.Lower));
        var payment = Assert.Single(await _gate.PaymentsAsync());
        Assert.Equal((_payer.Lower, price.ToString()), (payment.Payer.ToLowerInvariant(), payment.Amount));
        // Asked once without paying, then once with exactly this protocol's proof.
        Assert.Equal([[], [header]], _sent.Select(s => s.PaymentHeaders));
    }

    [Fact]
    public async Task Pays_x402_v2_by_itself_and_replays_the_body()
    {
        using var http = Client();

        using var response = await http.PutAsync("/api/content/notes/today", new StringContent("buy milk"), Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var result = response.GetPaymentResult();
        await PaidOnceAsync(result, PaymentProtocol.X402V2, X402HeaderCodec.PaymentSignatureHeader, PutPrice);
        Assert.Equal((true, Networks.BaseSepolia), (result!.Settlement!.Success, result.Settlement.Network));
        Assert.Equal("PUT", Assert.Single(_gate.Upstream.Calls).Method);
    }

    [Fact]
    public async Task Pays_x402_v1_from_the_body_when_preferred()
    {
        using var http = Client(options => options.Protocols = [PaymentProtocol.X402V1]);

        using var response = await http.GetAsync("/api/content/notes/v1", Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await PaidOnceAsync(response.GetPaymentResult(), PaymentProtocol.X402V1, X402HeaderCodec.PaymentHeaderV1, GetPrice);
        Assert.NotNull(response.GetPaymentResult()!.Settlement);
    }

    [Fact]
    public async Task Pays_the_MPP_evm_charge_challenge_and_reads_the_receipt()
    {
        using var http = Client(options => options.Protocols = [PaymentProtocol.Mpp]);

        using var response = await http.GetAsync("/api/content/notes/mpp", Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var result = response.GetPaymentResult();
        await PaidOnceAsync(result, PaymentProtocol.Mpp, "Authorization", GetPrice);
        Assert.Equal(("success", "evm"), (result!.Receipt!.Status, result.Receipt.Method));
    }

    [Fact]
    public async Task A_price_above_the_limit_is_refused_before_anything_is_signed_or_sent()
    {
        using var http = Client(options => options.SpendPolicy = new SpendPolicy { MaxPerPayment = new AtomicAmount(PutPrice - 1) });

        var refusal = await Assert.ThrowsAsync<PaymentRefusedException>(() =>
            http.PutAsync("/api/content/notes/too-dear", new StringContent("x"), Ct));

        Assert.Equal((SpendLimit.PerPayment, new AtomicAmount(PutPrice), new AtomicAmount(PutPrice - 1), "localhost"),
            (refusal.Limit, refusal.Amount, refusal.LimitAmount!.Value, refusal.Host));
        Assert.Equal([[]], _sent.Select(s => s.PaymentHeaders));   // only the unpaid question went out
        Assert.Empty(_gate.Upstream.Calls);
        Assert.Empty(await _gate.PaymentsAsync());
        Assert.Equal("1000000", await _gate.BalanceAsync(_payer.Lower));
    }

    [Fact]
    public async Task A_network_outside_the_allowed_ones_is_refused_before_signing()
    {
        using var http = Client(options => options.SpendPolicy = new SpendPolicy { AllowedNetworks = [Networks.Base] });

        var refusal = await Assert.ThrowsAsync<PaymentRefusedException>(() => http.GetAsync("/api/content/notes/net", Ct));

        Assert.Equal((SpendLimit.Network, Networks.BaseSepolia), (refusal.Limit, refusal.Network));
        Assert.All(_sent, s => Assert.Empty(s.PaymentHeaders));
        Assert.Empty(await _gate.PaymentsAsync());
    }

    [Fact]
    public async Task Concurrent_requests_never_spend_past_the_host_budget()
    {
        using var http = Client(options => options.SpendPolicy = new SpendPolicy { MaxPerHost = new AtomicAmount(3 * GetPrice) });

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 8).Select(async i =>
        {
            try
            {
                using var response = await http.GetAsync($"/api/content/notes/race-{i}", Ct);
                return response.StatusCode.ToString();
            }
            catch (PaymentRefusedException refusal)
            {
                return refusal.Limit.ToString();
            }
        }));

        Assert.Equal(3, outcomes.Count(o => o == nameof(HttpStatusCode.OK)));
        Assert.Equal(5, outcomes.Count(o => o == nameof(SpendLimit.HostBudget)));
        Assert.Equal(3, (await _gate.PaymentsAsync()).Count);
        Assert.Equal(3, _sent.Count(s => s.PaymentHeaders.Length > 0));
        Assert.Equal((1_000_000 - 3 * GetPrice).ToString(), await _gate.BalanceAsync(_payer.Lower));
    }

    [Fact]
    public async Task A_payment_the_server_did_not_charge_gives_the_budget_back()
    {
        using var http = Client(options => options.SpendPolicy = new SpendPolicy { MaxPerHost = new AtomicAmount(GetPrice) });

        // "fail..." keys make the upstream answer 500: the gate does not settle, the payer keeps the money.
        using var failed = await http.GetAsync("/api/content/fail-once", Ct);
        Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
        Assert.False(failed.GetPaymentResult()!.Settled);

        using var paid = await http.GetAsync("/api/content/notes/after", Ct);
        Assert.Equal(HttpStatusCode.OK, paid.StatusCode);
        Assert.Equal((1_000_000 - GetPrice).ToString(), await _gate.BalanceAsync(_payer.Lower));
    }

    [Fact]
    public async Task A_free_route_passes_untouched()
    {
        using var http = Client();

        using var response = await http.GetAsync("/api/ping", Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Null(response.GetPaymentResult());
        Assert.Equal([[]], _sent.Select(s => s.PaymentHeaders));
    }
}
