using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Sessions.PaymentGate.Facilitator;
using Sessions.PaymentGate.Facilitator.Local.Svm;
using Sessions.Payments.Receipts;
using Sessions.Payments.Svm;
using Sessions.Payments.X402;
using Sessions.Payments.Tests.Svm;
using Sessions.Testing;
using static Sessions.Payments.Tests.Svm.SvmTestTransactions;

namespace PaymentGate.Tests.Facilitator;

// The local facilitator on solana:* (issue 21): the spec's checks, then the simulated chain in a real gatedb.
public sealed class LocalSvmFacilitatorTests(InfrastructureFixture infrastructure) : IAsyncLifetime
{
    static readonly SolanaAddress LocalFeePayer = SimulatedSolanaChain.FeePayer.Address;
    static readonly string PayerAccount = SolanaAddress.AssociatedTokenAccount(Payer.Address, UsdcDevnet, SolanaPrograms.Token).ToString();
    static readonly string MerchantAccount = SolanaAddress.AssociatedTokenAccount(PayTo.Address, UsdcDevnet, SolanaPrograms.Token).ToString();

    string _connectionString = "";
    GateFactory _factory = null!;
    HttpClient _http = null!;
    IFacilitatorClient _facilitator = null!;

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _connectionString = await infrastructure.CreateDatabaseAsync("gatedb");
        _factory = new GateFactory(new Dictionary<string, string?> { ["ConnectionStrings:gatedb"] = _connectionString });
        _http = _factory.CreateClient();
        _facilitator = _factory.Services.GetRequiredService<IFacilitatorClient>();
    }

    public ValueTask DisposeAsync() => _factory.DisposeAsync();

    byte[] RecentBlockhash() => SvmGatePayments.RecentBlockhash(_factory.Services);

    static VerifyRequest Request(string transaction, PaymentRequirements? requirements = null)
    {
        requirements ??= Requirements(feePayer: LocalFeePayer);
        return X402Json.VerifyRequestFor(Payload(transaction, requirements), requirements);
    }

    static SettleRequest ToSettle(VerifyRequest request) => new()
    {
        X402Version = request.X402Version, PaymentPayload = request.PaymentPayload, PaymentRequirements = request.PaymentRequirements,
    };

    string Payment(string memo = "00112233445566778899aabbccddeeff", byte[]? blockhash = null, List<TestInstruction>? instructions = null) =>
        Build(instructions ?? StandardInstructions(memo), feePayer: LocalFeePayer, blockhash: blockhash ?? RecentBlockhash());

    Task FundAsync(SolanaAddress owner, string amount) => SvmGatePayments.FundAsync(_http, owner, amount);

    async Task<JsonElement> AccountAsync(SolanaAddress owner)
    {
        using var response = await _http.GetAsync($"/dev/accounts/{owner}?network={Devnet}", Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
    }

    async Task<string> BalanceAsync(SolanaAddress owner) => (await AccountAsync(owner)).GetProperty("balance").GetString()!;

    async Task<long> TransferRowsAsync()
    {
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync(Ct);
        await using var command = new NpgsqlCommand("SELECT count(*) FROM svm_transactions WHERE kind = 'transfer'", connection);
        return (long)(await command.ExecuteScalarAsync(Ct))!;
    }

    async Task<JsonElement> RpcAsync(string method, params object[] parameters)
    {
        using var response = await _http.PostAsJsonAsync(SolanaRpcApi.Path, new { jsonrpc = "2.0", id = 7, method, @params = parameters }, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal(7, body.GetProperty("id").GetInt32());
        return body;
    }

    [Fact]
    public async Task Supported_lists_exact_on_solana_devnet_with_the_fee_payer()
    {
        var supported = await _facilitator.GetSupportedAsync(Ct);

        var kind = Assert.Single(supported.Kinds, k => k.Network == SvmNetworks.Devnet);
        Assert.Equal((2, "exact"), (kind.X402Version, kind.Scheme));
        Assert.Equal(LocalFeePayer.ToString(), kind.Extra!.Value.GetProperty("feePayer").GetString());
        Assert.Equal([LocalFeePayer.ToString()], supported.Signers["solana:*"]);
        Assert.Contains(supported.Kinds, k => k.Network == "eip155:84532");   // side by side with EVM
    }

    [Fact]
    public async Task Verify_and_settle_move_the_tokens_once_and_a_replay_is_refused()
    {
        await FundAsync(Payer.Address, "25000");
        var request = Request(Payment());

        var verify = await _facilitator.VerifyAsync(request, Ct);
        Assert.True(verify.IsValid, verify.InvalidMessage);
        Assert.Equal(Payer.Address.ToString(), verify.Payer);
        Assert.Equal("25000", await BalanceAsync(Payer.Address));   // verify moves nothing

        var settle = await _facilitator.SettleAsync(ToSettle(request), Ct);
        Assert.True(settle.Success, settle.ErrorMessage);
        var signature = SimpleBase.Base58.Bitcoin.Decode(settle.Transaction);
        Assert.Equal(64, signature.Length);
        Assert.Equal((Devnet, Payer.Address.ToString(), "10000"), (settle.Network, settle.Payer, settle.Amount));
        Assert.Equal("15000", await BalanceAsync(Payer.Address));
        Assert.Equal("10000", await BalanceAsync(PayTo.Address));
        // The transaction id is the fee payer's real ed25519 co-signature over the payer's message.
        Assert.True(SolanaTransaction.TryDecodeBase64(request.PaymentPayload.GetProperty("payload").GetProperty("transaction").GetString(), out var sent, out _));
        Assert.True(Ed25519Key.Verify(LocalFeePayer.Bytes, sent!.MessageBytes, signature));

        var account = await AccountAsync(Payer.Address);
        Assert.Equal(PayerAccount, account.GetProperty("tokenAccount").GetString());
        var newest = account.GetProperty("transactions")[0];
        Assert.Equal((settle.Transaction, "transfer", MerchantAccount), (newest.GetProperty("signature").GetString(), newest.GetProperty("kind").GetString(), newest.GetProperty("destination").GetString()));

        var replayedSettle = await _facilitator.SettleAsync(ToSettle(request), Ct);
        Assert.Equal(SvmReasonCodes.DuplicateSettlement, replayedSettle.ErrorReason);
        var replayedVerify = await _facilitator.VerifyAsync(request, Ct);
        Assert.Equal(SvmReasonCodes.TransactionSimulationFailed, replayedVerify.InvalidReason);
        Assert.Equal("15000", await BalanceAsync(Payer.Address));
        Assert.Equal(1, await TransferRowsAsync());
    }

    [Fact]
    public async Task Twenty_concurrent_settles_of_one_payment_settle_it_exactly_once()
    {
        await FundAsync(Payer.Address, "100000");
        var settle = ToSettle(Request(Payment()));

        var results = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => Task.Run(() => _facilitator.SettleAsync(settle, Ct), Ct)));

        Assert.Single(results, r => r.Success);
        Assert.All(results.Where(r => !r.Success), r => Assert.Equal(SvmReasonCodes.DuplicateSettlement, r.ErrorReason));
        Assert.Equal("90000", await BalanceAsync(Payer.Address));
        Assert.Equal("10000", await BalanceAsync(PayTo.Address));
        Assert.Equal(1, await TransferRowsAsync());
    }

    [Fact]
    public async Task Two_payments_differing_only_in_their_memo_nonce_both_settle()
    {
        await FundAsync(Payer.Address, "20000");
        var first = await _facilitator.SettleAsync(ToSettle(Request(Payment(memo: "aa"))), Ct);
        var second = await _facilitator.SettleAsync(ToSettle(Request(Payment(memo: "bb"))), Ct);

        Assert.True(first.Success && second.Success, first.ErrorMessage ?? second.ErrorMessage);
        Assert.NotEqual(first.Transaction, second.Transaction);
        Assert.Equal("0", await BalanceAsync(Payer.Address));
    }

    [Fact]
    public async Task What_the_chain_would_refuse_is_a_failed_simulation_and_nothing_moves()
    {
        // No token account yet.
        Assert.Equal(SvmReasonCodes.TransactionSimulationFailed, (await _facilitator.VerifyAsync(Request(Payment()), Ct)).InvalidReason);
        await FundAsync(Payer.Address, "9999");
        var tooMuch = Request(Payment());
        Assert.Equal(SvmReasonCodes.TransactionSimulationFailed, (await _facilitator.VerifyAsync(tooMuch, Ct)).InvalidReason);
        Assert.Equal(SvmReasonCodes.TransactionSimulationFailed, (await _facilitator.SettleAsync(ToSettle(tooMuch), Ct)).ErrorReason);
        // A blockhash the chain never issued (or issued more than 150 slots ago).
        await FundAsync(Payer.Address, "1");
        var stale = await _facilitator.SettleAsync(ToSettle(Request(Payment(blockhash: Blockhash))), Ct);
        Assert.Equal(SvmReasonCodes.TransactionSimulationFailed, stale.ErrorReason);
        Assert.Contains("Blockhash not found", stale.ErrorMessage);
        // TransferChecked with decimals the mint does not have.
        var wrongDecimals = Payment(instructions: [ComputeLimit(20_000), ComputePrice(1), TransferChecked(decimals: 9), Memo("m")]);
        Assert.Equal(SvmReasonCodes.TransactionSimulationFailed, (await _facilitator.SettleAsync(ToSettle(Request(wrongDecimals)), Ct)).ErrorReason);

        Assert.Equal("10000", await BalanceAsync(Payer.Address));
        Assert.Equal(0, await TransferRowsAsync());
        // The refused payment was not spent: once funded, it settles.
        Assert.True((await _facilitator.SettleAsync(ToSettle(tooMuch), Ct)).Success);
    }

    [Fact]
    public async Task The_verifier_refusals_pass_through_with_their_reason()
    {
        await FundAsync(Payer.Address, "100000");
        var strangers = Requirements(feePayer: PayTo.Address);
        Assert.Equal(SvmReasonCodes.FeePayerNotManaged, (await _facilitator.VerifyAsync(Request(Payment(), strangers), Ct)).InvalidReason);
        var signedByAnother = Build(StandardInstructions(), signers: [PayTo], feePayer: LocalFeePayer, blockhash: RecentBlockhash());
        Assert.Equal(SvmReasonCodes.SignatureInvalid, (await _facilitator.SettleAsync(ToSettle(Request(signedByAnother)), Ct)).ErrorReason);
        var extra = Payment(instructions: [.. StandardInstructions(), new TestInstruction(SolanaPrograms.System, [new(Payer.Address, true, true)], [2, 0, 0, 0])]);
        Assert.Equal(SvmReasonCodes.UnknownFifthInstruction, (await _facilitator.SettleAsync(ToSettle(Request(extra)), Ct)).ErrorReason);
        Assert.Equal("100000", await BalanceAsync(Payer.Address));
    }

    [Fact]
    public async Task The_json_rpc_subset_answers_what_the_official_client_asks()
    {
        var latest = (await RpcAsync("getLatestBlockhash")).GetProperty("result").GetProperty("value");
        var blockhash = SimpleBase.Base58.Bitcoin.Decode(latest.GetProperty("blockhash").GetString());
        Assert.Equal(32, blockhash.Length);
        Assert.True(_factory.Services.GetRequiredService<SimulatedSolanaChain>().IsRecent(Devnet, blockhash));
        Assert.True(latest.GetProperty("lastValidBlockHeight").GetInt64() > 0);

        var mint = (await RpcAsync("getAccountInfo", UsdcDevnet.ToString(), new { encoding = "base64" })).GetProperty("result").GetProperty("value");
        Assert.Equal(SolanaPrograms.Token.ToString(), mint.GetProperty("owner").GetString());
        var mintData = Convert.FromBase64String(mint.GetProperty("data")[0].GetString()!);
        Assert.Equal((82, (byte)6, (byte)1), (mintData.Length, mintData[44], mintData[45]));

        await FundAsync(Payer.Address, "4242");
        var token = (await RpcAsync("getAccountInfo", PayerAccount, new { encoding = "base64" })).GetProperty("result").GetProperty("value");
        var tokenData = Convert.FromBase64String(token.GetProperty("data")[0].GetString()!);
        Assert.Equal(165, tokenData.Length);
        Assert.Equal(4242UL, BitConverter.ToUInt64(tokenData, 64));
        Assert.Equal(Payer.Address, SolanaAddress.FromBytes(tokenData.AsSpan(32, 32)));
        Assert.Equal("4242", (await RpcAsync("getTokenAccountBalance", PayerAccount)).GetProperty("result").GetProperty("value").GetProperty("amount").GetString());

        Assert.Equal(JsonValueKind.Null, (await RpcAsync("getAccountInfo", MerchantAccount)).GetProperty("result").GetProperty("value").ValueKind);
        Assert.Equal(-32601, (await RpcAsync("sendTransaction", "AA==")).GetProperty("error").GetProperty("code").GetInt32());
    }

    [Fact]
    public async Task The_faucet_refuses_a_network_it_does_not_simulate_and_a_non_solana_address()
    {
        using var mainnet = await _http.PostAsJsonAsync("/dev/faucet", new { address = Payer.Address.ToString(), amount = "1", network = SvmNetworks.Mainnet }, Ct);
        Assert.Equal(HttpStatusCode.BadRequest, mainnet.StatusCode);
        using var evmAddress = await _http.PostAsJsonAsync("/dev/faucet", new { address = "0x000000000000000000000000000000000000dEaD", amount = "1", network = Devnet }, Ct);
        Assert.Equal(HttpStatusCode.BadRequest, evmAddress.StatusCode);
    }
}
