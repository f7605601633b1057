using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Sessions.Testing;

namespace ServiceDefaults.Tests.Support;

/// <summary>A <see cref="LoopbackServer"/> answering every request with <c>handler</c> (given the hit's number); counts hits.</summary>
public sealed class HandlerServer : IAsyncDisposable
{
    LoopbackServer _server = null!;
    int _hits;

    public Uri Address { get; private set; } = null!;
    public int Hits => Volatile.Read(ref _hits);

    public static async Task<HandlerServer> StartAsync(Func<HttpContext, int, Task> handler)
    {
        var server = new HandlerServer();
        server._server = await LoopbackServer.StartAsync(app => app.Run(context => handler(context, Interlocked.Increment(ref server._hits))));
        server.Address = new Uri(server._server.Url);
        return server;
    }

    public ValueTask DisposeAsync() => _server.DisposeAsync();
}
