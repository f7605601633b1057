using Npgsql;
using Sessions.Hosting.ApplicationModel;
using Sessions.Hosting.Local;
using Sessions.Hosting.Testing;

namespace AppHost.Tests;

/// <summary>The whole stack, started from the AppHost's own Program.cs through the testing entry point.</summary>
public class EndToEndTests
{
    static readonly TimeSpan ServerTimeout = TimeSpan.FromSeconds(30);
    static readonly TimeSpan ServiceTimeout = TimeSpan.FromSeconds(60);
    static readonly string[] Services = ["sessionapi", "vaultapi", "mcpserver", "paymentgate"];

    [Fact]
    public async Task Whole_stack_becomes_healthy_answers_through_the_gate_and_leaves_no_process_behind()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(ct);
        var app = await builder.BuildAsync(ct);
        var pids = new List<int>();
        // Kept for the final assertion: the app's service provider is gone after DisposeAsync.
        var notifications = app.ResourceNotifications;
        try
        {
            await app.StartAsync(ct);
            await app.WaitForResourceHealthyAsync("redis", ServerTimeout, ct);
            await app.WaitForResourceHealthyAsync("postgres", ServerTimeout, ct);
            foreach (var service in Services)
                await app.WaitForResourceHealthyAsync(service, ServiceTimeout, ct);

            foreach (var resourceEvent in app.ResourceNotifications.GetCurrentStates())
                if (resourceEvent.Snapshot.Pid is { } pid) pids.Add(pid);
            Assert.Equal(6, pids.Count);

            // Every service answers /health at the URL the gate discovered for it (services__<name>__http__0).
            var gateEnvironment = ProcessInspector.EnvironmentOf(Pid(app, "paymentgate"));
            using var http = new HttpClient();
            foreach (var service in Services.Where(s => s != "paymentgate"))
            {
                var discovered = gateEnvironment[$"services__{service}__http__0"];
                Assert.Equal(app.GetEndpoint(service).ToString().TrimEnd('/'), discovered);
                var response = await http.GetAsync($"{discovered}/health", ct);
                Assert.Equal(200, (int)response.StatusCode);
            }

            // Each service process received exactly the environment the model computes for it.
            foreach (var service in Services)
            {
                var received = ProcessInspector.EnvironmentOf(Pid(app, service));
                foreach (var (name, value) in await app.GetEnvironmentVariableValuesAsync(service, ct))
                    Assert.Equal((name, value), (name, received.GetValueOrDefault(name)));
            }

            // The way in: the gate (its YARP routes come later; /health is the route it has today).
            using var gate = app.CreateHttpClient("paymentgate");
            Assert.Equal(200, (int)(await gate.GetAsync("/health", ct)).StatusCode);

            // The connection strings handed out work against the real servers.
            await using (var connection = new NpgsqlConnection(await app.GetConnectionStringAsync("sessionsdb", ct)))
            {
                await connection.OpenAsync(ct);
                await using var command = new NpgsqlCommand("SELECT current_database()", connection);
                Assert.Equal("sessionsdb", await command.ExecuteScalarAsync(ct));
            }
            var redis = (RedisResource)app.GetResource("redis");
            Assert.True(await LocalRedisServer.PingAsync(redis.PrimaryEndpoint.Port, redis.PasswordParameter!.Value, ct));

            // Resource commands: stop a service while the rest runs on, start it again (two concurrent starts: one process).
            var stopped = await app.ResourceCommands.ExecuteCommandAsync("mcpserver", KnownResourceCommands.StopCommand, ct);
            Assert.True(stopped.Success, stopped.ErrorMessage);
            Assert.True(app.ResourceNotifications.TryGetCurrentState("mcpserver", out var afterStop));
            Assert.True(KnownResourceStates.IsTerminal(afterStop.Snapshot.State), afterStop.Snapshot.State);
            Assert.Equal(200, (int)(await http.GetAsync($"{app.GetEndpoint("vaultapi").ToString().TrimEnd('/')}/health", ct)).StatusCode);
            var starts = await Task.WhenAll(Enumerable.Range(0, 2).Select(_ =>
                app.ResourceCommands.ExecuteCommandAsync("mcpserver", KnownResourceCommands.StartCommand, ct)));
            Assert.Equal(1, starts.Count(r => r.Success));
            await app.ResourceNotifications.WaitForResourceAsync("mcpserver", e => e.Snapshot.State == KnownResourceStates.Running, ct)
                .WaitAsync(ServiceTimeout, ct);
            await app.WaitForResourceHealthyAsync("mcpserver", ServiceTimeout, ct);
            pids.Add(Pid(app, "mcpserver"));
            Assert.Equal(200, (int)(await http.GetAsync($"{app.GetEndpoint("mcpserver").ToString().TrimEnd('/')}/health", ct)).StatusCode);
        }
        finally
        {
            await app.DisposeAsync();
        }

        Assert.Empty(await ProcessInspector.StillAliveAsync(pids, TimeSpan.FromSeconds(2)));
        // Postgres' worker processes and anything else started on the state folder are gone too.
        Assert.Empty(ProcessInspector.WithCommandLineContaining(builder.StateDirectory));
        Assert.All(notifications.GetCurrentStates().Where(e => e.Snapshot.Pid is not null),
            e => Assert.Equal(KnownResourceStates.Finished, e.Snapshot.State));
    }

    static int Pid(Sessions.Hosting.DistributedApplication app, string name)
        => app.ResourceNotifications.TryGetCurrentState(name, out var e) && e.Snapshot.Pid is { } pid ? pid : throw new InvalidOperationException($"{name} has no pid.");
}
