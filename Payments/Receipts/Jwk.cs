using System.Text.Json;
using System.Text.Json.Serialization;
using Sessions.Payments.Mpp;

namespace Sessions.Payments.Receipts;

/// <summary>A public JSON Web Key as the gate publishes it (RFC 7517, OKP/Ed25519 per RFC 8037).</summary>
public sealed record Jwk
{
    public required string Kty { get; init; }
    public string? Crv { get; init; }
    public string? X { get; init; }
    public string? Kid { get; init; }
    public string? Alg { get; init; }
    public string? Use { get; init; }

    public static Jwk ForEd25519(ReadOnlySpan<byte> publicKey)
    {
        var x = Base64Url.Encode(publicKey);
        return new Jwk { Kty = "OKP", Crv = "Ed25519", X = x, Kid = Ed25519Key.Thumbprint(x), Alg = "EdDSA", Use = "sig" };
    }

    /// <summary>The 32-byte Ed25519 public key, or null when this is not an OKP/Ed25519 key.</summary>
    public byte[]? Ed25519PublicKey() =>
        Kty == "OKP" && Crv == "Ed25519" && Base64Url.TryDecode(X, out var key) && key.Length == 32 ? key : null;
}

/// <summary>A JWK set (<c>{"keys":[…]}</c>), served at the gate's <c>/.well-known/jwks.json</c>.</summary>
public sealed record JwkSet
{
    public required IReadOnlyList<Jwk> Keys { get; init; }

    public Jwk? Find(string? kid) => kid is null ? null : Keys.FirstOrDefault(k => k.Kid == kid);

    public string ToJson() => JsonSerializer.Serialize(this, ReceiptJsonContext.Default.JwkSet);

    /// <summary>Parses a JWK set; null when the text is not one.</summary>
    public static JwkSet? TryParse(string json)
    {
        try
        {
            return JsonSerializer.Deserialize(json, ReceiptJsonContext.Default.JwkSet);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
