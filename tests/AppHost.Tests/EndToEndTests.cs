using Microsoft.Extensions.DependencyInjection;
using System.Net.Sockets;
using System.Text;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Npgsql;
using Sessions.AppHost.Testing;

namespace AppHost.Tests;

/// <summary>The whole stack, started once for these tests from the AppHost's Program.cs through Aspire.Hosting.Testing.</summary>
public sealed class StartedStack : IAsyncLifetime
{
    public TestStack Stack { get; private set; } = null!;

    public async ValueTask InitializeAsync() =>
        Stack = await TestStack.StartAsync(null, TimeSpan.FromSeconds(120), TestContext.Current.CancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (Stack is not null) await Stack.DisposeAsync();
    }
}

public class EndToEndTests(StartedStack started) : IClassFixture<StartedStack>
{
    const string Password = "[A-Za-z0-9]{22}";
    static readonly TimeSpan ServiceTimeout = TimeSpan.FromSeconds(90);
    static CancellationToken Ct => TestContext.Current.CancellationToken;
    DistributedApplication App => started.Stack.App;

    [Fact]
    public async Task Every_resource_is_running_and_healthy_and_the_gate_answers_on_a_random_port()
    {
        foreach (var name in TestStack.Servers.Concat(TestStack.Services))
            Assert.Equal(KnownResourceStates.Running, started.Stack.State(name));

        var gate = App.GetEndpoint("paymentgate");
        Assert.NotEqual(8402, gate.Port);   // tests never take the port people use
        using var http = App.CreateHttpClient("paymentgate");
        Assert.Equal(200, (int)(await http.GetAsync("/health", Ct)).StatusCode);
        Assert.Equal(200, (int)(await http.GetAsync("/api/pricing", Ct)).StatusCode);
    }

    [Fact]
    public async Task A_service_gets_urls_telemetry_settings_keys_and_connection_strings_in_aspire_formats()
    {
        var env = await Environment("sessionapi");
        var postgresPort = App.GetEndpoint("postgres", "tcp").Port;
        var redisPort = App.GetEndpoint("redis", "tcp").Port;

        Assert.StartsWith("http://localhost:", env["ASPNETCORE_URLS"]);
        // Filled in by DCP per replica (templates here): the service name and instance id the dashboard groups telemetry by.
        Assert.Contains("OTEL_SERVICE_NAME", env.Keys);
        Assert.Contains("OTEL_RESOURCE_ATTRIBUTES", env.Keys);

        Assert.Matches($"^Host=localhost;Port={postgresPort};Username=postgres;Password={Password};Database=sessionsdb$", env["ConnectionStrings__sessionsdb"]);
        var pgPassword = env["SESSIONSDB_PASSWORD"];
        Assert.Equal(("localhost", $"{postgresPort}", "postgres", "sessionsdb"),
            (env["SESSIONSDB_HOST"], env["SESSIONSDB_PORT"], env["SESSIONSDB_USERNAME"], env["SESSIONSDB_DATABASENAME"]));
        Assert.Equal($"postgresql://postgres:{pgPassword}@localhost:{postgresPort}/sessionsdb", env["SESSIONSDB_URI"]);

        var redisPassword = env["REDIS_PASSWORD"];
        Assert.Matches($"^{Password}$", redisPassword);
        Assert.Equal($"localhost:{redisPort},password={redisPassword}", env["ConnectionStrings__redis"]);
        Assert.Equal(("localhost", $"{redisPort}"), (env["REDIS_HOST"], env["REDIS_PORT"]));
        Assert.Equal($"redis://:{redisPassword}@localhost:{redisPort}", env["REDIS_URI"]);

        Assert.Matches("^[A-Za-z0-9]{32}$", env["PayerContext__SigningKey"]);
        Assert.Matches("^[A-Za-z0-9]{32}$", env["SessionApi__AdminKey"]);
        Assert.Equal(Url("vaultapi"), env["services__vaultapi__http__0"]);

        // VaultApi gets SessionApi's URL for its webhook reports, without a reference (that would be a cycle).
        Assert.Equal(Url("sessionapi"), (await Environment("vaultapi"))["services__sessionapi__http__0"]);

        var gate = await Environment("paymentgate");
        foreach (var service in new[] { "sessionapi", "vaultapi", "mcpserver" })
            Assert.Equal(Url(service), gate[$"services__{service}__http__0"]);
        Assert.EndsWith(";Database=gatedb", gate["ConnectionStrings__gatedb"]);
        Assert.Equal(env["PayerContext__SigningKey"], gate["PayerContext__SigningKey"]);
        Assert.Matches("^[A-Za-z0-9]{32}$", gate["Gate__Mpp__ChallengeKey"]);
        Assert.False(gate.ContainsKey("ConnectionStrings__sessionsdb"));
    }

    [Fact]
    public async Task Generated_parameters_are_kept_in_the_state_folder()
    {
        var kept = await File.ReadAllTextAsync(Path.Combine(started.Stack.StateDirectory, "parameters.json"), Ct);
        var gate = await Environment("paymentgate");
        Assert.Contains(gate["PayerContext__SigningKey"], kept);
        Assert.Contains(gate["REDIS_PASSWORD"], kept);
    }

    [Fact]
    public async Task The_connection_strings_handed_out_reach_the_real_servers()
    {
        await using (var connection = new NpgsqlConnection(await App.GetConnectionStringAsync("sessionsdb", Ct)))
        {
            await connection.OpenAsync(Ct);
            await using var command = new NpgsqlCommand("SELECT current_database()", connection);
            Assert.Equal("sessionsdb", await command.ExecuteScalarAsync(Ct));
        }
        var redis = (await Environment("mcpserver"));
        Assert.Equal("+PONG", await RedisPingAsync(int.Parse(redis["REDIS_PORT"], System.Globalization.CultureInfo.InvariantCulture), redis["REDIS_PASSWORD"]));
    }

    string Url(string service) => App.GetEndpoint(service).ToString().TrimEnd('/');

    // The values the model gives the resource, resolved against the running stack (Aspire.Hosting.Testing's way to read them;
    // its replacement, ExecutionConfigurationBuilder, needs more set-up for the same answer).
#pragma warning disable CS0618
    async Task<Dictionary<string, string>> Environment(string resource) =>
        await ((IResourceWithEnvironment)App.Services.GetRequiredService<DistributedApplicationModel>().Resources.Single(r => r.Name == resource))
            .GetEnvironmentVariableValuesAsync();
#pragma warning restore CS0618

    static async Task<string> RedisPingAsync(int port, string password)
    {
        using var client = new TcpClient();
        await client.ConnectAsync("localhost", port, Ct);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"AUTH {password}\r\nPING\r\n"), Ct);
        var buffer = new byte[64];
        var text = "";
        while (!text.Contains("PONG", StringComparison.Ordinal) && !text.Contains('-'))
            text += Encoding.ASCII.GetString(buffer, 0, await stream.ReadAsync(buffer, Ct));
        return text.Split("\r\n")[1];
    }
}
