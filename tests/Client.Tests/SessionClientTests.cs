using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using PaymentGate.Tests.Facilitator;
using PaymentGate.Tests.Sessions;
using Sessions.Client;
using Sessions.Payments;
using Sessions.Testing;

namespace Client.Tests;

// Opt-in sessions on the real gate with SessionApi and VaultApi in memory: one session opened (paid once) however many
// requests race, spent by token, topped up on the gate's hint within the budget, closed with the refund on the ledger; only
// where the 402 advertises sessions ("demo" sells prepaid sessions and passes, "plain" none), of the kind wanted.
public sealed class SessionClientTests(InfrastructureFixture infrastructure) : IAsyncLifetime
{
    const long Price = SessionGateHarness.GetPrice;
    const long PassPrice = 5000;
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    SessionGateHarness _gate = null!;
    TestPayer _payer = null!;
    ServiceProvider? _services;
    /// <summary>Every request the payment handler sent ("POST /api/sessions", "GET /api/content/notes/a"...).</summary>
    readonly ConcurrentQueue<string> _sent = new();

    public async ValueTask InitializeAsync()
    {
        _gate = await SessionGateHarness.StartAsync(infrastructure, new()
        {
            ["Gate:Organizations:demo:Pass:Price"] = PassPrice.ToString(),
            ["Gate:Organizations:demo:Pass:TtlSeconds"] = "3600",
            ["Gate:Organizations:plain:PayTo"] = "0x857b06519E91e3A54538791bDbb0E22373e36b66",
            ["Gate:Organizations:plain:PrepaidSessions"] = "false",
            // GET /api/ping (appsettings' first route, free there) priced by "plain".
            ["Gate:Routes:0:Organization"] = "plain",
            ["Gate:Routes:0:Price"] = Price.ToString(),
        });
        _payer = await _gate.FundedPayerAsync();
    }

