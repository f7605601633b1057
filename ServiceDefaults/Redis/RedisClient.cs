using System.Diagnostics;
using Sessions.Redis.Internal;

namespace Sessions.Redis;

/// <summary>
/// A RESP2 client over one multiplexed, pipelined connection (see the README for the design). The constructor never
/// blocks or throws for connectivity: it connects in the background and reconnects after failures; commands issued
/// meanwhile wait for the connection up to their timeout. Create one per server and share it.
/// </summary>
public sealed partial class RedisClient : IRedisClient, IDisposable
{
    readonly RedisMultiplexer _multiplexer;

    public RedisClient(string connectionString) : this(RedisOptions.Parse(connectionString))
    {
    }

    public RedisClient(RedisOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.CommandTimeout, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.ConnectTimeout, TimeSpan.Zero);
        Options = options;
        _multiplexer = new RedisMultiplexer(options,
            args => Connected?.Invoke(this, args),
            args => ConnectionFailed?.Invoke(this, args));
    }

    /// <summary>
    /// Creates a client; when <see cref="RedisOptions.AbortOnConnectFail"/> is set (<c>abortConnect=true</c>), waits up to
    /// <see cref="RedisOptions.ConnectTimeout"/> for the first connection and throws <see cref="RedisConnectionException"/> without one.
    /// </summary>
    public static async Task<RedisClient> ConnectAsync(RedisOptions options, CancellationToken cancellationToken = default)
    {
        var client = new RedisClient(options);
        if (!options.AbortOnConnectFail) return client;
        var deadline = Stopwatch.GetTimestamp() + (long)(options.ConnectTimeout.TotalSeconds * Stopwatch.Frequency);
        try
        {
            while (!client.IsConnected)
            {
                if (Stopwatch.GetTimestamp() > deadline)
                {
                    var last = client._multiplexer.LastConnectError;
                    throw new RedisConnectionException(client.Endpoint,
                        $"Could not connect to {client.Endpoint} within {options.ConnectTimeout.TotalMilliseconds:0} ms" +
                        (last is null ? "." : $": {last.Message}"), last);
                }
                await Task.Delay(10, cancellationToken).ConfigureAwait(false);
            }
            return client;
        }
        catch
        {
            await client.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public static Task<RedisClient> ConnectAsync(string connectionString, CancellationToken cancellationToken = default) =>
        ConnectAsync(RedisOptions.Parse(connectionString), cancellationToken);

    public RedisOptions Options { get; }
    public string Endpoint => _multiplexer.Endpoint;
    public bool IsConnected => _multiplexer.IsConnected;

    /// <summary>
    /// Raised on a background thread after each successful (re)connection. The first connection starts in the constructor
    /// and can complete before a handler is attached: check <see cref="IsConnected"/> after subscribing.
    /// </summary>
    public event EventHandler<RedisConnectionEventArgs>? Connected;

    /// <summary>Raised on a background thread when the connection breaks and after each failed connect attempt.</summary>
    public event EventHandler<RedisConnectionEventArgs>? ConnectionFailed;

    public ValueTask<RedisResult> ExecuteAsync(string command, params ReadOnlySpan<RedisValue> args) =>
        ExecuteAsync(command, args, CancellationToken.None);

    public ValueTask<RedisResult> ExecuteAsync(string command, ReadOnlySpan<RedisValue> args, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(command);
        return _multiplexer.SendAsync(command, args, Replies.Raw, cancellationToken);
    }

    internal ValueTask<T> SendAsync<T>(string command, ReadOnlySpan<RedisValue> args, ReplyConverter<T> converter, CancellationToken cancellationToken) =>
        _multiplexer.SendAsync(command, args, converter, cancellationToken);

    /// <summary>Closes the connection; unanswered commands fail with <see cref="ObjectDisposedException"/>.</summary>
    public ValueTask DisposeAsync() => _multiplexer.DisposeAsync();

    public void Dispose() => _multiplexer.DisposeAsync().AsTask().GetAwaiter().GetResult();

    public override string ToString() => $"RedisClient {Options}";
}
