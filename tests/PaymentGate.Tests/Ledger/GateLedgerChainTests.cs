using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using PaymentGate.Tests.Facilitator;
using PaymentGate.Tests.Sessions;
using Sessions.PaymentGate.Ledger;
using Sessions.Payments.Ledger;
using Sessions.Payments.Receipts;
using Sessions.ServiceDefaults.Ledger;
using Sessions.Testing;
using static PaymentGate.Tests.Sessions.SessionGateHarness;

namespace PaymentGate.Tests.Ledger;

// The gate's chain (gatedb) and the checkpoints of both chains, signed with the gate's key and published
// (docs/ledger-chain.md). SessionApi runs in-process: the gate fetches its head over the typed client.
public sealed class GateLedgerChainTests(InfrastructureFixture infrastructure) : IAsyncLifetime
{
    const string GateAdminKey = "gate-ledger-admin-key";
    SessionGateHarness _gate = null!;

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _gate = await StartAsync(infrastructure, new()
    {
        ["Gate:AdminKey"] = GateAdminKey,
        ["Gate:Ledger:CheckpointInterval"] = "01:00:00",   // the tests sign when they say so
        ["Gate:Receipts:SigningKeys:0"] = "gate-ledger-tests-signing-secret",
    });

    public ValueTask DisposeAsync() => _gate.DisposeAsync();

    LedgerChainer GateChainer => _gate.GateServices.GetRequiredService<LedgerChainer>();
    LedgerChainer SessionsChainer => _gate.SessionApiServices.GetRequiredService<LedgerChainer>();
    LedgerCheckpointer Checkpointer => _gate.GateServices.GetRequiredService<LedgerCheckpointer>();

    async Task<JsonElement> GateAdminAsync(string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("X-Admin-Key", GateAdminKey);
        using var response = await _gate.Http.SendAsync(request, Ct);
        return await JsonAsync(response, HttpStatusCode.OK);
    }

