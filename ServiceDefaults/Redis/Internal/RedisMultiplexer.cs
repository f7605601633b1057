using Sessions.Redis.Protocol;

namespace Sessions.Redis.Internal;

/// <summary>
/// Owns the one connection shared by all callers: routes commands to it (or to a backlog while disconnected),
/// reconnects with capped exponential back-off, expires commands past their deadline, and fails everything on disposal.
/// </summary>
internal sealed class RedisMultiplexer : IAsyncDisposable
{
    /// <summary>A command encoded while there was no connection; sent after the next handshake unless it expired first.</summary>
    readonly record struct BacklogEntry(ReplySlot Slot, CommandBuffer Encoded);

    readonly RedisOptions _options;
    readonly RedisEndpointInfo _endpoint;
    readonly Lock _sync = new();
    readonly List<BacklogEntry> _backlog = [];           // guarded by _sync
    readonly CancellationTokenSource _disposing = new();
    readonly Timer _timeoutTimer;
    readonly List<ReplySlot> _expiredSlots = [];        // only used by the (non-reentrant) timeout scan
    readonly List<BacklogEntry> _expiredBacklog = [];
    RedisConnection? _connection;                       // guarded by _sync; null while disconnected
    Task? _connectLoop;                                 // guarded by _sync; non-null while (re)connecting
    readonly List<Task> _connectionTasks = [];          // guarded by _sync; loops of every connection, awaited on disposal
    volatile Exception? _lastConnectError;
    volatile bool _disposed;
    int _scanning;

    public RedisMultiplexer(RedisOptions options, Action<RedisConnectionEventArgs>? onConnected, Action<RedisConnectionEventArgs>? onConnectionFailed)
    {
        _options = options;
        _endpoint = new RedisEndpointInfo(options.Host, options.Port, options.Database);
        OnConnected = onConnected;
        OnConnectionFailed = onConnectionFailed;
        // Timeouts are checked by one periodic scan rather than a timer per command: a tenth of the timeout is precise enough.
        var scanInterval = TimeSpan.FromMilliseconds(Math.Clamp(options.CommandTimeout.TotalMilliseconds / 10, 5, 100));
        using (ExecutionContext.SuppressFlow())
        {
            _timeoutTimer = new Timer(static state => ((RedisMultiplexer)state!).ExpireCommands(), this, scanInterval, scanInterval);
            lock (_sync) _connectLoop = Task.Run(ConnectLoopAsync);
        }
    }

    Action<RedisConnectionEventArgs>? OnConnected { get; }
    Action<RedisConnectionEventArgs>? OnConnectionFailed { get; }

    public string Endpoint => _endpoint.Endpoint;
    public bool IsConnected => Volatile.Read(ref _connection) is not null;
    public Exception? LastConnectError => _lastConnectError;

    /// <summary>
    /// Encodes and queues one command; completes when its reply arrives. Never blocks: the arguments are encoded before
    /// this returns, so they may live on the caller's stack.
    /// </summary>
    public ValueTask<T> SendAsync<T>(string command, ReadOnlySpan<RedisValue> args, ReplyConverter<T> converter, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested) return ValueTask.FromCanceled<T>(cancellationToken);
        if (_disposed) return ValueTask.FromException<T>(DisposedError(command));

