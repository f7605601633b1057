using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using ServiceDefaults.Tests.Support;

namespace ServiceDefaults.Tests.ServiceDiscovery;

public sealed class ServiceDiscoveryTests
{
    [Fact]
    public async Task Environment_variable_form_reaches_the_same_endpoint()
    {
        await using var server = await HandlerServer.StartAsync((context, _) => context.Response.WriteAsync("env"));
        Environment.SetEnvironmentVariable("services__envprobe__http__0", server.Address.ToString());
        try
        {
            var builder = Host.CreateApplicationBuilder();
            builder.Configuration.AddEnvironmentVariables();
            builder.AddServiceDefaults();
            using var host = builder.Build();
            var client = host.Services.GetRequiredService<IHttpClientFactory>().CreateClient();

            Assert.Equal("env", await client.GetStringAsync("http://envprobe/", TestContext.Current.CancellationToken));
        }
        finally
        {
            Environment.SetEnvironmentVariable("services__envprobe__http__0", null);
        }
    }

    [Fact]
    public async Task Network_addresses_are_called_as_they_are()
    {
        await using var server = await HandlerServer.StartAsync((context, _) => context.Response.WriteAsync("direct"));
        using var host = ClientHost([]);
        var client = host.Services.GetRequiredService<IHttpClientFactory>().CreateClient();

        Assert.Equal("direct", await client.GetStringAsync(server.Address, TestContext.Current.CancellationToken));
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

    static IHost ClientHost(Dictionary<string, string?> settings)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddServiceDefaults();
        return builder.Build();
    }
}
