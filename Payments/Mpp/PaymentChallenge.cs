using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Sessions.Payments.Mpp;

/// <summary>
/// One MPP challenge: <c>WWW-Authenticate: Payment id="..", realm="..", method="..", intent="..",
/// request="&lt;base64url JCS JSON&gt;"[, description][, digest][, expires][, opaque]</c>.
/// <see cref="Request"/> and <see cref="Opaque"/> hold the base64url text exactly as on the wire.
/// </summary>
public sealed record PaymentChallenge
{
    public const string Scheme = "Payment";

    public required string Id { get; init; }
    public required string Realm { get; init; }
    public required string Method { get; init; }
    public required string Intent { get; init; }
    public required string Request { get; init; }
    public string? Description { get; init; }
    /// <summary>Body digest, "sha-256=..." when present.</summary>
    public string? Digest { get; init; }
    /// <summary>RFC 3339 timestamp.</summary>
    public string? Expires { get; init; }
    public string? Opaque { get; init; }

    /// <summary>
    /// A challenge whose id is the stateless HMAC binding of its contents (see <see cref="ChallengeId"/>).
    /// <paramref name="request"/> and <paramref name="opaque"/> are canonicalized (JCS) and base64url-encoded.
    /// </summary>
    public static PaymentChallenge Create(ReadOnlySpan<byte> secret, string realm, string method, string intent, JsonElement request,
        string? expires = null, string? digest = null, string? description = null, JsonElement? opaque = null)
    {
        var requestB64 = Base64Url.Encode(Jcs.CanonicalizeToUtf8(request));
        var opaqueB64 = opaque is { } o ? Base64Url.Encode(Jcs.CanonicalizeToUtf8(o)) : null;
        return new PaymentChallenge
        {
            Id = ChallengeId.Compute(secret, realm, method, intent, requestB64, expires, digest, opaqueB64),
            Realm = realm,
            Method = method,
            Intent = intent,
            Request = requestB64,
            Description = description,
            Digest = digest,
            Expires = expires,
            Opaque = opaqueB64,
        };
    }

    /// <summary>The WWW-Authenticate value, parameters in mppx's order.</summary>
    public string ToHeaderValue()
    {
        var parameters = new List<KeyValuePair<string, string>>
        {
            new("id", Id), new("realm", Realm), new("method", Method), new("intent", Intent), new("request", Request),
        };
        if (Description is not null) parameters.Add(new("description", Description));
        if (Digest is not null) parameters.Add(new("digest", Digest));
        if (Expires is not null) parameters.Add(new("expires", Expires));
        if (Opaque is not null) parameters.Add(new("opaque", Opaque));
        return AuthParams.Format(Scheme, parameters);
    }

    /// <summary>Every Payment challenge in a WWW-Authenticate value (other schemes are skipped).</summary>
    public static bool TryParseHeader(string? headerValue, out IReadOnlyList<PaymentChallenge> challenges, out string? error)
    {
        challenges = [];
        if (!AuthParams.TryParse(headerValue, out var parsed, out error))
            return false;
        var result = new List<PaymentChallenge>();
        foreach (var candidate in parsed.Where(c => c.Scheme.Equals(Scheme, StringComparison.OrdinalIgnoreCase)))
        {
            if (!TryFrom(candidate, out var challenge, out error))
                return false;
            result.Add(challenge!);
        }
        challenges = result;
        return true;
    }

    public static bool TryFrom(AuthChallenge parsed, out PaymentChallenge? challenge, out string? error)
    {
        challenge = null;
        var p = parsed.Parameters;
        foreach (var name in new[] { "id", "realm", "method", "intent", "request" })
        {
            if (!p.TryGetValue(name, out var value) || value.Length == 0)
            {
                error = $"Payment challenge lacks '{name}'";
                return false;
            }
        }
        challenge = new PaymentChallenge
        {
            Id = p["id"], Realm = p["realm"], Method = p["method"], Intent = p["intent"], Request = p["request"],
            Description = p.GetValueOrDefault("description"),
            Digest = p.GetValueOrDefault("digest"),
            Expires = p.GetValueOrDefault("expires"),
            Opaque = p.GetValueOrDefault("opaque"),
        };
        error = null;
        return true;
    }

