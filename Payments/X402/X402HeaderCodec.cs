using System.Buffers.Text;
using System.Text.Json;
using System.Text.Unicode;
using System.Text.Json.Serialization.Metadata;

namespace Sessions.Payments.X402;

/// <summary>Why a header value did not decode. The gate maps these to "no payment" (plain 402) or 400.</summary>
public enum HeaderDecodeError
{
    /// <summary>Absent or empty header.</summary>
    Missing,
    /// <summary>Longer than the configured maximum; not even base64-decoded.</summary>
    TooLong,
    /// <summary>Not canonical standard base64 with padding (url-safe alphabet, whitespace, bad padding...).</summary>
    InvalidBase64,
    /// <summary>Decoded bytes are not one well-formed UTF-8 JSON value (or repeat a property name).</summary>
    InvalidJson,
    /// <summary>Well-formed JSON of the wrong shape (missing or mistyped members).</summary>
    InvalidShape,
    /// <summary>x402Version missing or not a version this library reads.</summary>
    UnsupportedVersion,
}

/// <summary>A decoded header value, or the reason there is none. Never an exception for client input.</summary>
public sealed record HeaderDecodeResult<T>(T? Value, HeaderDecodeError? Error, string? Message) where T : class
{
    public bool Succeeded => Value is not null && Error is null;

    internal static HeaderDecodeResult<T> Ok(T value) => new(value, null, null);

    internal static HeaderDecodeResult<T> Fail(HeaderDecodeError error, string message) => new(null, error, message);
}

/// <summary>A decoded payment header: exactly one of V1 / V2 is set.</summary>
public sealed record DecodedPaymentPayload(int X402Version, PaymentPayloadV1? V1, PaymentPayload? V2);

/// <summary>
/// The x402 header encoding: standard base64 WITH padding of compact UTF-8 JSON (PAYMENT-REQUIRED,
/// PAYMENT-SIGNATURE, PAYMENT-RESPONSE and the v1 X-PAYMENT / X-PAYMENT-RESPONSE).
/// </summary>
public static class X402HeaderCodec
{
    public const int DefaultMaxHeaderLength = 16 * 1024;

