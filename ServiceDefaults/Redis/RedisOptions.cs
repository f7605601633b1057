using System.Globalization;
using System.Net.Security;

namespace Sessions.Redis;

/// <summary>
/// Where and how to connect. Parse a connection string with <see cref="Parse"/>: Aspire's <c>host:port[,password=...]</c>,
/// plus the StackExchange.Redis options listed in the README; unknown options are ignored.
/// </summary>
public sealed record RedisOptions
{
    public const int DefaultPort = 6379;

    public string Host { get; init; } = "localhost";
    public int Port { get; init; } = DefaultPort;
    public string? User { get; init; }
    public string? Password { get; init; }
    /// <summary>Database selected with SELECT on every (re)connect; 0 sends no SELECT.</summary>
    public int Database { get; init; }
    /// <summary>Sent with CLIENT SETNAME on every (re)connect.</summary>
    public string? ClientName { get; init; }
    /// <summary>Per-attempt limit for the TCP connect plus the AUTH/SELECT handshake.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>Per-command limit, from enqueue to reply, including any wait for a reconnection.</summary>
    public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>
    /// Only used by <see cref="RedisClient.ConnectAsync(RedisOptions, CancellationToken)"/>: when true it waits for the first
    /// connection and throws if there is none. The constructor and the DI integration never block or throw.
    /// </summary>
    public bool AbortOnConnectFail { get; init; }
    public bool Ssl { get; init; }
    /// <summary>Server name expected in the TLS certificate; defaults to <see cref="Host"/>.</summary>
    public string? SslHost { get; init; }
    /// <summary>Custom TLS certificate validation (e.g. a private CA); null uses the system trust store.</summary>
    public RemoteCertificateValidationCallback? CertificateValidation { get; init; }
    /// <summary>First delay between reconnect attempts; doubles per failed attempt up to <see cref="ReconnectMaxDelay"/>.</summary>
    public TimeSpan ReconnectBaseDelay { get; init; } = TimeSpan.FromMilliseconds(100);
    public TimeSpan ReconnectMaxDelay { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary><c>host:port</c> (IPv6 hosts in brackets).</summary>
    public string Endpoint => Host.Contains(':') ? $"[{Host}]:{Port}" : $"{Host}:{Port}";

    /// <summary>Parses <c>host[:port][,option=value...]</c>.</summary>
    /// <exception cref="ArgumentException">No endpoint, a malformed port or a malformed option value.</exception>
    /// <exception cref="NotSupportedException">More than one endpoint.</exception>
    public static RedisOptions Parse(string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        var options = new RedisOptions();
        string? endpoint = null;
        foreach (var rawPart in connectionString.Split(','))
        {
            var part = rawPart.Trim();
            if (part.Length == 0) continue;
            var equals = part.IndexOf('=');
            if (equals < 0)
            {
                if (endpoint is not null)
                    throw new NotSupportedException($"Only one Redis endpoint is supported; got '{endpoint}' and '{part}'.");
                endpoint = part;
                continue;
            }
            var key = part[..equals].Trim();
            var value = part[(equals + 1)..].Trim();
            options = key.ToLowerInvariant() switch
            {
                "password" => options with { Password = value.Length == 0 ? null : value },
                "user" => options with { User = value.Length == 0 ? null : value },
                "abortconnect" => options with { AbortOnConnectFail = ParseBool(key, value) },
                "connecttimeout" => options with { ConnectTimeout = ParseMilliseconds(key, value) },
                // StackExchange.Redis has separate sync and async timeouts; this client only has async commands.
                "synctimeout" or "asynctimeout" => options with { CommandTimeout = ParseMilliseconds(key, value) },
                "defaultdatabase" => options with { Database = ParseInt(key, value, min: 0) },
                "ssl" => options with { Ssl = ParseBool(key, value) },
                "sslhost" => options with { SslHost = value.Length == 0 ? null : value },
                "name" => options with { ClientName = value.Length == 0 ? null : value },
                _ => options,
            };
        }
        if (endpoint is null) throw new ArgumentException("The Redis connection string has no host.", nameof(connectionString));
        var (host, port) = ParseEndpoint(endpoint);
        return options with { Host = host, Port = port };
    }

    /// <summary>The connection string without secrets, for logs and error messages.</summary>
    public override string ToString() =>
        Endpoint + (Password is null ? "" : ",password=*****") + (Database == 0 ? "" : $",defaultDatabase={Database}") + (Ssl ? ",ssl=true" : "");

    static (string Host, int Port) ParseEndpoint(string endpoint)
    {
        string host;
        string? port = null;
        if (endpoint.StartsWith('['))
        {
            var close = endpoint.IndexOf(']');
            if (close < 0) throw new ArgumentException($"Malformed Redis endpoint '{endpoint}'.");
            host = endpoint[1..close];
            if (close + 1 < endpoint.Length)
            {
                if (endpoint[close + 1] != ':') throw new ArgumentException($"Malformed Redis endpoint '{endpoint}'.");
                port = endpoint[(close + 2)..];
            }
        }
        else
        {
            var colon = endpoint.LastIndexOf(':');
            // More than one colon without brackets is a bare IPv6 address.
            if (colon < 0 || endpoint.IndexOf(':') != colon) host = endpoint;
            else
            {
                host = endpoint[..colon];
                port = endpoint[(colon + 1)..];
            }
        }
        if (host.Length == 0) throw new ArgumentException($"Malformed Redis endpoint '{endpoint}': no host.");
        return (host, port is null ? DefaultPort : ParseInt("port", port, min: 1, max: 65535));
    }

    static bool ParseBool(string key, string value) =>
        bool.TryParse(value, out var result) ? result : throw new ArgumentException($"Redis option '{key}' expects true or false, got '{value}'.");

    static TimeSpan ParseMilliseconds(string key, string value) => TimeSpan.FromMilliseconds(ParseInt(key, value, min: 1));

    static int ParseInt(string key, string value, int min, int max = int.MaxValue) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var result) && result >= min && result <= max
            ? result
            : throw new ArgumentException($"Redis option '{key}' expects an integer in [{min}, {max}], got '{value}'.");
}
