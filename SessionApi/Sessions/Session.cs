using System.Numerics;
using System.Text.Json.Serialization;

namespace Sessions.SessionApi.Sessions;

public static class SessionKinds
{
    public const string Prepaid = "prepaid";
    public const string Pass = "pass";
}

/// <summary>States in docs/sessions.md ("States"): PENDING -> ACTIVE -> DEPLETED / EXPIRED -> REFUNDED.</summary>
public static class SessionStates
{
    public const string Pending = "PENDING";
    public const string Active = "ACTIVE";
    public const string Depleted = "DEPLETED";
    public const string Expired = "EXPIRED";
    public const string Refunded = "REFUNDED";
}

public static class RefundMethods
{
    /// <summary>The gate pays the refund back through its local facilitator's token ledger.</summary>
    public const string Ledger = "ledger";

    /// <summary>A remote facilitator cannot send tokens back: the refund is recorded as a payout owed to the payer.</summary>
    public const string PayoutOwed = "payout_owed";
}

/// <summary>One row of <c>sessions</c>. Amounts are atomic units of the asset.</summary>
public sealed record Session(
    string Id, string Organization, string Payer, string Kind, BigInteger Deposit, BigInteger ToppedUp, BigInteger Spent,
    BigInteger Balance, BigInteger Refunded, string? RefundMethod, string State, long RequestCount, BigInteger? PriceHint,
    DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt, long Version)
{
    public bool IsPass => Kind == SessionKinds.Pass;

    /// <summary>Still ACTIVE or DEPLETED in the row but past its expiry: becomes EXPIRED on the next touch.</summary>
    public bool IsDue(DateTimeOffset now) => State is SessionStates.Active or SessionStates.Depleted && ExpiresAt <= now;

    public bool BelongsTo(string payer, string organization) => Payer == payer && Organization == organization;
}

/// <summary>
/// The session as JSON. Amounts are decimal strings of atomic units (JSON numbers lose precision beyond 2^53);
/// <c>token</c> appears only in the answer that issued it.
/// </summary>
public sealed record SessionResponse(
    string Id,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Token,
    string Payer, string Organization, string Kind, string Deposit, string ToppedUp, string Spent, string Balance, string Refunded,
    string State, long RequestCount,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? PriceHint,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? RefundMethod,
    DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt)
{
    /// <summary>Resolve only: the payer is an agent bound by a mandate, so the gate charges its session debits against it.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public bool? Mandated { get; init; }

    public static SessionResponse From(Session session, string? token = null) => new(
        session.Id, token, session.Payer, session.Organization, session.Kind, session.Deposit.ToString(), session.ToppedUp.ToString(),
        session.Spent.ToString(), session.Balance.ToString(), session.Refunded.ToString(), session.State, session.RequestCount,
        session.PriceHint?.ToString(), session.RefundMethod, session.CreatedAt, session.ExpiresAt);
}
