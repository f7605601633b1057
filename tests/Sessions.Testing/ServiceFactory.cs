using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Sessions.Testing;

/// <summary>
/// A <see cref="WebApplicationFactory{TEntryPoint}"/> for one service, configured the way the AppHost
/// configures it (<c>ConnectionStrings:*</c>, <c>services:*</c>), pointing at the real test servers.
/// </summary>
public class ServiceFactory<TProgram>(IReadOnlyDictionary<string, string?> settings) : WebApplicationFactory<TProgram>
    where TProgram : class
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Development");
        foreach (var (key, value) in settings)
            builder.UseSetting(key, value);
    }
}
