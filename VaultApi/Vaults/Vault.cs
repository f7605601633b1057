using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Sessions.VaultApi.Vaults;

public static class VaultStates
{
    public const string Active = "active";
    public const string Sealed = "sealed";
    public const string Expired = "expired";
}

/// <summary>A vault row; <see cref="State"/> is already the effective state (an active vault past its expiry is expired).</summary>
public sealed record Vault(string Id, string SessionId, string Organization, string Payer, string State, DateTimeOffset CreatedAt,
    DateTimeOffset ExpiresAt, DateTimeOffset? SealedAt, DateTimeOffset RetentionUntil);

public sealed record VaultDocument(string Id, long Seq, string VaultId, string Name, string ContentType, string? Content, int Size,
    DateTimeOffset CreatedAt, string? AddedBy);

public sealed record VaultAccessToken(string Id, string VaultId, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt);

public static partial class VaultIds
{
    public static string NewVaultId() => "vlt_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
    public static string NewDocumentId() => "doc_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
    public static string NewTokenId() => "vtk_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    /// <summary><c>vat_</c> + base64url(32 random bytes); only its SHA-256 is stored.</summary>
    public static string NewAccessToken() => "vat_" + Base64Url(RandomNumberGenerator.GetBytes(32));

    public static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    public static bool IsVaultId(string id) => VaultIdPattern().IsMatch(id);
    public static bool IsDocumentId(string id) => DocumentIdPattern().IsMatch(id);
    public static bool IsTokenId(string id) => TokenIdPattern().IsMatch(id);
    public static bool IsSessionId(string id) => SessionIdPattern().IsMatch(id);

    static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    [GeneratedRegex("^vlt_[0-9a-f]{32}$")] private static partial Regex VaultIdPattern();
    [GeneratedRegex("^doc_[0-9a-f]{32}$")] private static partial Regex DocumentIdPattern();
    [GeneratedRegex("^vtk_[0-9a-f]{32}$")] private static partial Regex TokenIdPattern();
    // SessionApi's ids; anything else is no session of ours to provision for.
    [GeneratedRegex("^ses_[0-9a-f]{32}$")] private static partial Regex SessionIdPattern();
}

public sealed class VaultApiOptions
{
    public const string SectionName = "VaultApi";

    /// <summary>How long a vault stays after its session expired or was sealed, unless <see cref="Retention"/> names the organisation.</summary>
    public TimeSpan DefaultRetention { get; set; } = TimeSpan.FromDays(30);

    /// <summary><c>VaultApi:Retention:&lt;organisation&gt;</c> = a TimeSpan ("7.00:00:00").</summary>
    public Dictionary<string, TimeSpan> Retention { get; set; } = [];

    /// <summary>Largest document content in UTF-8 bytes; above it adding answers 413.</summary>
    public int MaxDocumentBytes { get; set; } = 1024 * 1024;

    /// <summary>How often the retention sweeper marks expired vaults and deletes vaults past retention.</summary>
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How long before a read-only vault's deletion <c>vault.expiring</c> is reported.</summary>
    public TimeSpan ExpiringNotice { get; set; } = TimeSpan.FromDays(1);

    /// <summary>Vaults reported on (and deleted) per sweep; the rest waits for the next one.</summary>
    public int SweepBatchSize { get; set; } = 500;

    public TimeSpan RetentionFor(string organization) => Retention.TryGetValue(organization, out var retention) ? retention : DefaultRetention;
}
