using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Sessions.SessionApi.Webhooks;

/// <summary>
/// <c>Webhook-Signature: t=&lt;unix seconds&gt;,v1=&lt;hex HMAC-SHA256(secret, "{t}.{raw body}")&gt;</c>. The key is the
/// UTF-8 bytes of the whole secret (<c>whsec_…</c>). The timestamp is the time of the attempt, inside the signature, so
/// a captured request cannot be replayed after the receiver's tolerance; the body is the same on every attempt.
/// <see cref="Verify"/> is what a .NET receiver runs (README.md has the same in Node).
/// </summary>
public static class WebhookSignature
{
    public const string SignatureHeader = "Webhook-Signature";
    public const string IdHeader = "Webhook-Id";
    public const string EventHeader = "Webhook-Event";
    public const string AttemptHeader = "Webhook-Attempt";

    /// <summary>How far a receiver should accept the signature's timestamp from its own clock.</summary>
    public static readonly TimeSpan DefaultTolerance = TimeSpan.FromSeconds(300);

    public static string NewSecret() =>
        "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static string Sign(string secret, long timestamp, ReadOnlySpan<byte> body) =>
        $"t={timestamp.ToString(CultureInfo.InvariantCulture)},v1={Compute(secret, timestamp, body)}";

    /// <summary>
    /// True when <paramref name="header"/> carries a <c>v1</c> signature of <paramref name="body"/> with
    /// <paramref name="secret"/> and its <c>t</c> is within <paramref name="tolerance"/> of <paramref name="now"/>.
    /// Several <c>v1</c> entries are allowed (a sender rotating secrets); unknown schemes are ignored.
    /// </summary>
    public static bool Verify(string secret, string? header, ReadOnlySpan<byte> body, DateTimeOffset now, TimeSpan? tolerance = null)
    {
        if (string.IsNullOrEmpty(header)) return false;
        long? timestamp = null;
        var signatures = new List<string>();
        foreach (var part in header.Split(',', StringSplitOptions.TrimEntries))
        {
            var equals = part.IndexOf('=');
            if (equals <= 0) continue;
            var (key, value) = (part[..equals], part[(equals + 1)..]);
            if (key == "t" && long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var t)) timestamp = t;
            else if (key == "v1") signatures.Add(value);
        }
        if (timestamp is not { } ts || signatures.Count == 0) return false;
        if (Math.Abs(now.ToUnixTimeSeconds() - ts) > (tolerance ?? DefaultTolerance).TotalSeconds) return false;
        var expected = Encoding.ASCII.GetBytes(Compute(secret, ts, body));
        var match = false;
        foreach (var signature in signatures)
            match |= CryptographicOperations.FixedTimeEquals(expected, Encoding.ASCII.GetBytes(signature.ToLowerInvariant()));
        return match;
    }

    static string Compute(string secret, long timestamp, ReadOnlySpan<byte> body)
    {
        var prefix = Encoding.UTF8.GetBytes(timestamp.ToString(CultureInfo.InvariantCulture) + ".");
        var message = new byte[prefix.Length + body.Length];
        prefix.CopyTo(message, 0);
        body.CopyTo(message.AsSpan(prefix.Length));
        return Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), message));
    }
}
