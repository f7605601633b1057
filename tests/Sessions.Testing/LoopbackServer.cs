using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Sessions.Testing;

/// <summary>
/// A small real Kestrel app on a free 127.0.0.1 port, standing in for a peer (facilitator, upstream, webhook receiver):
/// <see cref="StartAsync"/> with the endpoints to map, or derive one that maps its own with <see cref="ListenAsync"/>.
/// </summary>
public class LoopbackServer : IAsyncDisposable
{
    WebApplication? _app;

    /// <summary><c>http://127.0.0.1:port</c>, without a trailing slash.</summary>
    public string Url { get; private set; } = "";

    public static async Task<LoopbackServer> StartAsync(Action<WebApplication> map)
    {
        var server = new LoopbackServer();
        await server.ListenAsync(map);
        return server;
    }

    protected async Task ListenAsync(Action<WebApplication> map)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        _app = builder.Build();
        map(_app);
        await _app.StartAsync();
        Url = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
            await _app.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    /// <summary>A loopback URL nobody listens on.</summary>
    public static string ClosedUrl()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return $"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}";
    }
}