    sealed class Recorder(ConcurrentQueue<string> sent) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            sent.Enqueue($"{request.Method} {request.RequestUri!.AbsolutePath}");
            return base.SendAsync(request, cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_services is not null)
            await _services.DisposeAsync();
        await _gate.DisposeAsync();
    }

    HttpClient Client(SessionOptions sessions, SpendPolicy? policy = null)
    {
        var server = (TestServer)_gate.GateServices.GetRequiredService<IServer>();
        var services = new ServiceCollection();
        services.AddHttpClient("gate", client => client.BaseAddress = _gate.Http.BaseAddress)
            .ConfigurePrimaryHttpMessageHandler(server.CreateHandler)
            .AddPaymentHandler(options =>
            {
                options.Signer = new LocalKeySigner(_payer.Key);
                options.Sessions = sessions;
                options.SpendPolicy = policy ?? SpendPolicy.Unlimited;
            })
            .AddHttpMessageHandler(() => new Recorder(_sent));
        _services = services.BuildServiceProvider();
        return _services.GetRequiredService<IHttpClientFactory>().CreateClient("gate");
    }

    PaymentSessions Sessions => _services!.GetRequiredKeyedService<PaymentSessions>("gate");

    async Task<long> PaymentsAsync()
    {
        await using var connection = new NpgsqlConnection(_gate.GateDatabase);
        await connection.OpenAsync(Ct);
        await using var command = new NpgsqlCommand("SELECT count(*) FROM payments", connection);
        return (long)(await command.ExecuteScalarAsync(Ct))!;
    }

    [Fact]
    public async Task Racing_first_requests_open_one_session_then_spend_it_by_token_and_close_reports_the_refund()
    {
        using var http = Client(new SessionOptions { Deposit = new AtomicAmount(5 * Price) });

        var answers = await Task.WhenAll(Enumerable.Range(0, 4).Select(async i =>
        {
            using var response = await http.GetAsync($"/api/content/notes/s{i}", Ct);
            return (response.StatusCode, response.GetPaymentResult());
        }));

        Assert.All(answers, a => Assert.Equal((HttpStatusCode.OK, null), a));   // paid by the session, not by a payment
        Assert.Equal(1, await PaymentsAsync());                                  // the deposit, once
        Assert.Equal(4, _gate.Upstream.Calls.Count);
        Assert.Equal(1_000_000 - 5 * Price, await _gate.BalanceAsync(_payer.Lower));
        var session = Assert.Single(Sessions.Open);

        var closure = Assert.Single(await Sessions.CloseAllAsync(Ct));

        Assert.Equal((session.Id, new AtomicAmount(Price), "ledger"), (closure.Id, closure.Refunded, closure.Method));
        Assert.Empty(Sessions.Open);
        Assert.Equal(1_000_000 - 4 * Price, await _gate.BalanceAsync(_payer.Lower));
    }

    [Fact]
    public async Task Tops_up_on_the_gate_hint_and_disposing_the_client_closes_the_session()
    {
        using var http = Client(new SessionOptions { Deposit = new AtomicAmount(2 * Price), TopUp = new AtomicAmount(3 * Price) });

        for (var i = 0; i < 4; i++)
        {
            using var response = await http.GetAsync($"/api/content/notes/t{i}", Ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(1, Assert.Single(Sessions.Open).TopUps);
        Assert.Equal(2, await PaymentsAsync());   // the deposit and one top-up
        Assert.Equal(1_000_000 - 5 * Price, await _gate.BalanceAsync(_payer.Lower));

        await _services!.DisposeAsync();   // closes the session: the unspent 1000 comes back
        _services = null;
        Assert.Equal(1_000_000 - 4 * Price, await _gate.BalanceAsync(_payer.Lower));
    }

    [Fact]
    public async Task A_top_up_past_the_host_budget_is_refused_before_signing()
    {
        using var http = Client(new SessionOptions { Deposit = new AtomicAmount(2 * Price), TopUp = new AtomicAmount(3 * Price) },
            new SpendPolicy { MaxPerHost = new AtomicAmount(4 * Price) });
        for (var i = 0; i < 2; i++)
            (await http.GetAsync($"/api/content/notes/b{i}", Ct)).Dispose();

        var refusal = await Assert.ThrowsAsync<PaymentRefusedException>(() => http.GetAsync("/api/content/notes/b2", Ct));

        Assert.Equal((SpendLimit.HostBudget, new AtomicAmount(3 * Price), new AtomicAmount(2 * Price)),
            (refusal.Limit, refusal.Amount, refusal.AlreadySpent!.Value));
        Assert.Equal(1, await PaymentsAsync());
        Assert.Equal(1_000_000 - 2 * Price, await _gate.BalanceAsync(_payer.Lower));
    }

    int Opens => _sent.Count(call => call == "POST /api/sessions");

    [Fact]
    public async Task A_402_that_advertises_no_sessions_is_paid_by_itself_and_no_session_is_opened()
    {
        using var http = Client(new SessionOptions { Deposit = new AtomicAmount(5 * Price) });

        using var response = await http.GetAsync("/api/ping", Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(response.GetPaymentResult()!.Settled);
        Assert.Equal(0, Opens);
        Assert.Empty(Sessions.Open);
        Assert.Equal(1, await PaymentsAsync());
        Assert.Equal(1_000_000 - Price, await _gate.BalanceAsync(_payer.Lower));
    }

    [Fact]
    public async Task Sixteen_racing_requests_open_one_prepaid_session_where_it_is_advertised()
    {
        using var http = Client(new SessionOptions { Deposit = new AtomicAmount(20 * Price) });

        var answers = await Task.WhenAll(Enumerable.Range(0, 16).Select(async i =>
        {
            using var response = await http.GetAsync($"/api/content/notes/r{i}", Ct);
            return (response.StatusCode, response.GetPaymentResult());
        }));

        Assert.All(answers, a => Assert.Equal((HttpStatusCode.OK, null), a));
        Assert.Equal(2, Opens);   // the unpaid POST (402 for the deposit) and the paid one, once for all 16
        Assert.Equal(SessionKind.Prepaid, Assert.Single(Sessions.Open).Kind);
        Assert.Equal(1, await PaymentsAsync());
        Assert.Equal(16, _gate.Upstream.Calls.Count);
        Assert.Equal(1_000_000 - 20 * Price, await _gate.BalanceAsync(_payer.Lower));
    }

    [Fact]
    public async Task A_pass_is_bought_at_the_advertised_price_reused_and_closed_with_nothing_to_refund()
    {
        using var http = Client(new SessionOptions { Kind = SessionKind.Pass });

        for (var i = 0; i < 5; i++)
        {
            using var response = await http.GetAsync($"/api/content/notes/p{i}", Ct);
            Assert.Equal((HttpStatusCode.OK, null), (response.StatusCode, response.GetPaymentResult()));
        }

        var pass = Assert.Single(Sessions.Open);
        Assert.Equal(SessionKind.Pass, pass.Kind);
        Assert.Equal((2, 1), (Opens, await PaymentsAsync()));
        Assert.Equal(5, _gate.Upstream.Calls.Count);
        Assert.Equal(1_000_000 - PassPrice, await _gate.BalanceAsync(_payer.Lower));

        var closure = Assert.Single(await Sessions.CloseAllAsync(Ct));

        Assert.Equal((pass.Id, AtomicAmount.Zero), (closure.Id, closure.Refunded));
        Assert.Equal(1_000_000 - PassPrice, await _gate.BalanceAsync(_payer.Lower));
    }

    [Fact]
    public async Task A_pass_over_the_per_payment_limit_is_refused_before_signing()
    {
        using var http = Client(new SessionOptions { Kind = SessionKind.Pass }, new SpendPolicy { MaxPerPayment = new AtomicAmount(PassPrice - 1) });

        var refusal = await Assert.ThrowsAsync<PaymentRefusedException>(() => http.GetAsync("/api/content/notes/x", Ct));

        Assert.Equal((SpendLimit.PerPayment, new AtomicAmount(PassPrice)), (refusal.Limit, refusal.Amount));
        Assert.Equal(1, Opens);   // the unpaid POST only: nothing was signed
        Assert.Empty(Sessions.Open);
        Assert.Equal(0, await PaymentsAsync());
        Assert.Empty(_gate.Upstream.Calls);
        Assert.Equal(1_000_000, await _gate.BalanceAsync(_payer.Lower));
    }
}
