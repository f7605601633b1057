using Microsoft.Extensions.Options;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Sessions.PaymentGate.Facilitator;
using Sessions.PaymentGate.Facilitator.Local;
using Sessions.Payments.X402;
using Sessions.Testing;

namespace PaymentGate.Tests.Facilitator;

// The gate's default: its local facilitator called in-process (no Facilitator:Url).
public sealed class LocalFacilitatorInProcessTests(InfrastructureFixture infrastructure) : LocalFacilitatorTests(infrastructure, overHttp: false)
{
    [Fact]
    public async Task In_process_answers_are_the_answers_of_the_http_api()
    {
        Assert.IsType<FacilitatorClient>(Facilitator);
        var http = Factory.Services.GetRequiredService<HttpFacilitatorClient>();
        var payer = new TestPayer();
        await FundAsync(payer.Lower, "50000");
        VerifyRequest[] requests =
        [
            TestPayer.V2(payer.Sign()),
            TestPayer.V2(payer.Sign(value: 9999)),
            TestPayer.V2(payer.Sign(value: 60000), TestPayer.Requirements(amount: "60000")),
            TestPayer.V2(payer.Sign(to: "0x000000000000000000000000000000000000dEaD")),
            TestPayer.V2(payer.Sign(signingKey: new TestPayer().Key)),
            TestPayer.V2(payer.Sign(domainName: "USD Coin"), TestPayer.Requirements(name: "USD Coin")),
        ];

        foreach (var request in requests)
            Assert.Equal(await http.VerifyAsync(request, Ct), await Facilitator.VerifyAsync(request, Ct));
        // As JSON: a kind's extra (the SVM fee payer) is a JsonElement, which compares by reference.
        Assert.Equal(JsonSerializer.Serialize((await http.GetSupportedAsync(Ct)).Kinds), JsonSerializer.Serialize((await Facilitator.GetSupportedAsync(Ct)).Kinds));

        // A settlement refused in-process is refused the same way over HTTP (and the other way round: nothing moved).
        var tooMuch = TestPayer.ToSettle(requests[2]);
        Assert.Equal(await http.SettleAsync(tooMuch, Ct), await Facilitator.SettleAsync(tooMuch, Ct));
        var settle = TestPayer.ToSettle(requests[0]);
        var settled = await Facilitator.SettleAsync(settle, Ct);
        Assert.True(settled.Success, settled.ErrorMessage);
        Assert.Equal((await http.SettleAsync(settle, Ct)).ErrorReason, (await Facilitator.SettleAsync(settle, Ct)).ErrorReason);
        Assert.Equal("40000", await BalanceAsync(payer.Lower));
    }

    [Fact]
    public async Task In_process_a_ledger_that_does_not_answer_is_an_unavailable_facilitator()
    {
        // As a 500 from /facilitator would be over HTTP: for settle "outcome unknown", never "failed" or "paid".
        await using var unreachable = NpgsqlDataSource.Create("Host=127.0.0.1;Port=1;Timeout=2;Username=gate;Password=gate;Database=gatedb");
        var local = new LocalFacilitator(new ExactEvmVerifier(), new TokenLedger(unreachable), NullLogger<LocalFacilitator>.Instance);
        var client = new LocalFacilitatorClient(local, Options.Create(new FacilitatorOptions()), NullLogger<LocalFacilitatorClient>.Instance);
        var request = TestPayer.V2(new TestPayer().Sign());

        await Assert.ThrowsAsync<FacilitatorUnavailableException>(() => client.VerifyAsync(request, Ct));
        await Assert.ThrowsAsync<FacilitatorUnavailableException>(() => client.SettleAsync(TestPayer.ToSettle(request), Ct));
    }

