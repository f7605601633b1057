using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using PaymentGate.Tests.Facilitator;
using Sessions.PaymentGate.Paywall;
using Sessions.Testing;

namespace PaymentGate.Tests.Paywall;

// Fail closed: facilitator, Redis or Postgres down → 503 and no upstream call; settlement refused → 402 without the body;
// settlement outcome unknown → pending, 503, reconciled, then served once on the same header without a new charge.
public sealed class FailureModeTests(InfrastructureFixture infrastructure)
{
    const string Path = "/api/content/doc";
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    static async Task AssertUnavailableAsync(HttpResponseMessage response, string title)
    {
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
        Assert.Equal(title, problem.RootElement.GetProperty("title").GetString());
    }

    async Task<(PaywallHarness Gate, FakeFacilitator Facilitator)> WithFakeFacilitatorAsync(Dictionary<string, string?>? extra = null)
    {
        var facilitator = await FakeFacilitator.StartAsync();
        var settings = new Dictionary<string, string?> { ["Facilitator:Url"] = facilitator.Url };
        foreach (var (key, value) in extra ?? [])
            settings[key] = value;
        return (await PaywallHarness.StartAsync(infrastructure, settings), facilitator);
    }

    [Fact]
    public async Task Facilitator_down_gives_503_and_the_upstream_is_never_called_while_free_routes_work()
    {
        await using var gate = await PaywallHarness.StartAsync(infrastructure, new() { ["Facilitator:Url"] = LoopbackServer.ClosedUrl() });
        var header = await gate.PayV2Async(new TestPayer(), HttpMethod.Get, Path);

        using var paid = await gate.SendAsync(HttpMethod.Get, Path, header);
        using var free = await gate.SendAsync(HttpMethod.Get, "/api/ping", null);

        await AssertUnavailableAsync(paid, "Payment facilitator unavailable");
        Assert.Equal(0, gate.Upstream.CallsTo(Path));
        Assert.Empty(await gate.PaymentsAsync());
        Assert.Equal(HttpStatusCode.OK, free.StatusCode);
    }

    [Fact]
    public async Task Redis_down_gives_503_and_the_upstream_is_never_called()
    {
        var (gate, facilitator) = await WithFakeFacilitatorAsync(new() { ["ConnectionStrings:redis"] = LoopbackServer.ClosedUrl().Replace("http://", "") });
        await using var _ = gate;
        await using var __ = facilitator;
        var header = await gate.PayV2Async(new TestPayer(), HttpMethod.Get, Path);

        // The multiplexer tried to connect at start-up and is disconnected: the first request fails fast (RedisFailFast), no 5 s stall.
        var started = Stopwatch.GetTimestamp();
        using var paid = await gate.SendAsync(HttpMethod.Get, Path, header);
        var firstAnswer = Stopwatch.GetElapsedTime(started);
        using var free = await gate.SendAsync(HttpMethod.Get, "/api/ping", null);

        await AssertUnavailableAsync(paid, "Payment store unavailable");
        Assert.True(firstAnswer < TimeSpan.FromSeconds(2), $"the first request with Redis down took {firstAnswer}");
        Assert.Equal(0, gate.Upstream.CallsTo(Path));
        Assert.Equal(0, facilitator.SettleCalls);
        Assert.Equal(HttpStatusCode.OK, free.StatusCode);
    }

    [Fact]
    public async Task Postgres_down_gives_503_and_the_upstream_is_never_called()
    {
        var (gate, facilitator) = await WithFakeFacilitatorAsync();
        await using var _ = gate;
        await using var __ = facilitator;
        var header = await gate.PayV2Async(new TestPayer(), HttpMethod.Get, Path);
        var database = new NpgsqlConnectionStringBuilder(gate.Database).Database!;
        await SetConnectionsAllowedAsync(gate.Database, database, false);
        try
        {
            using var paid = await gate.SendAsync(HttpMethod.Get, Path, header);
            using var free = await gate.SendAsync(HttpMethod.Get, "/api/ping", null);

            await AssertUnavailableAsync(paid, "Payment store unavailable");
            Assert.Equal(0, gate.Upstream.CallsTo(Path));
            Assert.Equal(HttpStatusCode.OK, free.StatusCode);
        }
        finally
        {
            await SetConnectionsAllowedAsync(gate.Database, database, true);
        }
        // The failed claim was rolled back in Redis: once Postgres is back, the same payment goes through.
        using var retry = await gate.SendAsync(HttpMethod.Get, Path, header);
        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
    }

