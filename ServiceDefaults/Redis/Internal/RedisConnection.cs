using System.Buffers;
using System.IO.Pipelines;
using System.Net.Security;
using System.Net.Sockets;
using System.Threading.Channels;
using Sessions.Redis.Protocol;

namespace Sessions.Redis.Internal;

/// <summary>
/// One TCP connection after its handshake. Callers append encoded commands to <see cref="_pending"/> (under the
/// multiplexer's lock, together with their reply slot, so byte order and reply order always agree); one writer loop
/// swaps that buffer out and sends it with a single write; one reader loop parses replies and completes slots in order.
/// </summary>
internal sealed class RedisConnection
{
    readonly Socket _socket;
    readonly Stream _stream;
    readonly PipeReader _input;
    readonly Lock _sync;   // the multiplexer's lock: guards _pending
    readonly Channel<bool> _writeSignal = Channel.CreateBounded<bool>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });
    CommandBuffer _pending = new();
    CommandBuffer _sending = new();
    int _broken;

    RedisConnection(Socket socket, Stream stream, PipeReader input, Lock sync)
    {
        _socket = socket;
        _stream = stream;
        _input = input;
        _sync = sync;
    }

    public ReplyQueue Replies { get; } = new();
    public Task ReaderTask { get; private set; } = Task.CompletedTask;
    public Task WriterTask { get; private set; } = Task.CompletedTask;

    /// <summary>Connects, optionally upgrades to TLS, and runs AUTH / SELECT / CLIENT SETNAME / PING before any command.</summary>
    public static async Task<RedisConnection> ConnectAsync(RedisOptions options, Lock sync, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        Stream? stream = null;
        try
        {
            await socket.ConnectAsync(options.Host, options.Port, cancellationToken).ConfigureAwait(false);
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
            stream = new NetworkStream(socket, ownsSocket: true);
            if (options.Ssl)
            {
                var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
                stream = ssl;
                await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
                {
                    TargetHost = options.SslHost ?? options.Host,
                    RemoteCertificateValidationCallback = options.CertificateValidation,
                }, cancellationToken).ConfigureAwait(false);
            }
            var input = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 16 * 1024, minimumReadSize: 4096, leaveOpen: true));
            await HandshakeAsync(stream, input, options, cancellationToken).ConfigureAwait(false);
            return new RedisConnection(socket, stream, input, sync);
        }
        catch
        {
            if (stream is not null) await stream.DisposeAsync().ConfigureAwait(false);
            socket.Dispose();
            throw;
        }
    }

    static async Task HandshakeAsync(Stream stream, PipeReader input, RedisOptions options, CancellationToken cancellationToken)
    {
        var buffer = new CommandBuffer(256);
        var steps = new List<string>(4);
        try
        {
            if (options.Password is { } password)
            {
                RespWriter.WriteCommand(buffer, "AUTH", options.User is { } user ? [user, password] : [password]);
                steps.Add("AUTH");
            }
            if (options.Database != 0)
            {
                RespWriter.WriteCommand(buffer, "SELECT", [options.Database]);
                steps.Add("SELECT");
            }
            if (options.ClientName is { } name)
            {
                RespWriter.WriteCommand(buffer, "CLIENT", ["SETNAME", name]);
                steps.Add("CLIENT SETNAME");
            }
            // PING proves the connection is usable (e.g. reports NOAUTH when a password is required but not configured).
            RespWriter.WriteCommand(buffer, "PING", []);
            steps.Add("PING");
            await stream.WriteAsync(buffer.WrittenMemory, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            buffer.Release();
        }

        var step = 0;
        while (step < steps.Count)
        {
            var read = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
            var data = read.Buffer;
            while (step < steps.Count && RespParser.TryParse(ref data, out var reply))
            {
                // A bad client name is not worth refusing the connection for.
                if (reply.IsError && steps[step] != "CLIENT SETNAME")
                    throw new RedisException($"Redis {steps[step]} failed during the connection handshake: {reply.ErrorMessage}");
                step++;
            }
            input.AdvanceTo(data.Start, data.End);
            if (read.IsCompleted && step < steps.Count) throw new IOException("The server closed the connection during the handshake.");
        }
    }

    /// <summary>Starts the reader and writer loops; <paramref name="onBroken"/> is called once when either fails.</summary>
    public void Start(Action<RedisConnection, Exception> onBroken)
    {
        ReaderTask = Task.Run(() => ReadLoopAsync(onBroken));
        WriterTask = Task.Run(() => WriteLoopAsync(onBroken));
    }

    /// <summary>Encodes a command and records its reply slot. The caller holds the multiplexer's lock.</summary>
    public void Enqueue(string command, ReadOnlySpan<RedisValue> args, ReplySlot slot)
    {
        var wasEmpty = _pending.Length == 0;
        RespWriter.WriteCommand(_pending, command, args);
        Replies.Enqueue(slot);
        if (wasEmpty) _writeSignal.Writer.TryWrite(true);
    }

    /// <summary>Appends an already encoded command (from the backlog). The caller holds the multiplexer's lock.</summary>
    public void EnqueueEncoded(ReadOnlySpan<byte> encoded, ReplySlot slot)
    {
        var wasEmpty = _pending.Length == 0;
        _pending.Write(encoded);
        Replies.Enqueue(slot);
        if (wasEmpty) _writeSignal.Writer.TryWrite(true);
    }

    /// <summary>Closes the socket; both loops then end. Idempotent; returns true the first time.</summary>
    public bool Abort()
    {
        if (Interlocked.Exchange(ref _broken, 1) != 0) return false;
        _writeSignal.Writer.TryComplete();
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }
        _socket.Dispose();
        _input.CancelPendingRead();
        return true;
    }

    async Task ReadLoopAsync(Action<RedisConnection, Exception> onBroken)
    {
        Exception error;
        try
        {
            while (true)
            {
                var read = await _input.ReadAsync().ConfigureAwait(false);
                var buffer = read.Buffer;
                while (RespParser.TryParse(ref buffer, out var reply))
                {
                    if (!Replies.TryDequeue(out var slot)) throw new RedisProtocolException("The server sent a reply nobody asked for.");
                    if (slot.Command.TryClaim(slot.Generation)) slot.Command.Complete(reply);
                }
                _input.AdvanceTo(buffer.Start, buffer.End);
                if (read.IsCompleted || read.IsCanceled)
                {
                    error = new IOException("The server closed the connection.");
                    break;
                }
            }
        }
        catch (Exception e)
        {
            error = e;
        }
        onBroken(this, error);
        await _input.CompleteAsync().ConfigureAwait(false);
        await _stream.DisposeAsync().ConfigureAwait(false);
    }

    async Task WriteLoopAsync(Action<RedisConnection, Exception> onBroken)
    {
        try
        {
            var signal = _writeSignal.Reader;
            while (await signal.WaitToReadAsync().ConfigureAwait(false))
            {
                signal.TryRead(out _);
                // With other commands in flight, go to the back of the thread pool's queue once before taking the
                // batch: callers whose continuations the reader just queued append their next command meanwhile, so one
                // write carries many commands instead of one each (syscalls dominate on a busy machine). A lone caller
                // (nothing else in flight) is sent at once and pays no extra latency.
                if (Replies.Count > 1) await Task.Yield();
                CommandBuffer batch;
                lock (_sync)
                {
                    batch = _pending;
                    _pending = _sending;
                    _sending = batch;
                }
                if (batch.Length == 0) continue;
                // Everything queued since the last write goes out in one call: this is where pipelining pays off.
                await _stream.WriteAsync(batch.WrittenMemory).ConfigureAwait(false);
                batch.Reset();
            }
        }
        catch (Exception e)
        {
            onBroken(this, e);
        }
        finally
        {
            lock (_sync)
            {
                _pending.Release();
                _sending.Release();
            }
        }
    }
}