    [Fact]
    public async Task In_process_a_ledger_that_hangs_is_an_unavailable_facilitator_after_the_timeout()
    {
        // Accepts connections and never speaks: without the timeout a settle would wait for Npgsql's own (15 s and more).
        using var silent = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        silent.Start();
        var port = ((System.Net.IPEndPoint)silent.LocalEndpoint).Port;
        await using var hanging = NpgsqlDataSource.Create($"Host=127.0.0.1;Port={port};Timeout=10;Username=gate;Password=gate;Database=gatedb");
        var local = new LocalFacilitator(new ExactEvmVerifier(), new TokenLedger(hanging), NullLogger<LocalFacilitator>.Instance);
        var options = new FacilitatorOptions { Local = { Timeout = TimeSpan.FromMilliseconds(300) } };
        var client = new LocalFacilitatorClient(local, Options.Create(options), NullLogger<LocalFacilitatorClient>.Instance);
        var request = TestPayer.V2(new TestPayer().Sign());

        var clock = System.Diagnostics.Stopwatch.StartNew();
        await Assert.ThrowsAsync<FacilitatorUnavailableException>(() => client.SettleAsync(TestPayer.ToSettle(request), Ct));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");   // not Npgsql's 10 s
    }
}

// The same facilitator through HttpFacilitatorClient and /facilitator: what a second gate pointed at this one gets.
public sealed class LocalFacilitatorOverHttpTests(InfrastructureFixture infrastructure) : LocalFacilitatorTests(infrastructure, overHttp: true);

// The gate's local facilitator through a real client, on its own gatedb: real checks, real ledger.
public abstract class LocalFacilitatorTests(InfrastructureFixture infrastructure, bool overHttp) : IAsyncLifetime
{
    string _connectionString = "";
    GateFactory _factory = null!;
    HttpClient _http = null!;
    IFacilitatorClient _facilitator = null!;

    public async ValueTask InitializeAsync()
    {
        _connectionString = await infrastructure.CreateDatabaseAsync("gatedb");
        _factory = new GateFactory(new Dictionary<string, string?> { ["ConnectionStrings:gatedb"] = _connectionString });
        _http = _factory.CreateClient();
        _facilitator = overHttp
            ? _factory.Services.GetRequiredService<HttpFacilitatorClient>()
            : _factory.Services.GetRequiredService<IFacilitatorClient>();
    }

    public ValueTask DisposeAsync() => _factory.DisposeAsync();

    protected GateFactory Factory => _factory;
    protected IFacilitatorClient Facilitator => _facilitator;
    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Supported_lists_exact_on_base_sepolia_for_v1_and_v2_with_a_signer()
    {
        var supported = await _facilitator.GetSupportedAsync(Ct);

        Assert.Contains(supported.Kinds, k => k is { X402Version: 1, Scheme: "exact", Network: "base-sepolia" });
        Assert.Contains(supported.Kinds, k => k is { X402Version: 2, Scheme: "exact", Network: "eip155:84532" });
        Assert.Single(supported.Signers["eip155:*"]);
    }

    [Fact]
    public async Task Verify_and_settle_move_the_balance_and_record_the_transfer()
    {
        var payer = new TestPayer();
        await FundAsync(payer.Lower, "25000");
        var request = TestPayer.V2(payer.Sign(value: 10000));

        var verify = await _facilitator.VerifyAsync(request, Ct);
        Assert.True(verify.IsValid, verify.InvalidMessage);
        Assert.Equal(payer.Address.ToString(), verify.Payer);
        Assert.Equal("25000", await BalanceAsync(payer.Lower));   // verify moves nothing

        var settle = await _facilitator.SettleAsync(TestPayer.ToSettle(request), Ct);

        Assert.True(settle.Success, settle.ErrorMessage);
        Assert.Matches("^0x[0-9a-f]{64}$", settle.Transaction);
        Assert.Equal("eip155:84532", settle.Network);
        Assert.Equal(payer.Address.ToString(), settle.Payer);
        Assert.Equal("10000", settle.Amount);
        Assert.Equal("15000", await BalanceAsync(payer.Lower));

        var account = await AccountAsync(payer.Address.ToString().ToUpperInvariant().Replace("0X", "0x"));   // any casing
        var transfers = account.GetProperty("transfers").EnumerateArray().ToList();
        Assert.Equal(2, transfers.Count);
        var transfer = transfers[0];   // newest first
        Assert.Equal("transfer", transfer.GetProperty("kind").GetString());
        Assert.Equal(payer.Lower, transfer.GetProperty("from").GetString());
        Assert.Equal(TestPayer.PayTo.ToLowerInvariant(), transfer.GetProperty("to").GetString());
        Assert.Equal("10000", transfer.GetProperty("value").GetString());
        Assert.Equal(settle.Transaction, transfer.GetProperty("transaction").GetString());
        Assert.Matches("^0x[0-9a-f]{64}$", transfer.GetProperty("nonce").GetString()!);
        Assert.True(transfer.TryGetProperty("createdAt", out _));
        Assert.Equal("faucet", transfers[1].GetProperty("kind").GetString());
    }

