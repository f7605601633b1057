using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;

namespace Sessions.ServiceDefaults.Payers;

public sealed class PayerContextOptions
{
    public const string SectionName = "PayerContext";

    /// <summary>Shared secret of the gate and the services (the AppHost generates it: <c>PayerContext__SigningKey</c>).</summary>
    public string? SigningKey { get; set; }

    /// <summary>How long a context signed by the gate stays valid: one forwarded request, with clock slack.</summary>
    public TimeSpan Lifetime { get; set; } = TimeSpan.FromMinutes(2);
}

/// <summary>
/// The <c>X-Payer-Context</c> header: <c>v1.&lt;base64url(JSON)&gt;.&lt;base64url(HMAC-SHA256(key, "v1." + payload))&gt;</c>.
/// The gate signs (after a payment or a session debit) and strips any copy a client sent; services verify.
/// </summary>
public sealed class PayerContextSigner(IOptions<PayerContextOptions> options, TimeProvider timeProvider)
{
    public const string HeaderName = "X-Payer-Context";
    const string Version = "v1";
    const int MinimumKeyLength = 32;
    const int MaxHeaderLength = 4096;

    public bool IsConfigured => options.Value.SigningKey is { Length: >= MinimumKeyLength };

    /// <exception cref="InvalidOperationException">No signing key (or one shorter than 32 characters) is configured.</exception>
    public string Sign(PayerContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!IsConfigured)
            throw new InvalidOperationException(
                $"No payer-context signing key: set '{PayerContextOptions.SectionName}:SigningKey' (at least {MinimumKeyLength} characters).");
        var payload = Base64Url(JsonSerializer.SerializeToUtf8Bytes(context, PayerContextJsonContext.Default.PayerContext));
        var signed = $"{Version}.{payload}";
        return $"{signed}.{Base64Url(Mac(signed))}";
    }

    /// <summary>A context for one request, valid for <see cref="PayerContextOptions.Lifetime"/>.</summary>
    public long NewExpiry() => timeProvider.GetUtcNow().Add(options.Value.Lifetime).ToUnixTimeSeconds();

    public bool TryVerify(string? header, out PayerContext? context, out string? error)
    {
        context = null;
        if (!IsConfigured) { error = "The service has no payer-context signing key."; return false; }
        if (string.IsNullOrEmpty(header) || header.Length > MaxHeaderLength) { error = "The payer context is missing or too long."; return false; }
        var parts = header.Split('.');
        if (parts.Length != 3 || parts[0] != Version) { error = "The payer context is malformed."; return false; }
        byte[] payload, mac;
        try
        {
            payload = Base64UrlDecode(parts[1]);
            mac = Base64UrlDecode(parts[2]);
        }
        catch (FormatException)
        {
            error = "The payer context is malformed.";
            return false;
        }
        if (!CryptographicOperations.FixedTimeEquals(mac, Mac($"{parts[0]}.{parts[1]}")))
        {
            error = "The payer context signature is invalid.";
            return false;
        }
        try
        {
            context = JsonSerializer.Deserialize(payload, PayerContextJsonContext.Default.PayerContext);
        }
        catch (JsonException)
        {
            context = null;
        }
        if (context is null || string.IsNullOrEmpty(context.Payer) || string.IsNullOrEmpty(context.Organization))
        {
            context = null;
            error = "The payer context is malformed.";
            return false;
        }
        if (context.ExpiresAt < timeProvider.GetUtcNow().ToUnixTimeSeconds())
        {
            context = null;
            error = "The payer context has expired.";
            return false;
        }
        // Checksummed and lowercase spellings are one payer: whatever the signer sent, services see lowercase.
        context = context with { Payer = PayerContext.NormalizeAddress(context.Payer) };
        error = null;
        return true;
    }

    byte[] Mac(string signed) => HMACSHA256.HashData(Encoding.UTF8.GetBytes(options.Value.SigningKey!), Encoding.ASCII.GetBytes(signed));

    static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    static byte[] Base64UrlDecode(string text)
    {
        var padded = text.Replace('-', '+').Replace('_', '/');
        padded += (padded.Length % 4) switch { 2 => "==", 3 => "=", 0 => "", _ => throw new FormatException() };
        return Convert.FromBase64String(padded);
    }
}