    public const string PaymentRequiredHeader = "PAYMENT-REQUIRED";
    public const string PaymentSignatureHeader = "PAYMENT-SIGNATURE";
    public const string PaymentResponseHeader = "PAYMENT-RESPONSE";
    public const string PaymentHeaderV1 = "X-PAYMENT";
    public const string PaymentResponseHeaderV1 = "X-PAYMENT-RESPONSE";

    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 32, AllowDuplicateProperties = false };

    public static string Encode<T>(T value, JsonTypeInfo<T> typeInfo) =>
        Convert.ToBase64String(JsonSerializer.SerializeToUtf8Bytes(value, typeInfo));

    public static string Encode(PaymentRequired value) => Encode(value, X402JsonContext.Strict.PaymentRequired);

    public static string Encode(PaymentPayload value) => Encode(value, X402JsonContext.Strict.PaymentPayload);

    public static string Encode(PaymentPayloadV1 value) => Encode(value, X402JsonContext.Strict.PaymentPayloadV1);

    public static string Encode(SettleResponse value) => Encode(value, X402JsonContext.Strict.SettleResponse);

    /// <summary>Decodes a header into <typeparamref name="T"/> with strict base64 and JSON.</summary>
    public static HeaderDecodeResult<T> Decode<T>(string? header, JsonTypeInfo<T> typeInfo, int maxLength = DefaultMaxHeaderLength) where T : class
    {
        using var document = ParseDocument(header, maxLength, out var error, out var message);
        if (document is null)
            return HeaderDecodeResult<T>.Fail(error, message);
        return Deserialize(document.RootElement, typeInfo);
    }

    /// <summary>Decodes PAYMENT-SIGNATURE / X-PAYMENT into a v1 or v2 payload according to x402Version.</summary>
    public static HeaderDecodeResult<DecodedPaymentPayload> DecodePaymentPayload(string? header, int maxLength = DefaultMaxHeaderLength)
    {
        using var document = ParseDocument(header, maxLength, out var error, out var message);
        if (document is null)
            return HeaderDecodeResult<DecodedPaymentPayload>.Fail(error, message);

        var root = document.RootElement;
        if (!TryReadVersion(root, out var version))
            return HeaderDecodeResult<DecodedPaymentPayload>.Fail(HeaderDecodeError.UnsupportedVersion, "x402Version must be 1 or 2");

        if (version == 1)
        {
            var v1 = Deserialize(root, X402JsonContext.Input.PaymentPayloadV1);
            return v1.Succeeded
                ? HeaderDecodeResult<DecodedPaymentPayload>.Ok(new(1, v1.Value, null))
                : HeaderDecodeResult<DecodedPaymentPayload>.Fail(v1.Error!.Value, v1.Message!);
        }
        var v2 = Deserialize(root, X402JsonContext.Input.PaymentPayload);
        return v2.Succeeded
            ? HeaderDecodeResult<DecodedPaymentPayload>.Ok(new(2, null, v2.Value))
            : HeaderDecodeResult<DecodedPaymentPayload>.Fail(v2.Error!.Value, v2.Message!);
    }

    /// <summary>
    /// Canonical standard base64: alphabet A-Z a-z 0-9 + /, length a multiple of 4, at most two '='
    /// only at the end, and unused trailing bits zero (checked by re-encoding).
    /// </summary>
    public static bool TryDecodeStrictBase64(string text, out byte[] bytes)
    {
        bytes = [];
        if (text.Length == 0 || text.Length % 4 != 0)
            return false;
        var padding = text.EndsWith("==", StringComparison.Ordinal) ? 2 : text.EndsWith('=') ? 1 : 0;
        foreach (var c in text.AsSpan(0, text.Length - padding))
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c == '+' || c == '/'))
                return false;
        }
        var decoded = new byte[Base64.GetMaxDecodedFromUtf8Length(text.Length)];
        if (!Convert.TryFromBase64String(text, decoded, out var written))
            return false;
        bytes = decoded[..written];
        return Convert.ToBase64String(bytes) == text;
    }

    private static JsonDocument? ParseDocument(string? header, int maxLength, out HeaderDecodeError error, out string message)
    {
        error = default;
        message = "";
        if (string.IsNullOrEmpty(header))
        {
            (error, message) = (HeaderDecodeError.Missing, "header is absent or empty");
            return null;
        }
        if (header.Length > maxLength)
        {
            (error, message) = (HeaderDecodeError.TooLong, $"header is {header.Length} characters, the limit is {maxLength}");
            return null;
        }
        if (!TryDecodeStrictBase64(header, out var bytes))
        {
            (error, message) = (HeaderDecodeError.InvalidBase64, "header is not standard base64 with padding");
            return null;
        }
        // Utf8JsonReader does not validate UTF-8 inside strings and property names: check it up front,
        // or an invalid byte would surface later as a confusing shape/version error.
        if (!Utf8.IsValid(bytes))
        {
            (error, message) = (HeaderDecodeError.InvalidJson, "header is not valid UTF-8");
            return null;
        }
        try
        {
            // Utf8JsonReader refuses trailing content after the value.
            var document = JsonDocument.Parse(bytes, DocumentOptions);
            if (document.RootElement.ValueKind == JsonValueKind.Object && JsonInput.HasOnlyWellFormedStrings(document.RootElement))
                return document;
            (error, message) = document.RootElement.ValueKind == JsonValueKind.Object
                ? (HeaderDecodeError.InvalidJson, "header JSON has a \\u escape that is no character (a lone surrogate)")
                : (HeaderDecodeError.InvalidShape, "header JSON is not an object");
            document.Dispose();
            return null;
        }
        // InvalidOperationException: a property name that is a lone surrogate escape ("\udfff") throws from the duplicate check.
        catch (Exception exception) when (exception is JsonException or InvalidOperationException)
        {
            (error, message) = (HeaderDecodeError.InvalidJson, $"header is not valid UTF-8 JSON: {exception.Message}");
            return null;
        }
    }

    private static HeaderDecodeResult<T> Deserialize<T>(JsonElement root, JsonTypeInfo<T> typeInfo) where T : class
    {
        try
        {
            var value = root.Deserialize(typeInfo);
            return value is null
                ? HeaderDecodeResult<T>.Fail(HeaderDecodeError.InvalidShape, "header JSON is null")
                : HeaderDecodeResult<T>.Ok(value);
        }
        catch (JsonException exception)
        {
            return HeaderDecodeResult<T>.Fail(HeaderDecodeError.InvalidShape, $"header JSON has the wrong shape: {JsonInput.DescribeShapeError(exception)}");
        }
    }

    private static bool TryReadVersion(JsonElement root, out int version)
    {
        version = 0;
        return root.TryGetProperty("x402Version", out var element)
            && IntegralInt32Converter.TryGetIntegral(element, out version)
            && version is 1 or 2;
    }
}