    [Fact]
    public async Task A_v1_payment_with_a_network_name_settles_on_the_same_balance()
    {
        var payer = new TestPayer();
        await FundAsync(payer.Lower, "10000");
        var request = TestPayer.V1(payer.Sign(value: 10000));

        Assert.True((await _facilitator.VerifyAsync(request, Ct)).IsValid);
        var settle = await _facilitator.SettleAsync(TestPayer.ToSettle(request), Ct);

        Assert.True(settle.Success, settle.ErrorMessage);
        Assert.Equal("base-sepolia", settle.Network);   // echoes the request's network
        Assert.Equal("0", await BalanceAsync(payer.Lower));
    }

    public static TheoryData<string, string> FailingChecks => new()
    {
        { "scheme", ReasonCodes.InvalidScheme },
        { "extra", ReasonCodes.MissingEip712Domain },
        { "network", ReasonCodes.NetworkMismatch },
        { "signature", ReasonCodes.InvalidSignature },
        { "recipient", ReasonCodes.RecipientMismatch },
        { "validBefore", ReasonCodes.ValidBeforeExpired },
        { "validAfter", ReasonCodes.ValidAfterInFuture },
        { "value", ReasonCodes.AuthorizationValueMismatch },
        { "unservedNetwork", "invalid_network" },
        { "tokenDomain", ReasonCodes.InvalidSignature },
    };

    [Theory]
    [MemberData(nameof(FailingChecks))]
    public async Task Each_failing_check_answers_its_reason_and_leaves_no_row(string broken, string reason)
    {
        var payer = new TestPayer();
        await FundAsync(payer.Lower, "50000");
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var request = broken switch
        {
            "scheme" => TestPayer.V2(payer.Sign(), TestPayer.Requirements(scheme: "upto")),
            "extra" => TestPayer.V2(payer.Sign(), TestPayer.Requirements() with { Extra = null }),
            "network" => TestPayer.V2(payer.Sign(), TestPayer.Requirements(), accepted: TestPayer.Requirements(network: "eip155:8453")),
            "signature" => TestPayer.V2(payer.Sign(signingKey: new TestPayer().Key)),
            "recipient" => TestPayer.V2(payer.Sign(to: "0x000000000000000000000000000000000000dEaD")),
            "validBefore" => TestPayer.V2(payer.Sign(validBefore: now + 2)),
            "validAfter" => TestPayer.V2(payer.Sign(validAfter: now + 120)),
            "value" => TestPayer.V2(payer.Sign(value: 9999)),
            "unservedNetwork" => TestPayer.V2(payer.Sign(chainId: 8453, asset: KnownAssets.UsdcBase.Address.ToString(), domainName: "USD Coin"),
                TestPayer.Requirements(network: "eip155:8453", name: "USD Coin", asset: KnownAssets.UsdcBase.Address.ToString())),
            "tokenDomain" => TestPayer.V2(payer.Sign(domainName: "USD Coin"), TestPayer.Requirements(name: "USD Coin")),
            _ => throw new ArgumentOutOfRangeException(nameof(broken)),
        };

        var verify = await _facilitator.VerifyAsync(request, Ct);
        Assert.False(verify.IsValid);
        Assert.Equal(reason, verify.InvalidReason);
        Assert.False(string.IsNullOrEmpty(verify.InvalidMessage));

        using var settleHttp = await _http.PostAsJsonAsync("/facilitator/settle", TestPayer.ToSettle(request), X402JsonContext.Strict.SettleRequest, Ct);
        Assert.Equal(HttpStatusCode.OK, settleHttp.StatusCode);   // a refusal is 200 + success:false
        var settle = (await settleHttp.Content.ReadFromJsonAsync(X402JsonContext.Strict.SettleResponse, Ct))!;
        Assert.False(settle.Success);
        Assert.Equal(reason, settle.ErrorReason);
        Assert.Equal("", settle.Transaction);

        Assert.Equal("50000", await BalanceAsync(payer.Lower));
        Assert.Equal((0, 1), await RowsAsync(payer.Lower));   // no used nonce, only the faucet transfer
    }

