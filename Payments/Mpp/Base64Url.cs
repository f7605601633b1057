using System.Buffers.Text;

namespace Sessions.Payments.Mpp;

/// <summary>base64url (RFC 4648 §5) as MPP uses it: written without padding.</summary>
public static class Base64Url
{
    public static string Encode(ReadOnlySpan<byte> bytes) => Base64UrlEncoder(bytes);

    /// <summary>
    /// Decodes the url-safe alphabet only ('+' '/' and whitespace are refused). Correct '=' padding is
    /// tolerated because some encoders add it; non-zero unused trailing bits are refused (non-canonical).
    /// </summary>
    public static bool TryDecode(string? text, out byte[] bytes)
    {
        bytes = [];
        if (text is null)
            return false;
        var body = text.AsSpan().TrimEnd('=');
        var padding = text.Length - body.Length;
        if (padding > 0 && (text.Length % 4 != 0 || padding > 2))
            return false;
        if (body.Length % 4 == 1)
            return false;
        foreach (var c in body)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c == '-' || c == '_'))
                return false;
        }
        var decoded = new byte[Base64.GetMaxDecodedFromUtf8Length(body.Length + 3)];
        int written;
        try
        {
            if (!System.Buffers.Text.Base64Url.TryDecodeFromChars(body, decoded, out written))
                return false;
        }
        catch (FormatException)
        {
            // "Try" answers false only for a short destination; unused trailing bits that are not zero ("ab") throw.
            return false;
        }
        bytes = decoded[..written];
        return Encode(bytes) == body.ToString();
    }

    private static string Base64UrlEncoder(ReadOnlySpan<byte> bytes) => System.Buffers.Text.Base64Url.EncodeToString(bytes);
}
