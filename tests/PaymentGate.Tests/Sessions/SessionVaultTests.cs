using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Sessions.PaymentGate.Sessions;
using Sessions.ServiceDefaults.PayerContext;
using Sessions.Testing;
using static PaymentGate.Tests.Sessions.SessionGateHarness;

namespace PaymentGate.Tests.Sessions;

// One vault per session, gate side (VaultApi README): the gate ensures the vault before the token reaches the agent, names
// it in the payer context of session-paid requests, and seals it on close.
public sealed class SessionVaultTests(InfrastructureFixture infrastructure) : IAsyncLifetime
{
    SessionGateHarness _gate = null!;

    public async ValueTask InitializeAsync() => _gate = await SessionGateHarness.StartAsync(infrastructure);

    public ValueTask DisposeAsync() => _gate.DisposeAsync();

    [Fact]
    public async Task Opening_creates_exactly_one_vault_named_in_the_answer_and_in_forwarded_contexts()
    {
        var payer = await _gate.FundedPayerAsync();
        var (id, token, body) = await _gate.OpenAsync(payer, 10 * GetPrice);

        var vaultId = body.GetProperty("vaultId").GetString();
        Assert.StartsWith("vlt_", vaultId);
        Assert.Equal((1L, "active"), await _gate.VaultsOfAsync(id));

        using var response = await _gate.WithTokenAsync(HttpMethod.Get, "/api/content/a", token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var signer = _gate.GateServices.GetRequiredService<PayerContextSigner>();
        Assert.True(signer.TryVerify(_gate.Upstream.Calls.Single().PayerContext!, out var context, out _));
        Assert.Equal((id, vaultId), (context!.SessionId, context.VaultId));
    }

    [Fact]
    public async Task VaultApi_down_at_open_answers_503_and_the_same_payment_header_completes_it_later()
    {
        var payer = await _gate.FundedPayerAsync();
        var body = new { deposit = "20000" };
        var payment = await _gate.PayAsync(payer, "/api/sessions", body, "20000");

        _gate.VaultApiLink.Down = true;
        string paymentId;
        using (var down = await _gate.PostJsonAsync("/api/sessions", body, payment))
        {
            var problem = await JsonAsync(down, HttpStatusCode.ServiceUnavailable);
            paymentId = problem.GetProperty("paymentId").GetString()!;
            Assert.Null(Header(down, SessionSpending.TokenHeader));
        }
        Assert.Equal("settled", await _gate.PaymentStatusAsync(paymentId));

        _gate.VaultApiLink.Down = false;
        string id;
        using (var retried = await _gate.PostJsonAsync("/api/sessions", body, payment))
        {
            var session = await JsonAsync(retried, HttpStatusCode.Created);
            id = session.GetProperty("id").GetString()!;
            Assert.StartsWith("vlt_", session.GetProperty("vaultId").GetString());
            Assert.NotNull(Header(retried, SessionSpending.TokenHeader));
        }
        Assert.Equal("served", await _gate.PaymentStatusAsync(paymentId));
        Assert.Equal(980_000, await _gate.BalanceAsync(payer.Lower));
        Assert.Equal((1L, "active"), await _gate.VaultsOfAsync(id));
        // One session for this payer in SessionApi: the retry got the first one back.
        Assert.Equal(1, await SessionsOfAsync(payer.Lower));
        Assert.Equal(1, await _gate.LedgerCountAsync(id, "deposit"));
    }

    async Task<long> SessionsOfAsync(string payer)
    {
        await using var connection = new NpgsqlConnection(_gate.SessionsDatabase);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = new NpgsqlCommand("SELECT count(*) FROM sessions WHERE payer = $1", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = payer });
        return (long)(await command.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;
    }

    [Fact]
    public async Task Close_seals_the_vault()
    {
        var payer = await _gate.FundedPayerAsync();
        var (id, token, _) = await _gate.OpenAsync(payer, 10 * GetPrice);

        using var closed = await _gate.WithTokenAsync(HttpMethod.Post, $"/api/sessions/{id}/close", token);
        Assert.Equal(HttpStatusCode.OK, closed.StatusCode);
        Assert.Equal((1L, "sealed"), await _gate.VaultsOfAsync(id));
    }
}
