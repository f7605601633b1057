using System.Buffers;
using System.Text;
using System.Text.Json;
using Sessions.Payments.Mpp;
using B64 = System.Buffers.Text.Base64Url;

namespace Sessions.Payments.Receipts;

/// <summary>
/// Compact JWS (RFC 7515) with EdDSA over Ed25519 (RFC 8037): <c>base64url(header).base64url(payload).base64url(signature)</c>,
/// the signature over the ASCII of the first two parts. The protected header is <c>{"alg":"EdDSA","kid":…,"typ":…}</c>.
/// </summary>
public static class Jws
{
    public const string Algorithm = "EdDSA";

    public static string Sign(Ed25519Key key, string type, ReadOnlySpan<byte> payload)
    {
        var header = JsonSerializer.SerializeToUtf8Bytes(new JwsHeader { Alg = Algorithm, Kid = key.Kid, Typ = type },
            ReceiptJsonContext.Default.JwsHeader);
        // One buffer for "header.payload.signature" in ASCII: the gate signs a receipt per charged answer, so the signing
        // input is not built as strings and copied again (a third of the allocations of a receipt before).
        var signedLength = B64.GetEncodedLength(header.Length) + 1 + B64.GetEncodedLength(payload.Length);
        var length = signedLength + 1 + B64.GetEncodedLength(Ed25519Key.SignatureSize);
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            var written = B64.EncodeToUtf8(header, buffer);
            buffer[written++] = (byte)'.';
            written += B64.EncodeToUtf8(payload, buffer.AsSpan(written));
            buffer[written++] = (byte)'.';
            written += B64.EncodeToUtf8(key.Sign(buffer.AsSpan(0, signedLength)), buffer.AsSpan(written));
            return Encoding.ASCII.GetString(buffer, 0, written);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The payload bytes of a compact JWS, unchecked (for a JWS the caller signed or already verified).</summary>
    public static byte[] PayloadOf(string compact) =>
        compact.Split('.') is [_, var payload, _] && Base64Url.TryDecode(payload, out var bytes) ? bytes : [];

    /// <summary>
    /// Checks a compact JWS against a JWK set: well formed, <c>alg</c> EdDSA, <c>kid</c> in the set, signature valid.
    /// On success <paramref name="payload"/> holds the signed bytes.
    /// </summary>
    public static JwsCheck Verify(string? compact, JwkSet keys, out JwsHeader? header, out byte[] payload)
    {
        header = null;
        payload = [];
        var parts = compact?.Trim().Split('.');
        if (parts is not { Length: 3 }
            || !Base64Url.TryDecode(parts[0], out var headerBytes)
            || !Base64Url.TryDecode(parts[1], out var payloadBytes)
            || !Base64Url.TryDecode(parts[2], out var signature))
            return JwsCheck.Malformed;
        try
        {
            header = JsonSerializer.Deserialize(headerBytes, ReceiptJsonContext.Default.JwsHeader);
        }
        catch (JsonException)
        {
            return JwsCheck.Malformed;
        }
        if (header is null || header.Alg != Algorithm)
            return JwsCheck.UnsupportedAlgorithm;
        if (keys.Find(header.Kid)?.Ed25519PublicKey() is not { } publicKey)
            return JwsCheck.UnknownKey;
        if (!Ed25519Key.Verify(publicKey, Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), signature))
            return JwsCheck.BadSignature;
        payload = payloadBytes;
        return JwsCheck.Valid;
    }
}

public sealed record JwsHeader
{
    public required string Alg { get; init; }
    public string? Kid { get; init; }
    public string? Typ { get; init; }
}

public enum JwsCheck
{
    Valid,
    Malformed,
    UnsupportedAlgorithm,
    UnknownKey,
    BadSignature,
}
