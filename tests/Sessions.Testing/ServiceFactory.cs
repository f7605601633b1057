using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Sessions.Testing;

/// <summary>
/// A <see cref="WebApplicationFactory{TEntryPoint}"/> for one service, configured the way the AppHost
/// configures it (<c>ConnectionStrings:*</c>, <c>services:*</c>), pointing at the real test servers.
/// With a <paramref name="clock"/>, the service's TimeProvider is that one (the test moves "now").
/// </summary>
public class ServiceFactory<TProgram>(IReadOnlyDictionary<string, string?> settings, TimeProvider? clock = null) : WebApplicationFactory<TProgram>
    where TProgram : class
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Development");
        foreach (var (key, value) in settings)
            builder.UseSetting(key, value);
        if (clock is not null)
            builder.ConfigureTestServices(services => services.AddSingleton(clock));
    }
}
