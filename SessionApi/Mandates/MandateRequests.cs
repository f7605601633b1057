using System.Numerics;
using System.Text.Json;
using Sessions.Payments;
using Sessions.Payments.Crypto;
using Sessions.Payments.Eip712;

namespace Sessions.SessionApi.Mandates;

/// <summary>The signed terms exactly as in the typed data, amounts as decimal strings ("0", null or absent = no limit).</summary>
public sealed record MandateTermsRequest(string? User, string? Agent, string? MaxPerTransaction, string? MaxPerDay, string? MaxPerWeek,
    string? MaxPerMonth, string? RequireApprovalAbove, string[]? AllowedMerchants, long? ExpiresAt, string? Nonce);

/// <summary><c>metadata</c> is informational (agent name, purpose) and not signed.</summary>
public sealed record CreateMandateRequest(MandateTermsRequest? Terms, string? Signature, string? AgentSignature, JsonElement? Metadata);

/// <summary>A user's signed action (revoke, approve, deny): <c>timestamp</c> is the signed unix time, within 5 minutes of ours.</summary>
public sealed record SignedActionRequest(long? Timestamp, string? Signature);

/// <summary>
/// A read signed by the user (<c>ReadMandates(user, timestamp)</c> in two headers): the gate forwards reads only with one.
/// Null from <see cref="From"/> when neither header is there: a read inside the cluster (McpServer), not the gate's.
/// </summary>
public sealed record SignedRead(string Timestamp, string Signature)
{
    public const string TimestampHeader = "Mandate-Timestamp";
    public const string SignatureHeader = "Mandate-Signature";

    public static SignedRead? From(HttpRequest request)
    {
        var (timestamp, signature) = (request.Headers[TimestampHeader].ToString(), request.Headers[SignatureHeader].ToString());
        return timestamp.Length == 0 && signature.Length == 0 ? null : new(timestamp, signature);
    }
}

public sealed record ChargeRequest(string? Amount, string? IdempotencyKey, string? ApprovalId);

public static class MandateRequests
{
    /// <summary>Duration of a mandate: at most 168 hours (the client computes expiresAt, 24 h by convention).</summary>
    public static readonly TimeSpan MaxDuration = TimeSpan.FromHours(168);

    /// <summary>Tolerated clock difference between the signer and us for expiresAt and signed timestamps.</summary>
    public static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(5);

    public const int MaxMerchants = 100;
    public const int MaxMetadataBytes = 4096;

    public static Dictionary<string, string[]> Validate(CreateMandateRequest request, DateTimeOffset now, out MandateTerms? terms)
    {
        var errors = new Dictionary<string, string[]>();
        terms = null;
        var t = request.Terms;
        if (t is null) return new() { ["terms"] = ["Required: the signed Mandate terms."] };
        if (!EvmAddress.TryParse(t.User, out var user)) errors["terms.user"] = [AddressRule];
        if (!EvmAddress.TryParse(t.Agent, out var agent)) errors["terms.agent"] = [AddressRule];
        else if (agent == user) errors["terms.agent"] = ["The agent must not be the user."];
        var limits = new BigInteger?[5];
        string[] names = ["maxPerTransaction", "maxPerDay", "maxPerWeek", "maxPerMonth", "requireApprovalAbove"];
        string?[] values = [t.MaxPerTransaction, t.MaxPerDay, t.MaxPerWeek, t.MaxPerMonth, t.RequireApprovalAbove];
        for (var i = 0; i < names.Length; i++)
        {
            if (values[i] is null or "0") continue;
            if (AtomicAmount.TryParse(values[i], out var limit) && !limit.IsZero) limits[i] = limit;
            else errors["terms." + names[i]] = ["A whole number of atomic units as a decimal string; \"0\" or absent = no limit."];
        }
        var merchants = t.AllowedMerchants ?? [];
        if (merchants.Length > MaxMerchants || merchants.Any(m => string.IsNullOrWhiteSpace(m) || m.Length > 100)
            || merchants.Distinct(StringComparer.Ordinal).Count() != merchants.Length)
            errors["terms.allowedMerchants"] = [$"At most {MaxMerchants} distinct organisation ids of 1 to 100 characters; empty = any."];
        if (t.ExpiresAt is not { } expiresAt || expiresAt <= now.ToUnixTimeSeconds()
            || expiresAt > (now + MaxDuration + ClockSkew).ToUnixTimeSeconds())
            errors["terms.expiresAt"] = ["Required: unix seconds in the future, at most 168 hours away (duration default 24 h: now + 86400)."];
        if (!Bytes32.TryParse(t.Nonce, out var nonce) || t.Nonce!.Length != 66)
            errors["terms.nonce"] = ["Required: 0x and 64 hex digits, random per mandate."];
        if (string.IsNullOrEmpty(request.Signature)) errors["signature"] = ["Required: the user's EIP-712 signature of the terms."];
        if (string.IsNullOrEmpty(request.AgentSignature)) errors["agentSignature"] = ["Required: the agent's EIP-712 signature of the same terms."];
        if (request.Metadata is { } metadata && (metadata.ValueKind != JsonValueKind.Object || metadata.GetRawText().Length > MaxMetadataBytes))
            errors["metadata"] = [$"A JSON object of at most {MaxMetadataBytes} bytes."];
        if (errors.Count == 0)
            terms = new MandateTerms(user, agent, limits[0], limits[1], limits[2], limits[3], limits[4], merchants, t.ExpiresAt!.Value, nonce);
        return errors;
    }

    public static Dictionary<string, string[]> Validate(SignedActionRequest request)
    {
        var errors = new Dictionary<string, string[]>();
        if (request.Timestamp is null) errors["timestamp"] = ["Required: the signed unix time in seconds."];
        if (string.IsNullOrEmpty(request.Signature)) errors["signature"] = ["Required: the user's EIP-712 signature."];
        return errors;
    }

    public static bool IsFresh(long timestamp, DateTimeOffset now) => Math.Abs(now.ToUnixTimeSeconds() - timestamp) <= ClockSkew.TotalSeconds;

    public static Dictionary<string, string[]> Validate(ChargeRequest request, out AtomicAmount amount)
    {
        var errors = new Dictionary<string, string[]>();
        if (!AtomicAmount.TryParse(request.Amount, out amount) || amount.IsZero) errors["amount"] = ["Required: a positive whole number of atomic units as a decimal string."];
        if (request.IdempotencyKey is not { Length: > 0 and <= 200 } key || !key.All(c => c is > ' ' and <= '~'))
            errors["idempotencyKey"] = ["Required: 1 to 200 printable ASCII characters."];
        if (request.ApprovalId is not null && !MandateIds.IsApprovalId(request.ApprovalId))
            errors["approvalId"] = ["An approval id: apr_ and 32 hex digits."];
        return errors;
    }

    const string AddressRule = "Required: an EVM address, 0x and 40 hex digits (EIP-55 checksum when mixed case).";
}

public static class MandateIds
{
    public static string NewMandateId() => "man_" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));

    public static string NewApprovalId() => "apr_" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));

    public static bool IsMandateId(string? id) => IsId(id, "man_");

    public static bool IsApprovalId(string? id) => IsId(id, "apr_");

    static bool IsId(string? id, string prefix) => id is { Length: 36 } && id.StartsWith(prefix, StringComparison.Ordinal)
        && !id.AsSpan(4).ContainsAnyExcept("0123456789abcdef");
}
