using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Tasks.Sources;

namespace Sessions.Redis.Internal;

/// <summary>Turns a reply into the caller's type; runs on the reader loop, so it must be quick and must not block.</summary>
internal delegate T ReplyConverter<T>(RedisResult reply);

/// <summary>
/// One command awaiting its reply. Instances are pooled and reused, so every party that may complete a command
/// (the reader, the timeout scan, a cancellation callback, a broken connection) names the generation it saw;
/// only the first claim on the current generation wins, and a stale claim on a recycled instance is a no-op.
/// </summary>
internal abstract class PendingCommand
{
    int _state;   // generation << 1 | 1 once claimed
    Activity? _activity;
    long _startTimestamp;
    RedisEndpointInfo? _endpoint;

    public string Command { get; private set; } = "";
    public long DeadlineTicks { get; private set; }   // Environment.TickCount64 milliseconds
    public TimeSpan Timeout { get; private set; }

    public int Generation => Volatile.Read(ref _state) >> 1;

    public bool IsPending(int generation) => Volatile.Read(ref _state) == generation << 1;

    /// <summary>Claims the right to complete this use of the command; exactly one claim per generation succeeds.</summary>
    public bool TryClaim(int generation) =>
        Interlocked.CompareExchange(ref _state, (generation << 1) | 1, generation << 1) == generation << 1;

    protected int BeginUse(string command, TimeSpan timeout, RedisEndpointInfo endpoint)
    {
        var generation = ((_state >> 1) + 1) & 0x3FFF_FFFF;
        Volatile.Write(ref _state, generation << 1);
        Command = command;
        Timeout = timeout;
        DeadlineTicks = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        _endpoint = endpoint;
        _activity = RedisTelemetry.StartCommandActivity(command, endpoint);
        _startTimestamp = _activity is not null || RedisTelemetry.OperationDuration.Enabled ? Stopwatch.GetTimestamp() : 0;
        return generation;
    }

    /// <summary>Completes with a reply (after a successful <see cref="TryClaim"/>); error replies become <see cref="RedisServerException"/>.</summary>
    public void Complete(RedisResult reply)
    {
        if (reply.IsError)
        {
            Fail(new RedisServerException(reply.ErrorMessage!));
            return;
        }
        SetReply(reply);
    }

    /// <summary>Fails the command (after a successful <see cref="TryClaim"/>).</summary>
    public abstract void Fail(Exception error);

    protected abstract void SetReply(RedisResult reply);

    /// <summary>Stops telemetry; must run before the result is published, since the caller may recycle the instance right after.</summary>
    protected void RecordCompletion(Exception? error)
    {
        if (_activity is { } activity)
        {
            _activity = null;
            RedisTelemetry.StopCommandActivity(activity, error);
        }
        if (_startTimestamp != 0 && RedisTelemetry.OperationDuration.Enabled)
            RedisTelemetry.RecordDuration(_startTimestamp, Command, _endpoint!, error);
    }

    protected void ClearUse()
    {
        _activity = null;
        _endpoint = null;
        Command = "";
    }
}

internal sealed class PendingCommand<T> : PendingCommand, IValueTaskSource<T>
{
    const int MaxPooled = 1024;
    static readonly ConcurrentQueue<PendingCommand<T>> Pool = new();
    static int _pooledCount;

    // Continuations run on the thread pool: user code must never run on (and stall) the reader loop.
    ManualResetValueTaskSourceCore<T> _core = new() { RunContinuationsAsynchronously = true };
    ReplyConverter<T>? _converter;
    CancellationTokenRegistration _cancellation;

    public static PendingCommand<T> Rent()
    {
        if (Pool.TryDequeue(out var pending))
        {
            Interlocked.Decrement(ref _pooledCount);
            return pending;
        }
        return new PendingCommand<T>();
    }

    public short Version => _core.Version;

    public int Begin(string command, ReplyConverter<T> converter, TimeSpan timeout, RedisEndpointInfo endpoint)
    {
        _converter = converter;
        return BeginUse(command, timeout, endpoint);
    }

    public void RegisterCancellation(CancellationToken cancellationToken) =>
        _cancellation = cancellationToken.UnsafeRegister(static (state, token) =>
        {
            var pending = (PendingCommand<T>)state!;
            // The registration is disposed before the instance is recycled, so the current generation is ours.
            if (pending.TryClaim(pending.Generation)) pending.Fail(new OperationCanceledException($"Redis {pending.Command} was cancelled.", token));
        }, this);

    protected override void SetReply(RedisResult reply)
    {
        T value;
        try
        {
            value = _converter!(reply);
        }
        catch (Exception e)
        {
            Fail(e);
            return;
        }
        RecordCompletion(null);
        _core.SetResult(value);
    }

    public override void Fail(Exception error)
    {
        RecordCompletion(error);
        _core.SetException(error);
    }

    public T GetResult(short token)
    {
        if (token != _core.Version) throw new InvalidOperationException("A Redis command result was awaited twice.");
        try
        {
            return _core.GetResult(token);
        }
        finally
        {
            Recycle();
        }
    }

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);

    void Recycle()
    {
        _cancellation.Dispose();
        _cancellation = default;
        _converter = null;
        ClearUse();
        _core.Reset();
        if (Interlocked.Increment(ref _pooledCount) <= MaxPooled) Pool.Enqueue(this);
        else Interlocked.Decrement(ref _pooledCount);
    }
}
