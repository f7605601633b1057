using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Sessions.PaymentGate.Pricing;
using Sessions.ServiceDefaults.Payers;
using Sessions.Testing;
using StackExchange.Redis;
using StackExchange.Redis.Profiling;
using static PaymentGate.Tests.Sessions.SessionGateHarness;

namespace PaymentGate.Tests.Sessions;

// Issue 16: a session request costs two Redis round trips at the gate, the hold (which also names the session's vault) and the
// confirm. Counted with the gate's own multiplexer profiler, scoped to the requests carrying a marker header, so other tests
// sharing the suite's Redis do not count.
public sealed class SessionRedisCallsTests(InfrastructureFixture infrastructure) : IAsyncLifetime
{
    const string Marker = "X-Test-Count-Redis";
    SessionGateHarness _gate = null!;
    ProfilingSession? _profiling;

    public async ValueTask InitializeAsync()
    {
        _gate = await SessionGateHarness.StartAsync(infrastructure);
        var http = _gate.GateServices.GetRequiredService<IHttpContextAccessor>();
        // Replaces the tracing profiler of this gate only: its multiplexer is this harness's own.
        _gate.GateServices.GetRequiredService<IConnectionMultiplexer>().RegisterProfiler(() =>
            http.HttpContext?.Request.Headers.ContainsKey(Marker) == true ? _profiling : null);
    }

    public ValueTask DisposeAsync() => _gate.DisposeAsync();

    [Fact]
    public async Task A_session_request_makes_two_gate_Redis_calls_hold_and_confirm_and_names_its_vault()
    {
        var payer = await _gate.FundedPayerAsync();
        var (id, token, body) = await _gate.OpenAsync(payer, 10 * GetPrice);
        using (var first = await _gate.WithTokenAsync(HttpMethod.Get, "/api/content/a", token))   // loads the session into Redis
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);

        var commands = await CountedAsync(token);

        Assert.Equal(2, commands.Count);
        Assert.All(commands, c => Assert.StartsWith("EVAL", c, StringComparison.Ordinal));
        Assert.Equal((id, body.GetProperty("vaultId").GetString()), ContextOfLastCall());
    }

    // A session loaded before the hold named its vault, or whose vault id Redis no longer has: the id is looked up as before.
    [Fact]
    public async Task Without_the_vault_id_in_Redis_the_request_still_names_its_vault()
    {
        var payer = await _gate.FundedPayerAsync();
        var (id, token, body) = await _gate.OpenAsync(payer, 10 * GetPrice);
        var prefix = _gate.GateServices.GetRequiredService<IOptions<GateOptions>>().Value.Sessions.RedisKeyPrefix;
        var redis = _gate.GateServices.GetRequiredService<IConnectionMultiplexer>().GetDatabase();
        await redis.KeyDeleteAsync([prefix + "session-vault:" + id, "gate:session-vault:" + id]);

        using (var response = await _gate.WithTokenAsync(HttpMethod.Get, "/api/content/a", token))
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        Assert.Equal((id, body.GetProperty("vaultId").GetString()), ContextOfLastCall());
        Assert.Equal(2, (await CountedAsync(token)).Count);   // found once, it is in Redis again
    }

    async Task<List<string>> CountedAsync(string token)
    {
        _profiling = new ProfilingSession();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/content/a");
        request.Headers.TryAddWithoutValidation(global::Sessions.PaymentGate.Sessions.SessionSpending.TokenHeader, token);
        request.Headers.Add(Marker, "1");
        using var response = await _gate.Http.SendAsync(request, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var commands = _profiling.FinishProfiling().Select(c => c.Command).ToList();
        _profiling = null;
        return commands;
    }

    (string?, string?) ContextOfLastCall()
    {
        var signer = _gate.GateServices.GetRequiredService<PayerContextSigner>();
        Assert.True(signer.TryVerify(_gate.Upstream.Calls.Last().PayerContext!, out var context, out _));
        return (context!.SessionId, context.VaultId);
    }
}