    /// <summary>True if <see cref="Id"/> is the HMAC of this challenge's contents under <paramref name="secret"/>.</summary>
    public bool HasValidId(ReadOnlySpan<byte> secret) =>
        ChallengeId.FixedTimeEquals(Id, ChallengeId.Compute(secret, Realm, Method, Intent, Request, Expires, Digest, Opaque));
}

/// <summary>
/// The recommended stateless challenge id (draft-httpauth-payment, mppx Challenge.computeId):
/// base64url(HMAC-SHA256(secret, realm|method|intent|request_b64|expires|digest|opaque_b64)), always
/// seven slots, an empty string for each absent one, so (expires, no digest) and (no expires, digest)
/// cannot collide.
/// </summary>
public static class ChallengeId
{
    public static string Compute(ReadOnlySpan<byte> secret, string realm, string method, string intent, string requestB64,
        string? expires, string? digest, string? opaqueB64)
    {
        var input = string.Join('|', realm, method, intent, requestB64, expires ?? "", digest ?? "", opaqueB64 ?? "");
        return Base64Url.Encode(HMACSHA256.HashData(secret, Encoding.UTF8.GetBytes(input)));
    }

    /// <summary>mppx keys the HMAC with the UTF-8 bytes of a secret string.</summary>
    public static string Compute(string secret, string realm, string method, string intent, string requestB64,
        string? expires, string? digest, string? opaqueB64) =>
        Compute(Encoding.UTF8.GetBytes(secret), realm, method, intent, requestB64, expires, digest, opaqueB64);

    /// <summary>
    /// Checks the id a client echoed in a credential. The echoed request is re-canonicalized first (clients
    /// decode and re-encode it); the opaque object is canonicalized the way it was when issued.
    /// </summary>
    public static bool Verify(ReadOnlySpan<byte> secret, CredentialChallenge echoed)
    {
        if (!TryCanonicalRequest(echoed.Request, out var requestB64))
            return false;
        if (!TryEchoedOpaque(echoed.Opaque, out var opaqueB64))
            return false;
        var expected = Compute(secret, echoed.Realm, echoed.Method, echoed.Intent, requestB64, echoed.Expires, echoed.Digest, opaqueB64);
        return FixedTimeEquals(echoed.Id, expected);
    }

    /// <summary>
    /// mppx 0.11 echoes opaque as the base64url string it received; older clients sent the object, which
    /// is bound in its canonical form.
    /// </summary>
    private static bool TryEchoedOpaque(JsonElement? opaque, out string? opaqueB64)
    {
        opaqueB64 = null;
        switch (opaque)
        {
            case null or { ValueKind: JsonValueKind.Null }:
                return true;
            case { ValueKind: JsonValueKind.String } text:
                opaqueB64 = text.GetString();
                return true;
            case { ValueKind: JsonValueKind.Object } value:
                try
                {
                    opaqueB64 = Base64Url.Encode(Jcs.CanonicalizeToUtf8(value));
                    return true;
                }
                catch (Exception exception) when (exception is FormatException or InvalidOperationException)
                {
                    return false;
                }
            default:
                return false;
        }
    }

    /// <summary>base64url(JCS(decoded request)): the form the id was computed over.</summary>
    public static bool TryCanonicalRequest(string requestB64, out string canonicalB64)
    {
        canonicalB64 = "";
        if (!Base64Url.TryDecode(requestB64, out var bytes))
            return false;
        string json;
        try
        {
            json = new UTF8Encoding(false, true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
        if (!Jcs.TryCanonicalize(json, out var canonical, out _))
            return false;
        canonicalB64 = Base64Url.Encode(Encoding.UTF8.GetBytes(canonical));
        return true;
    }

    internal static bool FixedTimeEquals(string left, string right) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(left), Encoding.UTF8.GetBytes(right));
}
