using System.Text.Json;
using System.Text.Unicode;

namespace Sessions.Payments.Mpp;

/// <summary>
/// The challenge as a client echoes it inside a credential. Request stays base64url; opaque is the
/// base64url string (mppx 0.11) or, from older clients, the decoded object.
/// </summary>
public sealed record CredentialChallenge
{
    public required string Id { get; init; }
    public required string Realm { get; init; }
    public required string Method { get; init; }
    public required string Intent { get; init; }
    public required string Request { get; init; }
    public string? Description { get; init; }
    public string? Digest { get; init; }
    public string? Expires { get; init; }
    public JsonElement? Opaque { get; init; }
}

/// <summary><c>Authorization: Payment &lt;base64url JSON {challenge, source?, payload}&gt;</c>.</summary>
public sealed record PaymentCredential
{
    public required CredentialChallenge Challenge { get; init; }
    /// <summary>Payer DID, e.g. "did:pkh:eip155:84532:0x...".</summary>
    public string? Source { get; init; }
    public required JsonElement Payload { get; init; }

    public string ToHeaderValue() =>
        PaymentChallenge.Scheme + " " + Base64Url.Encode(JsonSerializer.SerializeToUtf8Bytes(this, MppJsonContext.Strict.PaymentCredential));
}

public enum CredentialError
{
    /// <summary>No Payment credential: an MPP-unaware request, answered with a challenge.</summary>
    Missing,
    /// <summary>More than one Payment credential in the request: 400.</summary>
    Multiple,
    TooLong,
    InvalidBase64Url,
    InvalidJson,
    InvalidShape,
}

public sealed record CredentialDecodeResult(PaymentCredential? Credential, CredentialError? Error, string? Message)
{
    public bool Succeeded => Credential is not null && Error is null;
}

/// <summary>Finds and decodes the Payment credential among Authorization header values.</summary>
public static class PaymentCredentials
{
    public const int DefaultMaxLength = 16 * 1024;

    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 32, AllowDuplicateProperties = false };

    /// <summary>
    /// The token of the single Payment credential across all Authorization values (each may hold several
    /// comma-separated credentials, RFC 9110). Credentials of other schemes are ignored.
    /// </summary>
    public static bool TryExtractToken(IEnumerable<string?> authorizationValues, out string? token, out CredentialError? error)
    {
        token = null;
        error = null;
        var found = 0;
        foreach (var value in authorizationValues)
        {
            if (string.IsNullOrEmpty(value))
                continue;
            foreach (var part in value.Split(','))
            {
                var item = part.Trim(' ', '\t');
                if (item.Length <= PaymentChallenge.Scheme.Length
                    || !item.StartsWith(PaymentChallenge.Scheme, StringComparison.OrdinalIgnoreCase)
                    || item[PaymentChallenge.Scheme.Length] is not (' ' or '\t'))
                    continue;
                found++;
                token = item[(PaymentChallenge.Scheme.Length + 1)..].Trim(' ', '\t');
            }
        }
        if (found == 1)
            return true;
        token = null;
        error = found == 0 ? CredentialError.Missing : CredentialError.Multiple;
        return false;
    }

    public static CredentialDecodeResult Decode(IEnumerable<string?> authorizationValues, int maxLength = DefaultMaxLength)
    {
        if (!TryExtractToken(authorizationValues, out var token, out var extractError))
            return Fail(extractError!.Value, extractError == CredentialError.Multiple ? "several Payment credentials in one request" : "no Payment credential");
        return DecodeToken(token!, maxLength);
    }

    public static CredentialDecodeResult Decode(string? authorizationValue, int maxLength = DefaultMaxLength) => Decode([authorizationValue], maxLength);

    /// <summary>Decodes the base64url token that follows "Payment ".</summary>
    public static CredentialDecodeResult DecodeToken(string token, int maxLength = DefaultMaxLength)
    {
        if (token.Length > maxLength)
            return Fail(CredentialError.TooLong, $"credential is {token.Length} characters, the limit is {maxLength}");
        if (!Base64Url.TryDecode(token, out var bytes))
            return Fail(CredentialError.InvalidBase64Url, "credential is not base64url");
        // Utf8JsonReader does not validate UTF-8 inside strings and names; refuse it here as InvalidJson.
        if (!Utf8.IsValid(bytes))
            return Fail(CredentialError.InvalidJson, "credential is not valid UTF-8");
        try
        {
            using var document = JsonDocument.Parse(bytes, DocumentOptions);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                return Fail(CredentialError.InvalidShape, "credential JSON is not an object");
            if (!JsonInput.HasOnlyWellFormedStrings(document.RootElement))
                return Fail(CredentialError.InvalidJson, "credential JSON has a \\u escape that is no character (a lone surrogate)");
            try
            {
                var credential = document.RootElement.Deserialize(MppJsonContext.Strict.PaymentCredential);
                return credential is null
                    ? Fail(CredentialError.InvalidShape, "credential JSON is null")
                    : new CredentialDecodeResult(credential, null, null);
            }
            catch (JsonException exception)
            {
                return Fail(CredentialError.InvalidShape, $"credential JSON has the wrong shape: {JsonInput.DescribeShapeError(exception)}");
            }
        }
        // InvalidOperationException: a property name that is a lone surrogate escape ("\udfff") throws from the duplicate check.
        catch (Exception exception) when (exception is JsonException or InvalidOperationException)
        {
            return Fail(CredentialError.InvalidJson, $"credential is not valid UTF-8 JSON: {exception.Message}");
        }
    }

    private static CredentialDecodeResult Fail(CredentialError error, string message) => new(null, error, message);
}

/// <summary><c>Payment-Receipt: &lt;base64url JSON {status:"success", method, timestamp, reference}&gt;</c> (2xx only).</summary>
public sealed record PaymentReceipt
{
    public string Status { get; init; } = "success";
    public required string Method { get; init; }
    /// <summary>RFC 3339.</summary>
    public required string Timestamp { get; init; }
    public required string Reference { get; init; }

    public string ToHeaderValue() => Base64Url.Encode(JsonSerializer.SerializeToUtf8Bytes(this, MppJsonContext.Strict.PaymentReceipt));

    public static PaymentReceipt? TryParseHeader(string? value)
    {
        if (!Base64Url.TryDecode(value, out var bytes) || !Utf8.IsValid(bytes))
            return null;
        try
        {
            return JsonSerializer.Deserialize(bytes, MppJsonContext.Strict.PaymentReceipt);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
