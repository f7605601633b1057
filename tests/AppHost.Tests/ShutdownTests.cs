using System.Diagnostics;

namespace AppHost.Tests;

/// <summary>The real AppHost process: a child's death is reported, Ctrl+C (SIGINT) stops everything in time.</summary>
public class ShutdownTests
{
    const int SigInt = 2;
    static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);
    static readonly TimeSpan StopBudget = TimeSpan.FromSeconds(10);
    static readonly TimeSpan Margin = TimeSpan.FromSeconds(3);

    [Fact]
    public async Task A_dead_child_shows_as_exited_the_rest_stays_up_and_SIGINT_stops_everything_within_10_seconds()
    {
        var ct = TestContext.Current.CancellationToken;
        var state = Path.Combine(Environment.GetEnvironmentVariable("SESSIONS_TEST_ROOT") ?? Path.GetTempPath(), $"apphost-shutdown-{Guid.NewGuid():N}"[..28]);
        var pids = new List<int>();
        await using var appHost = AppHostProcess.Start("--state-dir", state, "--randomize-ports", "--AppHost:EphemeralState=true");
        try
        {
            await appHost.WaitUntilAsync(() => appHost.HasLine(l => l.StartsWith("Stack is up", StringComparison.Ordinal)), StartTimeout, "the stack to be up");
            var table = appHost.LastTable();
            Assert.Equal(9, table.Count);
            Assert.All(table.Values, row => Assert.Equal(("Running", "Healthy"), (row.State, row.Health)));
            pids.AddRange(table.Values.Where(r => r.Pid is not null).Select(r => r.Pid!.Value));
            Assert.Equal(6, pids.Count);

            // vaultapi dies: the AppHost reports it, everything else keeps running.
            Process.GetProcessById(table["vaultapi"].Pid!.Value).Kill();
            await appHost.WaitUntilAsync(() => appHost.LastTable().GetValueOrDefault("vaultapi")?.State == "Exited (137)", TimeSpan.FromSeconds(15), "vaultapi to show as Exited (137)");
            var after = appHost.LastTable();
            Assert.Equal("-", after["vaultapi"].Health);
            Assert.Equal("Running", after["paymentgate"].State);
            Assert.Equal("Running", after["sessionapi"].State);
            using var http = new HttpClient();
            Assert.Equal(200, (int)(await http.GetAsync($"{table["paymentgate"].Endpoint}/alive", ct)).StatusCode);

            // Ctrl+C: dependents first, everything gone within the 10 s budget.
            var stopping = Stopwatch.StartNew();
            appHost.Signal(SigInt);
            Assert.True(await appHost.WaitForExitAsync(StopBudget + Margin), $"The AppHost did not exit within {StopBudget + Margin}.{Environment.NewLine}{appHost.Output}");
            Assert.True(stopping.Elapsed < StopBudget + TimeSpan.FromSeconds(1), $"Stopping took {stopping.Elapsed}.");
            Assert.Equal(0, appHost.ExitCode);

            Assert.Empty(await ProcessInspector.StillAliveAsync(pids, TimeSpan.FromSeconds(1)));
            Assert.Empty(ProcessInspector.WithCommandLineContaining(state));
            var final = appHost.LastTable();
            Assert.Equal("Finished (0)", final["paymentgate"].State);
            Assert.Equal("Finished (0)", final["postgres"].State);
            Assert.Equal("Exited (137)", final["vaultapi"].State);

            // Dependents before dependencies: the gate's exit is logged before Redis and Postgres get their signal.
            var output = appHost.Output;
            Assert.True(output.IndexOf("paymentgate | Process exited", StringComparison.Ordinal) < output.IndexOf("redis       | Process exited", StringComparison.Ordinal));
            Assert.True(output.IndexOf("sessionapi  | Process exited", StringComparison.Ordinal) < output.IndexOf("received fast shutdown request", StringComparison.Ordinal));
        }
        finally
        {
            foreach (var pid in pids.Where(ProcessInspector.IsAlive))
                try { Process.GetProcessById(pid).Kill(entireProcessTree: true); } catch (ArgumentException) { }
            await appHost.DisposeAsync();
            try { Directory.Delete(state, recursive: true); } catch (IOException) { }
        }
    }
}