    [Fact]
    public async Task Refused_settlement_drops_the_body_and_answers_402_with_the_settle_response()
    {
        var (gate, facilitator) = await WithFakeFacilitatorAsync();
        await using var _ = gate;
        await using var __ = facilitator;
        facilitator.SettleAnswer = (200, """{"success":false,"errorReason":"insufficient_funds","transaction":"","network":"eip155:84532"}""");
        var header = await gate.PayV2Async(new TestPayer(), HttpMethod.Get, Path);

        using var response = await gate.SendAsync(HttpMethod.Get, Path, header);

        Assert.Equal(HttpStatusCode.PaymentRequired, response.StatusCode);
        var settlement = PaywallHarness.SettlementOf(response);
        Assert.False(settlement.Success);
        Assert.Equal("insufficient_funds", settlement.ErrorReason);
        var body = await PaywallHarness.V1BodyAsync(response);   // the 402 body, not the upstream's answer
        Assert.Equal("insufficient_funds", body.Error);
        Assert.Equal(1, gate.Upstream.CallsTo(Path));
        Assert.Equal("failed", Assert.Single(await gate.PaymentsAsync()).Status);
    }

    [Fact]
    public async Task Unknown_settlement_is_pending_then_reconciled_and_served_once_on_the_same_header()
    {
        var (gate, facilitator) = await WithFakeFacilitatorAsync();
        await using var _ = gate;
        await using var __ = facilitator;
        facilitator.SettleAnswer = (502, "bad gateway");
        var header = await gate.PayV2Async(new TestPayer(), HttpMethod.Get, Path);

        using var pending = await gate.SendAsync(HttpMethod.Get, Path, header);
        await AssertUnavailableAsync(pending, "Settlement pending");
        using (var problem = JsonDocument.Parse(await pending.Content.ReadAsStringAsync(Ct)))
            Assert.Equal(Assert.Single(await gate.PaymentsAsync()).Id, problem.RootElement.GetProperty("paymentId").GetString());
        Assert.Equal("pending", Assert.Single(await gate.PaymentsAsync()).Status);

        // Presented again while pending: still 503, the upstream is not called again.
        using var stillPending = await gate.SendAsync(HttpMethod.Get, Path, header);
        await AssertUnavailableAsync(stillPending, "Settlement pending");
        Assert.Equal(1, gate.Upstream.CallsTo(Path));

        // The facilitator recovers; the reconciler repeats the same settle request.
        facilitator.SettleAnswer = (200, """{"success":true,"transaction":"0xfeed000000000000000000000000000000000000000000000000000000000001","network":"eip155:84532"}""");
        Assert.Equal(1, await ReconcileNowAsync(gate));
        var settled = Assert.Single(await gate.PaymentsAsync());
        Assert.Equal(("settled", "0xfeed000000000000000000000000000000000000000000000000000000000001"), (settled.Status, settled.Transaction));
        var settles = facilitator.SettleCalls;

        using var served = await gate.SendAsync(HttpMethod.Get, Path, header);
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        Assert.Equal(settled.Transaction, PaywallHarness.SettlementOf(served).Transaction);
        Assert.Equal(settles, facilitator.SettleCalls);   // no new charge
        Assert.Equal("served", Assert.Single(await gate.PaymentsAsync()).Status);

        using var again = await gate.SendAsync(HttpMethod.Get, Path, header);
        Assert.Equal(HttpStatusCode.PaymentRequired, again.StatusCode);
        Assert.Equal(2, gate.Upstream.CallsTo(Path));
    }

    [Fact]
    public async Task Reconciler_treats_nonce_already_used_as_settled_and_other_refusals_as_failed()
    {
        var (gate, facilitator) = await WithFakeFacilitatorAsync();
        await using var _ = gate;
        await using var __ = facilitator;
        facilitator.SettleAnswer = (500, "");
        var first = await gate.PayV2Async(new TestPayer(), HttpMethod.Get, Path);
        var second = await gate.PayV2Async(new TestPayer(), HttpMethod.Get, Path);
        (await gate.SendAsync(HttpMethod.Get, Path, first)).Dispose();

        facilitator.SettleAnswer = (200, """{"success":false,"errorReason":"invalid_exact_evm_nonce_already_used","transaction":"","network":"eip155:84532"}""");
        Assert.Equal(1, await ReconcileNowAsync(gate));
        Assert.Equal("settled", Assert.Single(await gate.PaymentsAsync()).Status);

        facilitator.SettleAnswer = (500, "");
        (await gate.SendAsync(HttpMethod.Get, Path, second)).Dispose();
        facilitator.SettleAnswer = (200, """{"success":false,"errorReason":"invalid_exact_evm_payload_authorization_valid_before","transaction":"","network":"eip155:84532"}""");
        Assert.Equal(1, await ReconcileNowAsync(gate));
        Assert.Contains(await gate.PaymentsAsync(), row => row.Status == "failed");

        // A failed one is not served on a second presentation.
        using var refused = await gate.SendAsync(HttpMethod.Get, Path, second);
        Assert.Equal(HttpStatusCode.PaymentRequired, refused.StatusCode);
    }

