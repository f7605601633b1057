using System.Text.Json;
using System.Text.Json.Serialization;

namespace Sessions.Payments.Receipts;

/// <summary>
/// What the gate signs for a paid or session-debited answer (docs/receipts.md). A superset of MPP's receipt
/// (<c>status</c>, <c>method</c>, <c>timestamp</c>, <c>reference</c>); amounts are atomic units as strings, hashes lowercase hex.
/// </summary>
public sealed record Receipt
{
    /// <summary>JWS <c>typ</c> of a receipt.</summary>
    public const string JwsType = "sessions-receipt+jws";

    /// <summary><c>rcpt_</c> + 26 base32 characters; the id webhooks and listings use.</summary>
    public required string Id { get; init; }
    public string Status { get; init; } = "success";
    /// <summary>How it was paid: <c>x402-v2</c>, <c>x402-v1</c>, <c>mpp</c> or <c>session</c>.</summary>
    public required string Method { get; init; }
    /// <summary>RFC 3339 UTC time the gate answered.</summary>
    public required string Timestamp { get; init; }
    /// <summary>The settlement transaction (fresh payments) or the debit id (sessions), as MPP's <c>reference</c>.</summary>
    public required string Reference { get; init; }
    public required string Payer { get; init; }
    public required string Organization { get; init; }
    /// <summary>The priced route as the gate names it: <c>GET /api/content/{**key}</c>, or <c>POST /mcp tools/call get-content</c>.</summary>
    public required string Route { get; init; }
    public required string Amount { get; init; }
    public required string Asset { get; init; }
    public required string Network { get; init; }
    /// <summary>The gate's payment id (fresh payments).</summary>
    public string? PaymentId { get; init; }
    /// <summary>The debit's request id (session debits).</summary>
    public string? DebitId { get; init; }
    public string? SessionId { get; init; }
    /// <summary>The session's balance right after this debit (atomic units).</summary>
    public string? BalanceAfter { get; init; }
    /// <summary>SHA-256 of <c>METHOD \n path?query \n body</c> (see <see cref="ReceiptHashes.Request"/>).</summary>
    public required string RequestSha256 { get; init; }
    /// <summary>SHA-256 of the response body bytes as sent (for MCP: of the tool result's <c>content</c> JSON as McpServer sent it).</summary>
    public required string ResponseSha256 { get; init; }
    /// <summary>Milliseconds from the request reaching the gate to the answer being ready.</summary>
    public required long LatencyMs { get; init; }

    public byte[] ToJsonBytes() => JsonSerializer.SerializeToUtf8Bytes(this, ReceiptJsonContext.Default.Receipt);

    public static Receipt? TryParse(ReadOnlySpan<byte> json)
    {
        try
        {
            return JsonSerializer.Deserialize(json, ReceiptJsonContext.Default.Receipt);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>
/// Receipt ids: <c>rcpt_</c> + the random part of the payment (<c>pay_…</c>) or debit (<c>req_…</c>) id, so one charge has one
/// receipt and SessionApi's webhooks name the receipt of the debit they report without being told.
/// </summary>
public static class ReceiptIds
{
    public static string For(string paymentOrDebitId) => "rcpt_" + paymentOrDebitId[(paymentOrDebitId.IndexOf('_') + 1)..];
}

/// <summary>
/// Ids of charges (payments <c>pay_…</c>, session debits <c>req_…</c>) and so of their receipts: the prefix and the 32 hex
/// digits of a version 7 UUID (RFC 9562: Unix milliseconds first, then 74 random bits from the system's secure generator).
/// Time first, so the indexes keyed by them (receipts, payments, the session ledger) grow at their right edge instead of
/// at a random page per insert: about 5 µs less of Postgres per receipt stored (docs/benchmarks.md).
/// </summary>
public static class ChargeIds
{
    public static string New(string prefix) => prefix + Guid.CreateVersion7().ToString("N");
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(Receipt))]
[JsonSerializable(typeof(JwsHeader))]
[JsonSerializable(typeof(JwkSet))]
public sealed partial class ReceiptJsonContext : JsonSerializerContext;
