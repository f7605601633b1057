using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Sessions.Hosting.Local;
using Sessions.Redis;
using Sessions.Testing;
using static Redis.Tests.TestSupport;

namespace Redis.Tests;

public class IntegrationTests(InfrastructureFixture infra)
{
    static HostApplicationBuilder Builder(string? connectionString)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        if (connectionString is not null) builder.Configuration["ConnectionStrings:cache"] = connectionString;
        return builder;
    }

    [Fact]
    public async Task AddRedisClient_registers_a_singleton_client_and_a_ready_health_check()
    {
        var builder = Builder(infra.RedisConnectionString);
        builder.AddRedisClient("cache");
        using var host = builder.Build();
        await host.StartAsync(Ct);

        var client = host.Services.GetRequiredService<IRedisClient>();
        Assert.Same(client, host.Services.GetRequiredService<IRedisClient>());
        var key = Key("di");
        await client.SetAsync(key, "v", cancellationToken: Ct);
        Assert.Equal("v", (string?)await client.GetAsync(key, Ct));

        var report = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(r => r.Tags.Contains("ready"), Ct);
        var entry = report.Entries["cache"];
        Assert.Equal(HealthStatus.Healthy, entry.Status);
        Assert.Contains("answered PING", entry.Description);
        await host.StopAsync(Ct);
    }

    [Fact]
    public async Task The_app_starts_with_Redis_down_and_the_health_check_reports_it()
    {
        var port = PortAllocator.GetFreePort();
        var builder = Builder($"127.0.0.1:{port},abortConnect=true,asyncTimeout=300");
        builder.AddRedisClient("cache");
        using var host = builder.Build();
        await host.StartAsync(Ct);
        var client = host.Services.GetRequiredService<IRedisClient>();
        Assert.False(client.IsConnected);

        var report = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(Ct);
        var entry = report.Entries["cache"];
        Assert.Equal(HealthStatus.Unhealthy, entry.Status);
        Assert.Contains($"127.0.0.1:{port}", entry.Description);
        Assert.IsType<RedisConnectionException>(entry.Exception);
        await host.StopAsync(Ct);
    }

    [Fact]
    public void A_missing_connection_string_is_a_clear_error()
    {
        var builder = Builder(null);
        builder.AddRedisClient("cache");
        using var host = builder.Build();
        var error = Assert.Throws<InvalidOperationException>(() => host.Services.GetRequiredService<IRedisClient>());
        Assert.Contains("ConnectionStrings:cache", error.Message);
    }

    [Fact]
    public void A_malformed_connection_string_fails_at_registration() =>
        Assert.Contains("ConnectionStrings:cache",
            Assert.Throws<InvalidOperationException>(() => Builder("host:notaport").AddRedisClient("cache")).Message);

    [Fact]
    public async Task Keyed_registration()
    {
        var builder = Builder(infra.RedisConnectionString);
        builder.AddKeyedRedisClient("cache");
        await using var provider = builder.Services.BuildServiceProvider();
        var client = provider.GetRequiredKeyedService<IRedisClient>("cache");
        Assert.Equal("PONG", (string?)await client.ExecuteAsync("PING", [], Ct));
    }
}
