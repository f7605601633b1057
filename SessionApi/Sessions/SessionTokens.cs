using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Sessions.SessionApi.Sessions;

/// <summary>
/// Session ids (<c>ses_</c> + 32 random hex) and bearer tokens (<c>st_</c> + base64url of HMAC-SHA256(token key, session id)).
/// Only the token's SHA-256 is stored: a database dump cannot spend anyone's balance. The token is derived, not random, so
/// every answer to the payment that opened the session carries the same one (a retried or replayed open never mints a second).
/// </summary>
public static partial class SessionTokens
{
    public static string NewSessionId() => "ses_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    /// <summary>The token key: derived from the payer-context signing key (SessionApi's only secret; never stored in sessionsdb).</summary>
    public static byte[] TokenKey(string signingKey) =>
        HMACSHA256.HashData(Encoding.UTF8.GetBytes(signingKey), "sessions/session-token/v1"u8);

    public static string TokenOf(string sessionId, byte[] tokenKey) =>
        "st_" + Convert.ToBase64String(HMACSHA256.HashData(tokenKey, Encoding.UTF8.GetBytes(sessionId))).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    public static bool IsSessionId(string? id) => id is not null && SessionIdPattern().IsMatch(id);

    /// <summary>Shape only (<c>st_</c> + 43 base64url characters); anything else cannot be a token we issued.</summary>
    public static bool IsWellFormedToken(string? token) => token is not null && TokenPattern().IsMatch(token);

    [GeneratedRegex("^ses_[0-9a-f]{32}$")]
    private static partial Regex SessionIdPattern();

    [GeneratedRegex("^st_[A-Za-z0-9_-]{43}$")]
    private static partial Regex TokenPattern();
}