    // A gate killed between claim and outcome leaves a 'verified' row: after AbandonedClaimAfter the reconciler settles it
    // with the request stored at claim time, and the identical header is then served once without a new charge.
    [Fact]
    public async Task A_claim_abandoned_by_a_stopped_gate_is_settled_by_the_reconciler_and_served_once_on_the_same_header()
    {
        var (gate, facilitator) = await WithFakeFacilitatorAsync();
        await using var _ = gate;
        await using var __ = facilitator;
        facilitator.SettleAnswer = (200, """{"success":true,"transaction":"0xfeed000000000000000000000000000000000000000000000000000000000002","network":"eip155:84532"}""");
        var header = await gate.PayV2Async(new TestPayer(), HttpMethod.Get, Path);

        // What the gate does before forwarding, then "crashes": the claim stays 'verified'.
        var services = gate.Factory.Services;
        var route = services.GetRequiredService<global::Sessions.PaymentGate.Pricing.PricingCatalog>().Routes
            .Single(r => r.Method == "GET" && r.Path == "/api/content/{**key}");
        var decoded = global::Sessions.Payments.X402.X402HeaderCodec.DecodePaymentPayload(header);
        var attempt = PaymentAttempt.TryCreate(route, "http://localhost" + Path, header, decoded.Value!, TimeProvider.System.GetUtcNow(), out var error);
        Assert.True(attempt is not null, error);
        Assert.NotNull(await services.GetRequiredService<PaymentStore>().ClaimAsync(attempt.ToNewPayment(), Ct));
        Assert.Equal("verified", Assert.Single(await gate.PaymentsAsync()).Status);

        // Too young to be abandoned: left alone.
        Assert.Equal(0, await ReconcileNowAsync(gate));
        Assert.Equal("verified", Assert.Single(await gate.PaymentsAsync()).Status);
        Assert.Equal(0, facilitator.SettleCalls);

        await using (var connection = new NpgsqlConnection(gate.Database))
        {
            await connection.OpenAsync(Ct);
            await using var age = new NpgsqlCommand("UPDATE payments SET updated_at = now() - interval '11 minutes'", connection);
            await age.ExecuteNonQueryAsync(Ct);
        }
        Assert.Equal(1, await ReconcileNowAsync(gate));
        var settled = Assert.Single(await gate.PaymentsAsync());
        Assert.Equal(("settled", "0xfeed000000000000000000000000000000000000000000000000000000000002"), (settled.Status, settled.Transaction));
        Assert.Equal(1, facilitator.SettleCalls);

        using var served = await gate.SendAsync(HttpMethod.Get, Path, header);
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        Assert.Equal(1, facilitator.SettleCalls);   // no new charge
        using var again = await gate.SendAsync(HttpMethod.Get, Path, header);
        Assert.Equal(HttpStatusCode.PaymentRequired, again.StatusCode);
        Assert.Equal(1, gate.Upstream.CallsTo(Path));
    }

    static async Task<int> ReconcileNowAsync(PaywallHarness gate)
    {
        await using (var connection = new NpgsqlConnection(gate.Database))
        {
            await connection.OpenAsync(Ct);
            await using var due = new NpgsqlCommand("UPDATE payments SET next_attempt_at = now() - interval '1 second' WHERE status = 'pending'", connection);
            await due.ExecuteNonQueryAsync(Ct);
        }
        return await gate.Factory.Services.GetRequiredService<SettlementReconciler>().ReconcileOnceAsync(Ct);
    }

    static async Task SetConnectionsAllowedAsync(string connectionString, string database, bool allowed)
    {
        var admin = new NpgsqlConnectionStringBuilder(connectionString) { Database = "postgres", Pooling = false };
        await using var connection = new NpgsqlConnection(admin.ConnectionString);
        await connection.OpenAsync(Ct);
        await using (var alter = new NpgsqlCommand($"ALTER DATABASE \"{database}\" ALLOW_CONNECTIONS {allowed}", connection))
            await alter.ExecuteNonQueryAsync(Ct);
        if (!allowed)
        {
            await using var terminate = new NpgsqlCommand("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", connection);
            terminate.Parameters.Add(new NpgsqlParameter { Value = database });
            await terminate.ExecuteNonQueryAsync(Ct);
            NpgsqlConnection.ClearAllPools();
        }
    }
}