    [Fact]
    public async Task Insufficient_funds_are_refused_by_verify_and_settle()
    {
        var payer = new TestPayer();
        await FundAsync(payer.Lower, "9999");
        var request = TestPayer.V2(payer.Sign(value: 10000));

        var verify = await _facilitator.VerifyAsync(request, Ct);
        var settle = await _facilitator.SettleAsync(TestPayer.ToSettle(request), Ct);

        Assert.Equal(ReasonCodes.InsufficientBalance, verify.InvalidReason);
        Assert.False(settle.Success);
        Assert.Equal(ReasonCodes.InsufficientBalance, settle.ErrorReason);
        Assert.Equal("9999", await BalanceAsync(payer.Lower));
        Assert.Equal((0, 1), await RowsAsync(payer.Lower));

        // An account the faucet never saw has nothing at all.
        var stranger = new TestPayer();
        Assert.Equal(ReasonCodes.InsufficientBalance, (await _facilitator.VerifyAsync(TestPayer.V2(stranger.Sign()), Ct)).InvalidReason);
    }

    [Fact]
    public async Task A_used_nonce_is_refused_afterwards()
    {
        var payer = new TestPayer();
        await FundAsync(payer.Lower, "100000");
        var request = TestPayer.V2(payer.Sign());
        Assert.True((await _facilitator.SettleAsync(TestPayer.ToSettle(request), Ct)).Success);

        var again = await _facilitator.SettleAsync(TestPayer.ToSettle(request), Ct);
        var verify = await _facilitator.VerifyAsync(request, Ct);

        Assert.False(again.Success);
        Assert.Equal(ReasonCodes.NonceAlreadyUsed, again.ErrorReason);
        Assert.Equal(ReasonCodes.NonceAlreadyUsed, verify.InvalidReason);
        Assert.Equal("90000", await BalanceAsync(payer.Lower));
        Assert.Equal((1, 2), await RowsAsync(payer.Lower));
    }

