extern alias sessionapi;
extern alias vaultapi;

using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Sessions.PaymentGate.Sessions;
using Sessions.ServiceDefaults.Payers;
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

    // VaultApi down while a session is opened and the agent never comes back: SessionApi's provisioner gives the session its
    // vault once VaultApi answers again, and the agent's late retry gets that same vault.
    [Fact]
    public async Task VaultApi_down_at_open_the_provisioner_creates_the_one_vault_once_it_is_back()
    {
        var payer = await _gate.FundedPayerAsync();
        var body = new { deposit = "20000" };
        var payment = await _gate.PayAsync(payer, "/api/sessions", body, "20000");

        _gate.VaultApiLink.Down = true;
        using (var down = await _gate.PostJsonAsync("/api/sessions", body, payment))
            await JsonAsync(down, HttpStatusCode.ServiceUnavailable);
        var sessionId = await OnlySessionOfAsync(payer.Lower);
        Assert.Equal(0, await ProvisionAsync());   // still down: nothing confirmed, nothing created
        Assert.Equal((0L, null), await _gate.VaultsOfAsync(sessionId));
        Assert.Null(await ConfirmedVaultAsync(sessionId));

        _gate.VaultApiLink.Down = false;
        Assert.Equal(1, await ProvisionAsync());
        Assert.Equal((1L, "active"), await _gate.VaultsOfAsync(sessionId));
        var vaultId = await ConfirmedVaultAsync(sessionId);
        Assert.Equal(vaultId, await VaultIdInVaultsDbAsync(sessionId));
        Assert.Equal(0, await ProvisionAsync());   // confirmed sessions are not visited again

        using var retried = await _gate.PostJsonAsync("/api/sessions", body, payment);
        Assert.Equal(vaultId, (await JsonAsync(retried, HttpStatusCode.Created)).GetProperty("vaultId").GetString());
        Assert.Equal((1L, "active"), await _gate.VaultsOfAsync(sessionId));
    }

    // VaultApi created the vault but died before answering, three times over: still one vault; then the gate's retry and the
    // provisioner race on it and both end on that one vault.
    [Fact]
    public async Task VaultApi_dying_before_answering_never_makes_two_vaults()
    {
        var payer = await _gate.FundedPayerAsync();
        var body = new { deposit = "20000" };
        var payment = await _gate.PayAsync(payer, "/api/sessions", body, "20000");

        _gate.VaultApiLink.LoseResponses = true;
        using (var lost = await _gate.PostJsonAsync("/api/sessions", body, payment))
            await JsonAsync(lost, HttpStatusCode.ServiceUnavailable);
        var sessionId = await OnlySessionOfAsync(payer.Lower);
        Assert.Equal((1L, "active"), await _gate.VaultsOfAsync(sessionId));
        var vaultId = await VaultIdInVaultsDbAsync(sessionId);

        _gate.VaultApiLink.LoseResponses = false;
        var retry = _gate.PostJsonAsync("/api/sessions", body, payment);
        var provisioned = ProvisionAsync();
        using var retried = await retry;
        Assert.Equal(vaultId, (await JsonAsync(retried, HttpStatusCode.Created)).GetProperty("vaultId").GetString());
        await provisioned;
        await ProvisionAsync();
        Assert.Equal((1L, "active"), await _gate.VaultsOfAsync(sessionId));
        Assert.Equal(vaultId, await ConfirmedVaultAsync(sessionId));
        Assert.Equal(1, await _gate.LedgerCountAsync(sessionId, "deposit"));
    }

    // Review finding: a session VaultApi refuses (409 vault-conflict: its id is bound to another payer) is logged and skipped;
    // it must not hold back the sessions after it.
    [Fact]
    public async Task A_refused_session_does_not_hold_back_the_provisioning_of_the_others()
    {
        var first = await _gate.FundedPayerAsync();
        var second = await _gate.FundedPayerAsync();
        var body = new { deposit = "20000" };
        var firstPayment = await _gate.PayAsync(first, "/api/sessions", body, "20000");
        var secondPayment = await _gate.PayAsync(second, "/api/sessions", body, "20000");
        _gate.VaultApiLink.Down = true;
        using (var down = await _gate.PostJsonAsync("/api/sessions", body, firstPayment))
            await JsonAsync(down, HttpStatusCode.ServiceUnavailable);
        using (var down = await _gate.PostJsonAsync("/api/sessions", body, secondPayment))
            await JsonAsync(down, HttpStatusCode.ServiceUnavailable);
        var refused = await OnlySessionOfAsync(first.Lower);
        var provisioned = await OnlySessionOfAsync(second.Lower);
        await using (var connection = new NpgsqlConnection(_gate.VaultsDatabase))
        {
            await connection.OpenAsync(TestContext.Current.CancellationToken);
            await using var conflict = new NpgsqlCommand("""
                INSERT INTO vaults (id, session_id, organization, payer, created_at, expires_at, retention_until)
                VALUES ('vlt_' || md5(random()::text), $1, 'demo', '0x000000000000000000000000000000000000dead', now(), now() + interval '1 day', now() + interval '2 days')
                """, connection);
            conflict.Parameters.Add(new NpgsqlParameter { Value = refused });
            await conflict.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
        }
        _gate.VaultApiLink.Down = false;

        Assert.Equal(1, await ProvisionAsync());
        Assert.Null(await ConfirmedVaultAsync(refused));
        Assert.Equal(await VaultIdInVaultsDbAsync(provisioned), await ConfirmedVaultAsync(provisioned));
    }

    // Retention with webhooks: vault.expiring before the deletion, vault.expired before the row goes, each enqueued once in
    // SessionApi's outbox; SessionApi unreachable holds the deletion back instead of losing the event.
    [Fact]
    public async Task Retention_reports_vault_expiring_then_vault_expired_and_never_deletes_unreported()
    {
        var payer = await _gate.FundedPayerAsync();
        var (sessionId, _, opened) = await _gate.OpenAsync(payer, 10 * GetPrice, ttlSeconds: 60);
        var vaultId = opened.GetProperty("vaultId").GetString()!;

        _gate.Clock.Advance(TimeSpan.FromDays(29) + TimeSpan.FromMinutes(2));   // expired; deletion (30 days) is within the 1-day notice
        await SweepVaultsAsync();
        await SweepVaultsAsync();
        var expiring = Assert.Single(await VaultEventsAsync());
        Assert.Equal(("vault.expiring", vaultId, sessionId, "expired"), (expiring.Event, expiring.Data.GetProperty("vaultId").GetString(),
            expiring.Data.GetProperty("sessionId").GetString(), expiring.Data.GetProperty("state").GetString()));
        Assert.Equal((1L, "expired"), await _gate.VaultsOfAsync(sessionId));

        _gate.Clock.Advance(TimeSpan.FromDays(2));
        _gate.SessionApiLink.Down = true;
        await SweepVaultsAsync();
        Assert.Equal((1L, "expired"), await _gate.VaultsOfAsync(sessionId));   // not deleted while the event cannot be enqueued
        Assert.Single(await VaultEventsAsync());

        _gate.SessionApiLink.Down = false;
        await SweepVaultsAsync();
        await SweepVaultsAsync();
        Assert.Equal((0L, null), await _gate.VaultsOfAsync(sessionId));
        var events = await VaultEventsAsync();
        Assert.Equal(["vault.expiring", "vault.expired"], events.Select(e => e.Event));
        Assert.Equal(vaultId, events[1].Data.GetProperty("vaultId").GetString());
        Assert.Equal("demo", events[1].Organization);
    }

    Task<int> ProvisionAsync() =>
        _gate.SessionApiServices.GetRequiredService<sessionapi::Sessions.SessionApi.Vaults.VaultProvisioner>().ProvisionAsync(TestContext.Current.CancellationToken);

    Task SweepVaultsAsync() =>
        _gate.VaultApiServices.GetRequiredService<vaultapi::Sessions.VaultApi.Vaults.RetentionSweeper>().SweepAsync(TestContext.Current.CancellationToken);

    async Task<string> OnlySessionOfAsync(string payer) =>
        (string)(await ScalarAsync(_gate.SessionsDatabase, "SELECT id FROM sessions WHERE payer = $1", payer))!;

    async Task<string?> ConfirmedVaultAsync(string sessionId) =>
        await ScalarAsync(_gate.SessionsDatabase, "SELECT vault_id FROM sessions WHERE id = $1", sessionId) as string;

    async Task<string?> VaultIdInVaultsDbAsync(string sessionId) =>
        await ScalarAsync(_gate.VaultsDatabase, "SELECT id FROM vaults WHERE session_id = $1", sessionId) as string;

    static async Task<object?> ScalarAsync(string database, string sql, string argument)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.Add(new NpgsqlParameter { Value = argument });
        return await command.ExecuteScalarAsync(TestContext.Current.CancellationToken);
    }

    async Task<List<(string Event, string? Organization, JsonElement Data)>> VaultEventsAsync()
    {
        await using var connection = new NpgsqlConnection(_gate.SessionsDatabase);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = new NpgsqlCommand(
            "SELECT event, organization, payload::text FROM outbox WHERE event LIKE 'vault.%' ORDER BY created_at, event DESC", connection);
        var events = new List<(string, string?, JsonElement)>();
        await using var reader = await command.ExecuteReaderAsync(TestContext.Current.CancellationToken);
        while (await reader.ReadAsync(TestContext.Current.CancellationToken))
            events.Add((reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1), JsonDocument.Parse(reader.GetString(2)).RootElement.Clone()));
        return events;
    }
}
