using System.Diagnostics;

namespace AppHost.Tests;

/// <summary>
/// The real AppHost process (<c>dotnet AppHost.dll</c>, as <c>dotnet run --project AppHost</c> runs it): the dashboard and the
/// stack come up, SIGTERM stops every process within 10 s, and after a SIGKILL DCP reaps what the AppHost left and the next
/// start works on the same state, with the data of the first run.
/// </summary>
public class ShutdownTests
{
    const int SigTerm = 15;
    const int SigKill = 9;
    static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(150);
    static readonly TimeSpan StopBudget = TimeSpan.FromSeconds(10);
    // DCP notices a dead AppHost and stops what it started on its own schedule (measured: under 20 s).
    static readonly TimeSpan ReapBudget = TimeSpan.FromSeconds(45);

    [Fact]
    public async Task A_killed_apphost_leaves_nothing_behind_the_next_start_keeps_the_data_and_SIGTERM_stops_everything_within_10_seconds()
    {
        var ct = TestContext.Current.CancellationToken;
        var state = Sessions.AppHost.Testing.TestStack.NewStateDirectory("apphost-stop");
        string[] args = ["--state-dir", state, "--randomize-ports"];
        var wallet = $"0x{Guid.NewGuid():N}{Guid.NewGuid():N}"[..42];
        try
        {
            // First run: the dashboard prints its login URL, the stack comes up, a wallet is funded (Postgres, gatedb).
            await using (var first = AppHostProcess.Start(args))
            {
                var pids = await WaitUntilUpAsync(first);
                Assert.True(first.HasLine(l => l.Contains("Login to the dashboard at http://localhost:", StringComparison.Ordinal)), first.Output);
                using var http = new HttpClient { BaseAddress = new Uri(first.LastTable()["paymentgate"].Endpoint) };
                using var funded = await http.PostAsync("dev/faucet", new StringContent($$"""{"address":"{{wallet}}","amount":"1234"}""", System.Text.Encoding.UTF8, "application/json"), ct);
                Assert.True(funded.IsSuccessStatusCode, await funded.Content.ReadAsStringAsync(ct));

                first.Signal(SigKill);
                Assert.True(await first.WaitForExitAsync(TimeSpan.FromSeconds(5)));
                Assert.Empty(await ProcessInspector.StillAliveAsync(pids, ReapBudget));
                Assert.Empty(await ProcessInspector.StillAliveAsync(ProcessInspector.WithCommandLineContaining(state), TimeSpan.FromSeconds(5)));
            }

            // Second run on the same state: up again, the funded wallet is still there; SIGTERM stops everything in time.
            await using var second = AppHostProcess.Start(args);
            var running = await WaitUntilUpAsync(second);
            using (var http = new HttpClient { BaseAddress = new Uri(second.LastTable()["paymentgate"].Endpoint) })
                Assert.Contains("\"balance\":\"1234\"", await http.GetStringAsync($"dev/accounts/{wallet}", ct));

            var stopping = Stopwatch.StartNew();
            second.Signal(SigTerm);
            Assert.True(await second.WaitForExitAsync(StopBudget + TimeSpan.FromSeconds(5)), $"The AppHost did not exit.{Environment.NewLine}{second.Output}");
            Assert.Empty(await ProcessInspector.StillAliveAsync(running, TimeSpan.FromSeconds(1)));
            Assert.Empty(ProcessInspector.WithCommandLineContaining(state));
            Assert.True(stopping.Elapsed < StopBudget, $"Stopping took {stopping.Elapsed.TotalSeconds:0.0} s.");
        }
        finally
        {
            foreach (var pid in ProcessInspector.WithCommandLineContaining(state))
                try { Process.GetProcessById(pid).Kill(entireProcessTree: true); } catch (ArgumentException) { }
            try { Directory.Delete(state, recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>Waits for "Stack is up"; returns the pids of every process the stack runs (servers, services, DCP).</summary>
    static async Task<List<int>> WaitUntilUpAsync(AppHostProcess appHost)
    {
        await appHost.WaitUntilAsync(() => appHost.HasLine(l => l.StartsWith("Stack is up", StringComparison.Ordinal)), StartTimeout, "the stack to be up");
        var table = appHost.LastTable();
        Assert.Equal(9, table.Count);
        Assert.All(table.Values, row => Assert.Equal(("Running", "Healthy"), (row.State, row.Health)));
        var pids = table.Values.Where(r => r.Pid is not null).Select(r => r.Pid!.Value).ToList();
        Assert.Equal(6, pids.Count);
        // Each project runs as `dotnet run` with the service as its child; DCP runs as the AppHost's monitor.
        pids.AddRange(pids.SelectMany(ProcessInspector.ChildrenOf).ToList());
        pids.AddRange(ProcessInspector.WithCommandLineContaining($"--monitor {appHost.Id}"));
        return pids;
    }
}