        var pending = PendingCommand<T>.Rent();
        var generation = pending.Begin(command, converter, _options.CommandTimeout, _endpoint);
        var version = pending.Version;
        var slot = new ReplySlot(pending, generation);
        var accepted = true;
        lock (_sync)
        {
            if (_disposed) accepted = false;
            else if (_connection is { } connection) connection.Enqueue(command, args, slot);
            else
            {
                var encoded = new CommandBuffer(256);
                RespWriter.WriteCommand(encoded, command, args);
                _backlog.Add(new BacklogEntry(slot, encoded));
            }
        }
        if (!accepted)
        {
            if (pending.TryClaim(generation)) pending.Fail(DisposedError(command));
        }
        else if (cancellationToken.CanBeCanceled)
        {
            pending.RegisterCancellation(cancellationToken);
        }
        return new ValueTask<T>(pending, version);
    }

    async Task ConnectLoopAsync()
    {
        var attempt = 0;
        while (!_disposed)
        {
            if (attempt > 0)
            {
                try
                {
                    await Task.Delay(ReconnectDelay(attempt), _disposing.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
            attempt++;
            RedisConnection connection;
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_disposing.Token);
                timeout.CancelAfter(_options.ConnectTimeout);
                try
                {
                    connection = await RedisConnection.ConnectAsync(_options, _sync, timeout.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!_disposing.IsCancellationRequested)
                {
                    throw new TimeoutException($"Connecting to {Endpoint} timed out after {_options.ConnectTimeout.TotalMilliseconds:0} ms.");
                }
            }
            catch (Exception e) when (!_disposed)
            {
                _lastConnectError = e;
                Raise(OnConnectionFailed, new RedisConnectionEventArgs(Endpoint, RedisConnectionEventKind.ConnectAttemptFailed, e, attempt));
                continue;
            }
            catch
            {
                return;
            }
            if (!TryInstall(connection))
            {
                connection.Abort();
                return;
            }
            Raise(OnConnected, new RedisConnectionEventArgs(Endpoint, RedisConnectionEventKind.Connected, null, attempt));
            return;
        }
    }

    /// <summary>The first retry is immediate (a restart is usually quick), then doubling delays with ±20 % jitter.</summary>
    TimeSpan ReconnectDelay(int attempt)
    {
        if (attempt == 1) return TimeSpan.Zero;
        var exponential = _options.ReconnectBaseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempt - 2, 20));
        var capped = Math.Min(exponential, _options.ReconnectMaxDelay.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(capped * (0.8 + Random.Shared.NextDouble() * 0.4));
    }

    /// <summary>Makes a handshaken connection current and sends the backlog first, preserving the callers' order.</summary>
    bool TryInstall(RedisConnection connection)
    {
        lock (_sync)
        {
            if (_disposed) return false;
            foreach (var entry in _backlog)
            {
                if (entry.Slot.Command.IsPending(entry.Slot.Generation)) connection.EnqueueEncoded(entry.Encoded.WrittenSpan, entry.Slot);
                entry.Encoded.Release();
            }
            _backlog.Clear();
            _lastConnectError = null;
            connection.Start(OnConnectionBroken);
            _connectionTasks.RemoveAll(static t => t.IsCompleted);
            _connectionTasks.Add(connection.ReaderTask);
            _connectionTasks.Add(connection.WriterTask);
            Volatile.Write(ref _connection, connection);
            _connectLoop = null;
            return true;
        }
    }

    void OnConnectionBroken(RedisConnection connection, Exception error)
    {
        lock (_sync)
        {
            if (_connection != connection) return;   // already handled (or disposed)
            Volatile.Write(ref _connection, null);
        }
        connection.Abort();
        var lost = new RedisConnectionException(Endpoint,
            $"The connection to {Endpoint} was lost; the command may or may not have been executed. ({error.GetType().Name}: {error.Message})", error);
        FailAll(connection.Replies, lost);
        Raise(OnConnectionFailed, new RedisConnectionEventArgs(Endpoint, RedisConnectionEventKind.ConnectionLost, error, 0));
        // Reconnecting starts after "lost" was raised, so that observers never see an attempt fail before the loss it follows.
        // Nothing else starts the loop while there is no connection: commands wait in the backlog meanwhile.
        lock (_sync)
        {
            if (!_disposed && _connection is null)
            {
                using (ExecutionContext.SuppressFlow()) _connectLoop ??= Task.Run(ConnectLoopAsync);
            }
        }
    }

    static void FailAll(ReplyQueue replies, Exception error)
    {
        var drained = new List<ReplySlot>();
        replies.DrainTo(drained);
        foreach (var slot in drained)
        {
            if (slot.Command.TryClaim(slot.Generation)) slot.Command.Fail(error);
        }
    }

    /// <summary>Periodic scan: fails sent commands past their deadline (their slots stay) and drops expired backlog entries.</summary>
    void ExpireCommands()
    {
        if (Interlocked.Exchange(ref _scanning, 1) != 0) return;
        try
        {
            var now = Environment.TickCount64;
            RedisConnection? connection;
            lock (_sync)
            {
                connection = _connection;
                if (_backlog.Count > 0)
                {
                    _backlog.RemoveAll(entry =>
                    {
                        var command = entry.Slot.Command;
                        if (command.IsPending(entry.Slot.Generation) && command.DeadlineTicks > now) return false;
                        _expiredBacklog.Add(entry);
                        return true;
                    });
                }
            }
            foreach (var entry in _expiredBacklog)
            {
                entry.Encoded.Release();
                var command = entry.Slot.Command;
                if (command.TryClaim(entry.Slot.Generation)) command.Fail(NotConnectedError(command));
            }
            _expiredBacklog.Clear();

            if (connection is null) return;
            connection.Replies.CollectExpired(now, _expiredSlots);
            foreach (var slot in _expiredSlots)
            {
                var command = slot.Command;
                if (command.TryClaim(slot.Generation))
                {
                    command.Fail(new RedisTimeoutException(command.Command, command.Timeout, Endpoint,
                        $"Redis {command.Command} timed out after {command.Timeout.TotalMilliseconds:0} ms waiting for a reply from {Endpoint} " +
                        $"({connection.Replies.Count} commands awaiting replies). It was sent and may still run; its reply slot is kept so later replies still match."));
                }
            }
            _expiredSlots.Clear();
        }
        finally
        {
            Volatile.Write(ref _scanning, 0);
        }
    }

    RedisConnectionException NotConnectedError(PendingCommand command)
    {
        var last = _lastConnectError;
        var reason = last is null ? "no connection attempt has completed yet" : $"last connect error: {last.GetType().Name}: {last.Message}";
        return new RedisConnectionException(Endpoint,
            $"Redis {command.Command} was not sent: no connection to {Endpoint} within {command.Timeout.TotalMilliseconds:0} ms ({reason}).", last);
    }

    ObjectDisposedException DisposedError(string command) =>
        new(nameof(RedisClient), $"The Redis client for {Endpoint} was disposed; {command} may or may not have been executed.");

    static void Raise(Action<RedisConnectionEventArgs>? handler, RedisConnectionEventArgs args)
    {
        try
        {
            handler?.Invoke(args);
        }
        catch (Exception)
        {
            // An event handler's failure must not take the connection loops down.
        }
    }

    /// <summary>Closes the socket, stops reconnecting and fails every unanswered command with <see cref="ObjectDisposedException"/>.</summary>
    public async ValueTask DisposeAsync()
    {
        RedisConnection? connection;
        BacklogEntry[] backlog;
        Task[] loops;
        lock (_sync)
        {
            if (_disposed) return;
            _disposed = true;
            connection = _connection;
            Volatile.Write(ref _connection, null);
            backlog = [.. _backlog];
            _backlog.Clear();
            loops = [.. _connectionTasks, _connectLoop ?? Task.CompletedTask];
        }
        _disposing.Cancel();
        await _timeoutTimer.DisposeAsync().ConfigureAwait(false);
        if (connection is not null)
        {
            connection.Abort();
            var disposed = new ObjectDisposedException(nameof(RedisClient), $"The Redis client for {Endpoint} was disposed; the command may or may not have been executed.");
            FailAll(connection.Replies, disposed);
        }
        foreach (var entry in backlog)
        {
            entry.Encoded.Release();
            if (entry.Slot.Command.TryClaim(entry.Slot.Generation)) entry.Slot.Command.Fail(DisposedError(entry.Slot.Command.Command));
        }
        try
        {
            await Task.WhenAll(loops).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The loops report their failures through the commands they fail; nothing more to surface here.
        }
        _disposing.Dispose();
    }
}
