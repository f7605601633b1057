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
// requests race, spent by token, topped up on the gate's hint within the budget, closed with the refund on the ledger.
public sealed class SessionClientTests(InfrastructureFixture infrastructure) : IAsyncLifetime
{
    const long Price = SessionGateHarness.GetPrice;
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    SessionGateHarness _gate = null!;
    TestPayer _payer = null!;
    ServiceProvider? _services;

    public async ValueTask InitializeAsync()
    {
        _gate = await SessionGateHarness.StartAsync(infrastructure);
        _payer = await _gate.FundedPayerAsync();
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
            });
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
}
