using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using ServiceDefaults.Tests.Support;
using Sessions.ServiceDefaults.ServiceDiscovery;

namespace ServiceDefaults.Tests.ServiceDiscovery;

public sealed class ServiceDiscoveryTests
{
    static ServiceEndpointResolver Resolver(Dictionary<string, string?> settings) =>
        new(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());

    [Fact]
    public void Resolves_aspire_keys_by_scheme()
    {
        var resolver = Resolver(new()
        {
            ["services:sessionapi:http:0"] = "http://localhost:5101",
            ["services:vaultapi:http:0"] = "http://localhost:5102",
            ["services:vaultapi:https:0"] = "https://localhost:7102",
        });

        Assert.Equal(new Uri("http://localhost:5101"), resolver.Resolve("sessionapi", "http"));
        Assert.Equal(new Uri("http://localhost:5101"), resolver.Resolve("sessionapi"));        // https+http falls back to http
        Assert.Equal(new Uri("https://localhost:7102"), resolver.Resolve("vaultapi"));         // and prefers https
        Assert.Equal(new Uri("http://localhost:5102"), resolver.Resolve("vaultapi", "http"));
        Assert.Equal(new Uri("http://localhost:5102"), resolver.Resolve("vaultapi", "http+https"));
        Assert.False(resolver.TryResolve("sessionapi", "https", out _));
    }

    [Fact]
    public void Environment_variable_form_maps_to_the_same_key()
    {
        Environment.SetEnvironmentVariable("services__envprobe__http__0", "http://127.0.0.1:6553");
        try
        {
            var resolver = new ServiceEndpointResolver(new ConfigurationBuilder().AddEnvironmentVariables().Build());
            Assert.Equal(new Uri("http://127.0.0.1:6553"), resolver.Resolve("envprobe"));
        }
        finally
        {
            Environment.SetEnvironmentVariable("services__envprobe__http__0", null);
        }
    }

    [Fact]
    public void Unknown_service_error_names_the_expected_key()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Resolver([]).Resolve("vaultapi", "http"));
        Assert.Contains("'services:vaultapi:http:0'", error.Message);
        Assert.Contains("services__vaultapi__http__0", error.Message);

        var either = Assert.Throws<InvalidOperationException>(() => Resolver([]).ResolveRequestUri(new Uri("https+http://vaultapi/x")));
        Assert.Contains("'services:vaultapi:https:0'", either.Message);
        Assert.Contains("'services:vaultapi:http:0'", either.Message);
    }

    [Fact]
    public void Network_addresses_pass_through_unchanged()
    {
        var resolver = Resolver([]);
        foreach (var address in new[] { "http://127.0.0.1:81/a", "http://localhost/a", "https://api.example.org/a", "http://[::1]:80/" })
            Assert.Equal(new Uri(address), resolver.ResolveRequestUri(new Uri(address)));
    }

    [Theory]
    [InlineData("http://sessionapi/api/echo?x=1")]
    [InlineData("https+http://sessionapi/api/echo?x=1")]
    public async Task HttpClient_calling_a_service_name_reaches_the_injected_endpoint(string url)
    {
        await using var server = await HandlerServer.StartAsync((context, _) =>
            context.Response.WriteAsync($"{context.Request.Path}{context.Request.QueryString} host={context.Request.Host}"));
        using var host = ClientHost(new() { ["services:sessionapi:http:0"] = server.Address.ToString().TrimEnd('/') });

        var client = host.Services.GetRequiredService<IHttpClientFactory>().CreateClient();
        var body = await client.GetStringAsync(url, TestContext.Current.CancellationToken);

        Assert.Equal($"/api/echo?x=1 host={server.Address.Authority}", body);
    }

    [Fact]
    public async Task Base_address_with_a_service_name_works_for_typed_and_named_clients()
    {
        await using var server = await HandlerServer.StartAsync((context, _) => context.Response.WriteAsync("pong"));
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["services:vaultapi:http:0"] = server.Address.ToString() });
        builder.AddServiceDefaults();
        builder.Services.AddHttpClient("vault", client => client.BaseAddress = new Uri("https+http://vaultapi"));
        using var host = builder.Build();

        var client = host.Services.GetRequiredService<IHttpClientFactory>().CreateClient("vault");

        Assert.Equal("pong", await client.GetStringAsync("ping", TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Unknown_service_fails_the_request_with_the_key_in_the_message()
    {
        using var host = ClientHost([]);
        var client = host.Services.GetRequiredService<IHttpClientFactory>().CreateClient();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => client.GetAsync("http://nosuchservice/x", TestContext.Current.CancellationToken));
        Assert.Contains("services:nosuchservice:http:0", error.Message);
    }

    static IHost ClientHost(Dictionary<string, string?> settings)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddServiceDefaults();
        return builder.Build();
    }
}