    [Fact]
    public async Task Twenty_concurrent_settles_of_one_payment_settle_it_exactly_once()
    {
        var payer = new TestPayer();
        await FundAsync(payer.Lower, "100000");
        var settle = TestPayer.ToSettle(TestPayer.V2(payer.Sign(value: 10000)));

        var results = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => Task.Run(() => _facilitator.SettleAsync(settle, Ct), Ct)));

        Assert.Single(results, r => r.Success);
        Assert.All(results.Where(r => !r.Success), r => Assert.Equal(ReasonCodes.NonceAlreadyUsed, r.ErrorReason));
        Assert.Equal("90000", await BalanceAsync(payer.Lower));
        Assert.Equal((1, 2), await RowsAsync(payer.Lower));
    }

    [Fact]
    public async Task Payments_in_both_directions_at_once_all_settle()
    {
        // A pays B while B pays A: each settlement locks only its payer's row (and folds its credits), so no deadlock aborts either.
        var a = new TestPayer();
        var b = new TestPayer();
        await FundAsync(a.Lower, "100000");
        await FundAsync(b.Lower, "100000");
        var requests = Enumerable.Range(0, 10).SelectMany(_ => new[]
        {
            TestPayer.ToSettle(TestPayer.V2(a.Sign(to: b.Address.ToString()), TestPayer.Requirements(payTo: b.Address.ToString()))),
            TestPayer.ToSettle(TestPayer.V2(b.Sign(to: a.Address.ToString()), TestPayer.Requirements(payTo: a.Address.ToString()))),
        });

        var results = await Task.WhenAll(requests.Select(r => Task.Run(() => _facilitator.SettleAsync(r, Ct), Ct)));

        Assert.All(results, r => Assert.True(r.Success, r.ErrorMessage));
        Assert.Equal("100000", await BalanceAsync(a.Lower));
        Assert.Equal("100000", await BalanceAsync(b.Lower));
    }

    [Fact]
    public async Task Many_payers_settling_with_one_merchant_at_once_all_settle_and_add_up()
    {
        // Every settlement credits the merchant (a journal row since migration 0008, folded later): none may be lost.
        var merchant = new TestPayer();
        var payers = Enumerable.Range(0, 8).Select(_ => new TestPayer()).ToArray();
        foreach (var payer in payers)
            await FundAsync(payer.Lower, "100000");
        var requests = payers.SelectMany(p => Enumerable.Range(0, 4).Select(_ =>
            TestPayer.ToSettle(TestPayer.V2(p.Sign(to: merchant.Address.ToString()), TestPayer.Requirements(payTo: merchant.Address.ToString())))));

        var results = await Task.WhenAll(requests.Select(r => Task.Run(() => _facilitator.SettleAsync(r, Ct), Ct)));

        Assert.All(results, r => Assert.True(r.Success, r.ErrorMessage));
        Assert.Equal(32, results.Select(r => r.Transaction).Distinct().Count());
        Assert.Equal("320000", await BalanceAsync(merchant.Lower));
        foreach (var payer in payers)
            Assert.Equal("60000", await BalanceAsync(payer.Lower));
    }

    [Fact]
    public async Task A_settlement_refused_for_the_balance_leaves_the_nonce_unused()
    {
        var payer = new TestPayer();
        await FundAsync(payer.Lower, "9999");
        var settle = TestPayer.ToSettle(TestPayer.V2(payer.Sign(value: 10000)));
        Assert.Equal(ReasonCodes.InsufficientBalance, (await _facilitator.SettleAsync(settle, Ct)).ErrorReason);

        await FundAsync(payer.Lower, "1");
        var retried = await _facilitator.SettleAsync(settle, Ct);

        Assert.True(retried.Success, retried.ErrorMessage);
        Assert.Equal("0", await BalanceAsync(payer.Lower));
        Assert.Equal((1, 3), await RowsAsync(payer.Lower));
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("""{"paymentPayload":{},"paymentRequirements":{}}""")]
    [InlineData("""{"x402Version":2,"x402Version":2,"paymentPayload":{},"paymentRequirements":{}}""")]
    public async Task A_body_that_is_no_facilitator_request_is_a_400_problem(string body)
    {
        using var response = await _http.PostAsync("/facilitator/verify", new StringContent(body, System.Text.Encoding.UTF8, "application/json"), Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task An_unknown_x402_version_is_invalid()
    {
        var request = TestPayer.V2(new TestPayer().Sign()) with { X402Version = 3 };
        var verify = await _facilitator.VerifyAsync(request, Ct);
        Assert.Equal(ReasonCodes.InvalidX402Version, verify.InvalidReason);
    }

    protected async Task FundAsync(string address, string amount)
    {
        using var response = await _http.PostAsJsonAsync("/dev/faucet", new { address, amount }, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    protected async Task<string> BalanceAsync(string address) => (await AccountAsync(address)).GetProperty("balance").GetString()!;

    async Task<JsonElement> AccountAsync(string address)
    {
        using var response = await _http.GetAsync($"/dev/accounts/{address}", Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
    }

    async Task<(long Authorizations, long Transfers)> RowsAsync(string address)
    {
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync(Ct);
        await using var command = new NpgsqlCommand("""
            SELECT (SELECT count(*) FROM token_authorizations WHERE from_address = $1),
                   (SELECT count(*) FROM token_transfers WHERE from_address = $1 OR to_address = $1)
            """, connection);
        command.Parameters.Add(new() { Value = address });
        await using var reader = await command.ExecuteReaderAsync(Ct);
        await reader.ReadAsync(Ct);
        return (reader.GetInt64(0), reader.GetInt64(1));
    }
}
