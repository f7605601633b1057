using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using ServiceDefaults.Tests.Support;
using Sessions.Testing;

namespace ServiceDefaults.Tests.Health;

public sealed class HealthEndpointTests(InfrastructureFixture infra)
{
    static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    static async Task<WebApplication> StartAsync(string connectionString, bool withChecks = true)
    {
        var builder = TestApp.CreateBuilder(new Dictionary<string, string?> { ["ConnectionStrings:appdb"] = connectionString });
        builder.AddNpgsqlDataSource("appdb");
        var app = builder.Build();
        app.MapDefaultEndpoints(withChecks);
        await app.StartAsync(Cancellation);
        return app;
    }

    static async Task<JsonElement> GetReportAsync(WebApplication app, string path, HttpStatusCode expected)
    {
        using var response = await app.GetTestClient().GetAsync(path, Cancellation);
        Assert.Equal(expected, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync(Cancellation)).RootElement.Clone();
    }

    [Fact]
    public async Task Health_reports_every_check_and_alive_only_the_live_ones()
    {
        await using var app = await StartAsync(await infra.CreateDatabaseAsync("health"));

        var health = await GetReportAsync(app, "/health", HttpStatusCode.OK);
        Assert.Equal("Healthy", health.GetProperty("status").GetString());
        var checks = health.GetProperty("checks");
        Assert.Equal("Healthy", checks.GetProperty("self").GetProperty("status").GetString());
        // Aspire.Npgsql's check: named PostgreSql (PostgreSql_<name> when keyed), no tags, so /alive leaves it out.
        Assert.Equal("Healthy", checks.GetProperty("PostgreSql").GetProperty("status").GetString());
        Assert.Empty(checks.GetProperty("PostgreSql").GetProperty("tags").EnumerateArray());

        var alive = await GetReportAsync(app, "/alive", HttpStatusCode.OK);
        Assert.Equal(["self"], alive.GetProperty("checks").EnumerateObject().Select(p => p.Name));
        Assert.Equal("live", alive.GetProperty("checks").GetProperty("self").GetProperty("tags")[0].GetString());
    }

    [Fact]
    public async Task Without_checks_the_report_is_the_status_alone_healthy_or_not()
    {
        // The public gate's mapping: the database check still decides the status, its description (host, port) stays inside.
        await using var healthy = await StartAsync(await infra.CreateDatabaseAsync("health"), withChecks: false);
        var unreachable = new NpgsqlConnectionStringBuilder(await infra.CreateDatabaseAsync("health")) { Port = 1, Timeout = 2 };
        await using var unhealthy = await StartAsync(unreachable.ConnectionString, withChecks: false);

        Assert.Equal("""{"status":"Healthy"}""", (await GetReportAsync(healthy, "/health", HttpStatusCode.OK)).GetRawText());
        Assert.Equal("""{"status":"Healthy"}""", (await GetReportAsync(healthy, "/alive", HttpStatusCode.OK)).GetRawText());
        Assert.Equal("""{"status":"Unhealthy"}""", (await GetReportAsync(unhealthy, "/health", HttpStatusCode.ServiceUnavailable)).GetRawText());
    }

    [Fact]
    public async Task Unreachable_database_makes_health_503_while_alive_stays_200()
    {
        // A port nothing listens on: the health check must fail quickly and say why.
        var builder = new NpgsqlConnectionStringBuilder(await infra.CreateDatabaseAsync("health")) { Port = 1, Timeout = 2 };
        await using var app = await StartAsync(builder.ConnectionString);

        var health = await GetReportAsync(app, "/health", HttpStatusCode.ServiceUnavailable);
        Assert.Equal("Unhealthy", health.GetProperty("status").GetString());
        var database = health.GetProperty("checks").GetProperty("PostgreSql");
        Assert.Equal("Unhealthy", database.GetProperty("status").GetString());
        Assert.Contains("127.0.0.1:1", database.GetProperty("description").GetString());   // Npgsql's message names the endpoint

        await GetReportAsync(app, "/alive", HttpStatusCode.OK);
    }

    [Fact]
    public async Task The_data_source_is_a_singleton_that_reaches_the_database()
    {
        var connectionString = await infra.CreateDatabaseAsync("health");
        await using var app = await StartAsync(connectionString);

        var dataSource = app.Services.GetRequiredService<NpgsqlDataSource>();
        Assert.Same(dataSource, app.Services.GetRequiredService<NpgsqlDataSource>());
        await using var command = dataSource.CreateCommand("SELECT current_database()");
        Assert.Equal(new NpgsqlConnectionStringBuilder(connectionString).Database, await command.ExecuteScalarAsync(Cancellation));
    }

    [Fact]
    public async Task Keyed_data_source_is_registered_under_the_connection_name()
    {
        var builder = TestApp.CreateBuilder(new Dictionary<string, string?> { ["ConnectionStrings:reports"] = await infra.CreateDatabaseAsync("keyed") });
        builder.AddKeyedNpgsqlDataSource("reports");
        await using var app = builder.Build();
        app.MapDefaultEndpoints();
        await app.StartAsync(Cancellation);

        Assert.NotNull(app.Services.GetRequiredKeyedService<NpgsqlDataSource>("reports"));
        var health = await GetReportAsync(app, "/health", HttpStatusCode.OK);
        Assert.Equal("Healthy", health.GetProperty("checks").GetProperty("PostgreSql_reports").GetProperty("status").GetString());
    }

    [Fact]
    public void Missing_connection_string_is_a_clear_error()
    {
        var builder = TestApp.CreateBuilder();
        builder.AddNpgsqlDataSource("nowhere");
        using var app = builder.Build();

        var error = Assert.Throws<InvalidOperationException>(() => app.Services.GetRequiredService<NpgsqlDataSource>());
        Assert.Contains("'ConnectionStrings:nowhere'", error.Message);
    }
}
