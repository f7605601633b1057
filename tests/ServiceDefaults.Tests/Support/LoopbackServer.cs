using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ServiceDefaults.Tests.Support;

/// <summary>A real Kestrel server on a free 127.0.0.1 port answering every request with <c>handler</c>; counts hits.</summary>
public sealed class LoopbackServer : IAsyncDisposable
{
    readonly WebApplication _app;
    int _hits;

    LoopbackServer(WebApplication app) => _app = app;

    public Uri Address { get; private set; } = null!;
    public int Hits => Volatile.Read(ref _hits);

    public static async Task<LoopbackServer> StartAsync(Func<HttpContext, int, Task> handler)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new LoopbackServer(app);
        app.Run(context => handler(context, Interlocked.Increment(ref server._hits)));
        await app.StartAsync();
        server.Address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        return server;
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
