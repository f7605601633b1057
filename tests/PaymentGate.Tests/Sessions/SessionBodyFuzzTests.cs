using Sessions.PaymentGate.Sessions;
using Sessions.Testing;
using Sessions.Testing.Fuzz;

namespace PaymentGate.Tests.Sessions;

// Issue 13 fuzzing: the gate's session bodies, 10,000 seeded cases per decoder straight through binding and the problem it
// becomes, and a sample over HTTP through the whole gate: never a 5xx or an internal name, every error coded, nothing written
// in gatedb or sessionsdb (no payment, session or ledger row: no money moves).
public sealed class SessionBodyFuzzTests(InfrastructureFixture infrastructure) : IAsyncLifetime
{
    const int Seed = 13_0004;
    const int HttpSample = 250;
    SessionGateHarness _gate = null!;

    public async ValueTask InitializeAsync() => _gate = await SessionGateHarness.StartAsync(infrastructure);

    public ValueTask DisposeAsync() => _gate.DisposeAsync();

    static readonly string[] OpenBodies =
    [
        """{"deposit":"100000"}""", """{"deposit":"100000","ttlSeconds":3600,"organization":"demo"}""", """{"kind":"pass"}""",
        """{"kind":"prepaid","deposit":"5000","ttlSeconds":60}""",
    ];

    static readonly string[] TopUpBodies = ["""{"amount":"5000"}""", """{"amount":"100000","organization":"demo"}"""];

    [Fact]
    public async Task Open_session_bodies() => await FuzzAsync<OpenSessionBody>("/api/sessions", OpenBodies, Seed);

    [Fact]
    public async Task Top_up_bodies() => await FuzzAsync<TopUpBody>("/api/sessions/ses_fuzz/topup", TopUpBodies, Seed + 1);

    async Task FuzzAsync<TBody>(string path, string[] valid, int seed)
    {
        var bound = await JsonBodyDecoderFuzz.RunAsync<TBody>(_gate.GateServices, valid, seed);
        Assert.InRange(bound, 500, 9_500); // both kinds of case were exercised

        var (gateRows, sessionRows) = (await JsonFuzzOracle.RowsAsync(_gate.GateDatabase), await JsonFuzzOracle.RowsAsync(_gate.SessionsDatabase));
        await JsonBodyHttpFuzz.RunAsync(_gate.Http, HttpMethod.Post, path, valid, seed + 100, HttpSample);
        Assert.Equal(gateRows, await JsonFuzzOracle.RowsAsync(_gate.GateDatabase));
        Assert.Equal(sessionRows, await JsonFuzzOracle.RowsAsync(_gate.SessionsDatabase));
    }
}
