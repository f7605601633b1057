using System.Net;
using System.Net.Sockets;

namespace Sessions.Testing.Local;

public static class PortAllocator
{
    /// <summary>A currently free loopback TCP port (the OS picks it).</summary>
    public static int GetFreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Waits until something accepts TCP connections on 127.0.0.1:<paramref name="port"/>.</summary>
    public static async Task WaitForListenerAsync(int port, ManagedProcess owner, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (owner.HasExited)
                throw new InvalidOperationException($"{owner.Name} exited with code {owner.Exited.Result} before listening on port {port}.");
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(25, cancellationToken).ConfigureAwait(false);
            }
            catch (SocketException e)
            {
                throw new TimeoutException($"{owner.Name} did not listen on port {port} within {timeout.TotalSeconds:0.#} s.", e);
            }
        }
    }
}
