using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace ServiceDefaults.Tests.Telemetry;

/// <summary>
/// A loopback OTLP/HTTP receiver (http/protobuf): keeps every POST /v1/{traces,metrics,logs} body. HttpListener,
/// not Kestrel, so the sink's own requests produce no ASP.NET Core spans in the process under test.
/// </summary>
public sealed class OtlpSink : IAsyncDisposable
{
    readonly HttpListener _listener = new();
    readonly Task _loop;
    readonly ConcurrentQueue<(string Path, string? ContentType, byte[] Body)> _requests = new();
    readonly SemaphoreSlim _received = new(0);

    public OtlpSink()
    {
        // HttpListener cannot bind port 0: take a free port from the OS first.
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        Endpoint = new Uri($"http://127.0.0.1:{port}");
        _listener.Prefixes.Add($"{Endpoint}");
        _listener.Start();
        _loop = Task.Run(AcceptLoopAsync);
    }

    /// <summary>Base address for OTEL_EXPORTER_OTLP_ENDPOINT (the exporter appends /v1/traces).</summary>
    public Uri Endpoint { get; }

    public IReadOnlyList<(string Path, string? ContentType, byte[] Body)> Requests => [.. _requests];

    public IReadOnlyList<byte[]> TraceBatches => [.. _requests.Where(r => r.Path == "/v1/traces").Select(r => r.Body)];

    /// <summary>Waits until a trace batch matching <paramref name="predicate"/> arrived (or the timeout passed).</summary>
    public async Task<bool> WaitForTraceAsync(Func<byte[], bool> predicate, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (TraceBatches.Any(predicate))
                return true;
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero || !await _received.WaitAsync(left))
                return TraceBatches.Any(predicate);
        }
    }

    async Task AcceptLoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try { context = await _listener.GetContextAsync(); }
            catch (Exception) when (!_listener.IsListening) { return; }
            catch (HttpListenerException) { return; }
            catch (ObjectDisposedException) { return; }

            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body);
            _requests.Enqueue((context.Request.Url!.AbsolutePath, context.Request.ContentType, body.ToArray()));
            // An empty ExportTraceServiceResponse is a valid protobuf answer.
            context.Response.StatusCode = 200;
            context.Response.ContentType = "application/x-protobuf";
            context.Response.Close();
            _received.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        try { await _loop; } catch (ObjectDisposedException) { }
    }
}
