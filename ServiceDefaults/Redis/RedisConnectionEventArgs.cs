namespace Sessions.Redis;

public enum RedisConnectionEventKind
{
    /// <summary>A connection (first or after an outage) completed its handshake.</summary>
    Connected,
    /// <summary>An established connection broke; in-flight commands failed.</summary>
    ConnectionLost,
    /// <summary>A connect or handshake attempt failed; another follows after a back-off delay.</summary>
    ConnectAttemptFailed,
}

public sealed class RedisConnectionEventArgs(string endpoint, RedisConnectionEventKind kind, Exception? exception, int attempt) : EventArgs
{
    public string Endpoint { get; } = endpoint;
    public RedisConnectionEventKind Kind { get; } = kind;
    public Exception? Exception { get; } = exception;
    /// <summary>1-based attempt number within the current (re)connect cycle; 0 for <see cref="RedisConnectionEventKind.ConnectionLost"/>.</summary>
    public int Attempt { get; } = attempt;
}