    async Task<List<LedgerExportLine>> ExportAsync(HttpClient client, string adminKey)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/admin/ledger/export");
        request.Headers.Add("X-Admin-Key", adminKey);
        using var response = await client.SendAsync(request, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return [.. (await response.Content.ReadAsStringAsync(Ct)).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => JsonSerializer.Deserialize<LedgerExportLine>(line, JsonSerializerOptions.Web)!)];
    }

    async Task<(PublishedCheckpoints Checkpoints, JwkSet Keys)> PublishedAsync(string ledger) =>
        ((await _gate.Http.GetFromJsonAsync<PublishedCheckpoints>($"/.well-known/ledger-checkpoints?ledger={ledger}", JsonSerializerOptions.Web, Ct))!,
         JwkSet.TryParse(await _gate.Http.GetStringAsync("/.well-known/jwks.json", Ct))!);

    /// <summary>A faucet, a session opened (settled payment and transfer), closed (refund transfer), all chained and signed.</summary>
    async Task MovementsAsync()
    {
        var payer = await _gate.FundedPayerAsync();
        // A mint on the simulated Solana chain too (svm_transactions).
        await SvmGatePayments.FundAsync(_gate.Http, global::Sessions.Payments.Tests.Svm.SvmTestTransactions.Payer.Address, "1000");
        var (id, token, _) = await _gate.OpenAsync(payer, 5000);
        using (var closed = await _gate.WithTokenAsync(HttpMethod.Post, $"/api/sessions/{id}/close", token))
            Assert.Equal(HttpStatusCode.OK, closed.StatusCode);
        await GateChainer.ChainAllAsync();
        await SessionsChainer.ChainAllAsync();
        await Checkpointer.CheckpointBothAsync(Ct);
    }

    [Fact]
    public async Task Settlements_faucet_and_refunds_are_chained_and_verify_with_their_signed_checkpoint()
    {
        await MovementsAsync();
        // A payment paid back (the gate marks it refunded when a top-up it settled cannot be delivered).
        await ExecuteAsync("UPDATE payments SET status = 'refunded' WHERE id = (SELECT min(id) FROM payments WHERE settled_at IS NOT NULL)");
        await GateChainer.ChainAllAsync();
        await Checkpointer.CheckpointBothAsync(Ct);

        var kinds = (await ExportAsync(_gate.Http, GateAdminKey)).Select(l => (l.Source, l.Kind)).Distinct().Order().ToList();
        var report = await GateAdminAsync("/admin/ledger/verify");

        Assert.Equal([("payment_refund", "refunded"), ("payment_settlement", "settlement"), ("svm_transactions", "faucet"),
            ("token_transfers", "faucet"), ("token_transfers", "refund"), ("token_transfers", "transfer")], kinds);
        Assert.True(report.GetProperty("valid").GetBoolean(), report.ToString());
        Assert.Equal(2, report.GetProperty("checkpointsVerified").GetInt32());
        // The content the chainer builds is Postgres's jsonb text of the same values (entries chained before it keep verifying).
        Assert.Equal(report.GetProperty("entries").GetInt64(), await LedgerChainContentChecks.AssertContentIsPostgresJsonbTextAsync(
            _gate.GateDatabase, global::Sessions.PaymentGate.Ledger.GateLedgerChain.Options));
    }

    [Fact]
    public async Task Checkpoints_of_both_chains_verify_with_the_published_key_and_not_with_another()
    {
        await MovementsAsync();

        foreach (var ledger in new[] { "gate", "sessions" })
        {
            var (published, keys) = await PublishedAsync(ledger);
            var checkpoint = Assert.Single(published.Checkpoints);
            var head = ledger == "gate" ? await GateChainer.HeadAsync(Ct) : await SessionsChainer.HeadAsync(Ct);
            Assert.Equal((head.Position, head.Head), (checkpoint.Position, checkpoint.Head));

            var (verified, unverified) = LedgerCheckpoints.Verify(published.Checkpoints, ledger, keys);
            Assert.Equal((1, 0), (verified.Count, unverified.Count));
            Assert.Equal(head.Head, verified[0].Head);
            // Another key: unknown kid; another key published under the gate's kid: bad signature.
            var other = Ed25519Key.FromSecret("someone else");
            var forged = new JwkSet { Keys = [other.Jwk with { Kid = keys.Keys[0].Kid }] };
            Assert.Contains("UnknownKey", Assert.Single(LedgerCheckpoints.Verify(published.Checkpoints, ledger, new JwkSet { Keys = [other.Jwk] }).Unverified).Detail);
            Assert.Contains("BadSignature", Assert.Single(LedgerCheckpoints.Verify(published.Checkpoints, ledger, forged).Unverified).Detail);
        }

        // Offline, as `sessions audit verify` does: SessionApi's export walked against the gate's published checkpoints.
        var (sessionsCheckpoints, gateKeys) = await PublishedAsync("sessions");
        var walker = new LedgerChainWalker(LedgerCheckpoints.Verify(sessionsCheckpoints.Checkpoints, "sessions", gateKeys).Verified);
        foreach (var line in await ExportAsync(_gate.SessionApiHttp, AdminKey)) walker.Add(line.ToRecord());
        var offline = walker.Finish(DateTimeOffset.UtcNow);
        Assert.True(offline.Valid, offline.FirstProblem?.Detail);
        Assert.Equal(1, offline.CheckpointsVerified);

        // A checkpoint signed by another key slipped into the gate's table fails verification.
        var fake = new LedgerCheckpoint("gate", 0, new string('a', 64), DateTimeOffset.UtcNow);
        await ExecuteAsync($"""
            INSERT INTO ledger_checkpoints (ledger, position, head, at, jws)
            VALUES ('gate', 0, '{fake.Head}', now(), '{Jws.Sign(Ed25519Key.FromSecret("someone else"), LedgerCheckpoints.JwsType, LedgerCheckpoints.Payload(fake))}')
            """);
        var report = await GateAdminAsync("/admin/ledger/verify");
        Assert.False(report.GetProperty("valid").GetBoolean());
        Assert.Equal("checkpoint-signature", report.GetProperty("firstProblem").GetProperty("problem").GetString());
    }

    [Fact]
    public async Task A_row_change_hidden_by_rewriting_the_whole_chain_fails_the_signed_checkpoint()
    {
        await MovementsAsync();
        var signedAt = (await GateChainer.HeadAsync(Ct)).Position;
        // The attacker changes a transfer and recomputes every entry's hash from the changed content onward.
        await ExecuteAsync("UPDATE token_transfers SET value = value + 1 WHERE kind = 'transfer'");
        var prev = LedgerChainEntry.Genesis;
        foreach (var line in await ExportAsync(_gate.Http, GateAdminKey))
        {
            var entry = LedgerChainEntry.Create(line.Position, prev, line.Source, line.Kind, line.RowId, line.RowXid, line.Current!, line.ChainedAt);
            await ExecuteAsync($"""
                UPDATE ledger_chain SET content = '{entry.Content.Replace("'", "''")}', row_hash = '{entry.RowHash}',
                    prev_hash = '{entry.PrevHash}', entry_hash = '{entry.EntryHash}' WHERE position = {entry.Position}
                """);
            prev = entry.EntryHash;
        }

        var report = await GateAdminAsync("/admin/ledger/verify");

        Assert.False(report.GetProperty("valid").GetBoolean());
        var problem = report.GetProperty("firstProblem");
        Assert.Equal((signedAt, "checkpoint-mismatch"), (problem.GetProperty("position").GetInt64(), problem.GetProperty("problem").GetString()));
    }

    [Fact]
    public async Task The_gate_admin_endpoints_need_the_gate_admin_key()
    {
        using var verify = await _gate.Http.GetAsync("/admin/ledger/verify", Ct);
        using var wrong = new HttpRequestMessage(HttpMethod.Get, "/admin/ledger/export");
        wrong.Headers.Add("X-Admin-Key", AdminKey);   // SessionApi's key is not the gate's
        using var export = await _gate.Http.SendAsync(wrong, Ct);

        Assert.Equal((HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized), (verify.StatusCode, export.StatusCode));
    }

    async Task ExecuteAsync(string sql)
    {
        await using var connection = new Npgsql.NpgsqlConnection(_gate.GateDatabase);
        await connection.OpenAsync(Ct);
        await using var command = new Npgsql.NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(Ct);
    }
}
