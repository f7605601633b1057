using Sessions.Hosting;
using Sessions.Hosting.Orchestration;
using Sessions.Hosting.Testing;

namespace AppHost.Tests;

/// <summary>
/// The environment each service gets: the variable names and formats an Aspire AppHost injects, so that a
/// service reads the same configuration under this AppHost and under Aspire. (EndToEndTests checks that the
/// running processes receive exactly this.)
/// </summary>
public class EnvironmentContractTests
{
    const string Password = "[A-Za-z0-9]{22}";

    [Fact]
    public async Task A_service_gets_its_urls_telemetry_settings_and_connection_strings_in_aspire_formats()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(ct);
        await using var app = await builder.BuildAsync(ct);
        ResourceGraph.AllocateEndpoints(app.Model, randomizePorts: true);

        var env = await app.GetEnvironmentVariableValuesAsync("sessionapi", ct);
        var port = app.GetEndpoint("sessionapi").Port;
        var postgresPort = app.GetEndpoint("postgres").Port;
        var redisPort = app.GetEndpoint("redis").Port;

        Assert.Equal($"http://localhost:{port}", env["ASPNETCORE_URLS"]);
        Assert.Equal("Development", env["ASPNETCORE_ENVIRONMENT"]);
        Assert.Equal("http", env["DOTNET_LAUNCH_PROFILE"]);
        Assert.Equal("sessionapi", env["OTEL_SERVICE_NAME"]);
        Assert.Matches("^service\\.instance\\.id=[a-z]{8}$", env["OTEL_RESOURCE_ATTRIBUTES"]);
        Assert.Equal("in_memory", env["OTEL_DOTNET_EXPERIMENTAL_OTLP_RETRY"]);
        Assert.Equal("1000", env["OTEL_BSP_SCHEDULE_DELAY"]);
        Assert.Equal("1000", env["OTEL_BLRP_SCHEDULE_DELAY"]);
        Assert.Equal("1000", env["OTEL_METRIC_EXPORT_INTERVAL"]);
        Assert.Equal("always_on", env["OTEL_TRACES_SAMPLER"]);
        Assert.Equal("true", env["DOTNET_SYSTEM_CONSOLE_ALLOW_ANSI_COLOR_REDIRECTION"]);
        Assert.Equal("simple", env["LOGGING__CONSOLE__FORMATTERNAME"]);

        Assert.Matches($"^Host=localhost;Port={postgresPort};Username=postgres;Password={Password};Database=sessionsdb$", env["ConnectionStrings__sessionsdb"]);
        var pgPassword = env["SESSIONSDB_PASSWORD"];
        Assert.Equal("localhost", env["SESSIONSDB_HOST"]);
        Assert.Equal($"{postgresPort}", env["SESSIONSDB_PORT"]);
        Assert.Equal("postgres", env["SESSIONSDB_USERNAME"]);
        Assert.Equal("sessionsdb", env["SESSIONSDB_DATABASENAME"]);
        Assert.Equal($"postgresql://postgres:{pgPassword}@localhost:{postgresPort}/sessionsdb", env["SESSIONSDB_URI"]);
        Assert.EndsWith($"Password={pgPassword};Database=sessionsdb", env["ConnectionStrings__sessionsdb"]);

        Assert.Matches($"^localhost:{redisPort},password={Password}$", env["ConnectionStrings__redis"]);
        var redisPassword = env["REDIS_PASSWORD"];
        Assert.Equal("localhost", env["REDIS_HOST"]);
        Assert.Equal($"{redisPort}", env["REDIS_PORT"]);
        Assert.Equal($"redis://:{redisPassword}@localhost:{redisPort}", env["REDIS_URI"]);
        Assert.Equal($"localhost:{redisPort},password={redisPassword}", env["ConnectionStrings__redis"]);

        // Generated parameters: the payer-context key shared with the gate, SessionApi's admin key.
        Assert.Matches("^[A-Za-z0-9]{32}$", env["PayerContext__SigningKey"]);
        Assert.Matches("^[A-Za-z0-9]{32}$", env["SessionApi__AdminKey"]);
        Assert.Equal((await app.GetEnvironmentVariableValuesAsync("paymentgate", ct))["PayerContext__SigningKey"], env["PayerContext__SigningKey"]);
        Assert.Equal($"http://localhost:{app.GetEndpoint("vaultapi").Port}", env["services__vaultapi__http__0"]);
        // VaultApi gets SessionApi's URL for its webhook reports, without a reference (that would be a cycle).
        Assert.Equal($"http://localhost:{port}", (await app.GetEnvironmentVariableValuesAsync("vaultapi", ct))["services__sessionapi__http__0"]);

