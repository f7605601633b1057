namespace Sessions.Redis;

/// <summary>Base type of the errors this client raises (timeouts derive from <see cref="TimeoutException"/> instead, like StackExchange.Redis).</summary>
public class RedisException : Exception
{
    public RedisException(string message) : base(message) { }
    public RedisException(string message, Exception? innerException) : base(message, innerException) { }
}

/// <summary>The server answered with an error reply (<c>-ERR ...</c>, <c>-WRONGTYPE ...</c>, <c>-NOSCRIPT ...</c>).</summary>
public sealed class RedisServerException : RedisException
{
    public RedisServerException(string message) : base(message) { }

    /// <summary>The first word of the server's message, e.g. <c>ERR</c>, <c>WRONGTYPE</c>, <c>NOSCRIPT</c>.</summary>
    public string ErrorCode
    {
        get
        {
            var space = Message.IndexOf(' ');
            return space < 0 ? Message : Message[..space];
        }
    }
}

/// <summary>
/// No usable connection: the socket broke while the command was in flight (it may or may not have run),
/// or no connection could be (re)established within the command's timeout (it was never sent).
/// </summary>
public sealed class RedisConnectionException : RedisException
{
    public RedisConnectionException(string endpoint, string message, Exception? innerException = null)
        : base(message, innerException) => Endpoint = endpoint;

    public string Endpoint { get; }
}

/// <summary>No reply arrived within the command timeout; the command was sent and may still run on the server.</summary>
public sealed class RedisTimeoutException : TimeoutException
{
    public RedisTimeoutException(string command, TimeSpan timeout, string endpoint, string message) : base(message)
    {
        Command = command;
        Timeout = timeout;
        Endpoint = endpoint;
    }

    public string Command { get; }
    public TimeSpan Timeout { get; }
    public string Endpoint { get; }
}

/// <summary>The server sent bytes that are not valid RESP2; the connection is dropped and re-established.</summary>
public sealed class RedisProtocolException : RedisException
{
    public RedisProtocolException(string message) : base(message) { }
}
