using System.Security.Cryptography;
using System.Text;

namespace Sessions.Redis;

/// <summary>
/// A Lua script with its SHA1 computed once. <see cref="IRedisClient.EvaluateAsync"/> sends EVALSHA (the digest, not the
/// source) and re-sends the source with EVAL only when the server lost its script cache (restart, SCRIPT FLUSH).
/// Create one instance per script and keep it (e.g. in a static field).
/// </summary>
public sealed class LuaScript
{
    long _reloadCount;

    public LuaScript(string source)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(source);
        Source = source;
        Sha1 = Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes(source)));
    }

    public string Source { get; }

    /// <summary>Lower-case hex SHA1 of the UTF-8 source, as Redis computes it.</summary>
    public string Sha1 { get; }

    /// <summary>How many times a NOSCRIPT reply made the client re-send the source.</summary>
    public long ReloadCount => Interlocked.Read(ref _reloadCount);

    internal void OnReloaded() => Interlocked.Increment(ref _reloadCount);

    public override string ToString() => $"LuaScript {Sha1}";
}