        // Nothing else: the same names Aspire gives (no collector configured, so no OTEL_EXPORTER_*).
        string[] expected =
        [
            "ASPNETCORE_ENVIRONMENT", "DOTNET_LAUNCH_PROFILE", "ASPNETCORE_URLS",
            "OTEL_DOTNET_EXPERIMENTAL_OTLP_RETRY", "OTEL_RESOURCE_ATTRIBUTES", "OTEL_SERVICE_NAME",
            "OTEL_BSP_SCHEDULE_DELAY", "OTEL_BLRP_SCHEDULE_DELAY", "OTEL_METRIC_EXPORT_INTERVAL", "OTEL_TRACES_SAMPLER",
            "DOTNET_SYSTEM_CONSOLE_ALLOW_ANSI_COLOR_REDIRECTION", "LOGGING__CONSOLE__FORMATTERNAME",
            "ConnectionStrings__sessionsdb", "SESSIONSDB_HOST", "SESSIONSDB_PORT", "SESSIONSDB_USERNAME", "SESSIONSDB_PASSWORD", "SESSIONSDB_URI", "SESSIONSDB_DATABASENAME",
            "ConnectionStrings__redis", "REDIS_HOST", "REDIS_PORT", "REDIS_PASSWORD", "REDIS_URI",
            "PayerContext__SigningKey", "SessionApi__AdminKey",
            // WithReference(vaultApi): the vault provisioner's URL, both Aspire spellings.
            "services__vaultapi__http__0", "VAULTAPI_HTTP",
        ];
        if (app.Services.GetService(typeof(ResourceEnvironment)) is ResourceEnvironment { OtlpEndpoint: null })
            Assert.Equal(expected.Order(), env.Keys.Order());
    }

    [Fact]
    public async Task The_gate_gets_service_urls_its_database_redis_and_the_payer_context_key()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(ct);
        await using var app = await builder.BuildAsync(ct);
        ResourceGraph.AllocateEndpoints(app.Model, randomizePorts: true);

        var env = await app.GetEnvironmentVariableValuesAsync("paymentgate", ct);

        Assert.Equal($"http://localhost:{app.GetEndpoint("paymentgate").Port}", env["ASPNETCORE_URLS"]);
        foreach (var service in new[] { "sessionapi", "vaultapi", "mcpserver" })
        {
            var url = $"http://localhost:{app.GetEndpoint(service).Port}";
            Assert.Equal(url, env[$"services__{service}__http__0"]);
            Assert.Equal(url, env[$"{service.ToUpperInvariant()}_HTTP"]);
        }
        Assert.EndsWith(";Database=gatedb", env["ConnectionStrings__gatedb"]);
        Assert.Equal("gatedb", env["GATEDB_DATABASENAME"]);
        Assert.StartsWith("localhost:", env["ConnectionStrings__redis"]);
        Assert.Matches("^[A-Za-z0-9]{32}$", env["PayerContext__SigningKey"]);
        Assert.False(env.ContainsKey("ConnectionStrings__sessionsdb"));

        // Generated once and persisted in the state folder, like Aspire's user secrets.
        var persisted = await File.ReadAllTextAsync(Path.Combine(builder.StateDirectory, "parameters.json"), ct);
        Assert.Contains(env["PayerContext__SigningKey"], persisted);
    }

    [Fact]
    public async Task A_configured_collector_is_passed_on_with_its_protocol()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(
            ["--OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318", "--OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf"], ct);
        await using var app = await builder.BuildAsync(ct);
        ResourceGraph.AllocateEndpoints(app.Model, randomizePorts: true);

        var env = await app.GetEnvironmentVariableValuesAsync("vaultapi", ct);

        Assert.Equal("http://localhost:4318", env["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        Assert.Equal("http/protobuf", env["OTEL_EXPORTER_OTLP_PROTOCOL"]);
    }

    [Fact]
    public void The_apphost_own_urls_environment_and_settings_are_not_inherited()
    {
        var removed = ResourceEnvironment.NamesNotInherited(
            ["ASPNETCORE_URLS", "ASPNETCORE_ENVIRONMENT", "DOTNET_ENVIRONMENT", "OTEL_SERVICE_NAME", "AppHost__ResetState", "Parameters__x", "PATH", "HOME"]);

        Assert.Equal(["ASPNETCORE_URLS", "ASPNETCORE_ENVIRONMENT", "DOTNET_ENVIRONMENT", "OTEL_SERVICE_NAME", "AppHost__ResetState", "Parameters__x"], removed);
    }
}
