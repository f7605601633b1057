using System.Numerics;
using System.Text.Json;

namespace Sessions.SessionApi.Mandates;

public static class MandateStates
{
    public const string Active = "active";
    public const string Revoked = "revoked";
    public const string Expired = "expired";
}

public static class ApprovalStates
{
    public const string Pending = "pending";
    public const string Approved = "approved";
    public const string Denied = "denied";
    public const string Used = "used";
}

/// <summary>A row of <c>mandates</c>. A null limit is "no limit".</summary>
public sealed record Mandate(string Id, string User, string Agent, BigInteger? MaxPerTransaction, BigInteger? MaxPerDay, BigInteger? MaxPerWeek,
    BigInteger? MaxPerMonth, BigInteger? RequireApprovalAbove, string[] AllowedMerchants, string? Metadata, string Nonce, string State,
    DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt, DateTimeOffset? RevokedAt)
{
    /// <summary>Active in the table but past its expiry: lazy expiry marks it on the next touch.</summary>
    public bool IsDue(DateTimeOffset now) => State == MandateStates.Active && ExpiresAt <= now;

    public bool AllowsMerchant(string organization) => AllowedMerchants.Length == 0 || AllowedMerchants.Contains(organization, StringComparer.Ordinal);
}

/// <summary>Unreleased charges in the rolling windows ending now: the last 24 hours, 7 days and 30 days.</summary>
public sealed record Spending(BigInteger Today, BigInteger ThisWeek, BigInteger ThisMonth)
{
    public static readonly TimeSpan Day = TimeSpan.FromHours(24);
    public static readonly TimeSpan Week = TimeSpan.FromDays(7);
    public static readonly TimeSpan Month = TimeSpan.FromDays(30);

    public static readonly Spending None = new(BigInteger.Zero, BigInteger.Zero, BigInteger.Zero);

    public static BigInteger? Remaining(BigInteger? limit, BigInteger spent) => limit is { } max ? BigInteger.Max(BigInteger.Zero, max - spent) : null;
}

public sealed record MandateApproval(string Id, string MandateId, string Organization, BigInteger Amount, string State, DateTimeOffset CreatedAt,
    DateTimeOffset? DecidedAt);

/// <summary>Mandate JSON: amounts as decimal strings, null = no limit; remaining* are null without the matching limit.</summary>
public sealed record MandateResponse(string Id, string User, string Agent, string? MaxPerTransaction, string? MaxPerDay, string? MaxPerWeek,
    string? MaxPerMonth, string? RequireApprovalAbove, string[] AllowedMerchants, JsonElement? Metadata, string Nonce, string State, bool IsActive,
    DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt, DateTimeOffset? RevokedAt, string SpentToday, string SpentThisWeek, string SpentThisMonth,
    string? RemainingToday, string? RemainingThisWeek, string? RemainingThisMonth)
{
    public static MandateResponse From(Mandate m, Spending s, DateTimeOffset now) => new(m.Id, m.User, m.Agent, Text(m.MaxPerTransaction),
        Text(m.MaxPerDay), Text(m.MaxPerWeek), Text(m.MaxPerMonth), Text(m.RequireApprovalAbove), m.AllowedMerchants,
        m.Metadata is null ? null : JsonDocument.Parse(m.Metadata).RootElement.Clone(), m.Nonce,
        m.IsDue(now) ? MandateStates.Expired : m.State, m.State == MandateStates.Active && !m.IsDue(now),
        m.CreatedAt, m.ExpiresAt, m.RevokedAt, s.Today.ToString(), s.ThisWeek.ToString(), s.ThisMonth.ToString(),
        Text(Spending.Remaining(m.MaxPerDay, s.Today)), Text(Spending.Remaining(m.MaxPerWeek, s.ThisWeek)),
        Text(Spending.Remaining(m.MaxPerMonth, s.ThisMonth)));

    static string? Text(BigInteger? value) => value?.ToString();
}

public sealed record ApprovalResponse(string Id, string MandateId, string Organization, string Amount, string State, DateTimeOffset CreatedAt,
    DateTimeOffset? DecidedAt)
{
    public static ApprovalResponse From(MandateApproval a) => new(a.Id, a.MandateId, a.Organization, a.Amount.ToString(), a.State, a.CreatedAt, a.DecidedAt);
}
