using System.Net;
using System.Text;
using McpServer.Tests.Support;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Sessions.McpServer.Storage;
using Sessions.Testing;

namespace McpServer.Tests.Storage;

// builder.AddPayerStore() in the real service: PayerStore:Provider picks the store, options are checked at start.
public sealed class PayerStoreRegistrationTests(InfrastructureFixture infrastructure)
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    ServiceFactory<Program> Factory(params (string Key, string? Value)[] settings)
    {
        var all = new Dictionary<string, string?>
        {
            ["ConnectionStrings:redis"] = infrastructure.RedisConnectionString,
            ["PayerContext:SigningKey"] = Payers.SigningKey,
        };
        foreach (var (key, value) in settings) all[key] = value;
        return new ServiceFactory<Program>(all);
    }

    static string Messages(Exception error) => error switch
    {
        AggregateException aggregate => string.Join(" | ", aggregate.InnerExceptions.Select(Messages)),
        { InnerException: { } inner } => error.Message + " | " + Messages(inner),
        _ => error.Message,
    };

    [Fact]
    public async Task Redis_is_the_default()
    {
        await using var factory = Factory();
        var store = Assert.IsType<RedisPayerStore>(factory.Services.GetRequiredService<IPayerStore>());
        Assert.Equal(TimeSpan.Zero, store.DefaultTtl);
    }

    [Fact]
    public async Task Redis_default_ttl_comes_from_configuration()
    {
        await using var factory = Factory(("PayerStore:Provider", "Redis"), ("PayerStore:Redis:DefaultTtl", "00:30:00"));
        var store = Assert.IsType<RedisPayerStore>(factory.Services.GetRequiredService<IPayerStore>());
        Assert.Equal(TimeSpan.FromMinutes(30), store.DefaultTtl);
    }

    [Fact]
    public async Task Memory_provider_with_its_options_serves_the_content_api()
    {
        await using var factory = Factory(("PayerStore:Provider", "memory"), ("PayerStore:Memory:MaxEntries", "5"),
            ("PayerStore:Memory:DefaultTtl", "00:10:00"));
        var store = Assert.IsType<InMemoryPayerStore>(factory.Services.GetRequiredService<IPayerStore>());
        Assert.Equal(5, store.MaxEntries);
        Assert.Equal(TimeSpan.FromMinutes(10), store.DefaultTtl);

        var client = factory.CreateClient().As(Payers.NewAddress());
        using var put = await client.PutAsync("/api/content/notes/a", new StringContent("in memory", Encoding.UTF8, "text/plain"), Ct);
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.Contains("expiresAt", await put.Content.ReadAsStringAsync(Ct));
        Assert.Equal("in memory", await client.GetStringAsync("/api/content/notes/a", Ct));
        Assert.Equal(1, store.Count);
    }

    [Theory]
    [InlineData("PayerStore:Memory:MaxEntries", "0")]
    [InlineData("PayerStore:Memory:DefaultTtl", "-00:00:01")]
    [InlineData("PayerStore:Redis:DefaultTtl", "-00:00:01")]
    public async Task Invalid_options_stop_the_start_with_the_key_named(string key, string value)
    {
        // A plain host with the same registration: through WebApplicationFactory the validation error sometimes surfaces as
        // the ObjectDisposedException of the host torn down after it, which would hide the message this test is about.
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:redis"] = infrastructure.RedisConnectionString,
            ["PayerStore:Provider"] = "memory",
            [key] = value,
        });
        builder.AddPayerStore();
        using var host = builder.Build();
        var error = await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync(Ct));
        Assert.Contains(key, Messages(error));
    }

    [Fact]
    public async Task An_unknown_provider_stops_the_start()
    {
        await using var factory = Factory(("PayerStore:Provider", "postgres"));
        var error = Assert.ThrowsAny<Exception>(() => factory.Services);
        Assert.Contains("PayerStore:Provider is 'postgres'", Messages(error));
    }
}
