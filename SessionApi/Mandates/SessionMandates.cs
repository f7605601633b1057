using System.Numerics;
using Npgsql;
using static Sessions.SessionApi.Sessions.SessionRows;

namespace Sessions.SessionApi.Mandates;

/// <summary>
/// Session debits under a mandate (called by SessionLedger inside the debit transaction, before the session row changes).
/// A prepaid deposit is refundable, so it is not spending; each debit is, and is charged here under
/// <c>session-debit:&lt;debit key&gt;</c>. A pass is spent when bought (the gate charges that payment), its requests cost 0.
/// </summary>
public static class SessionMandates
{
    public const string KeyPrefix = "session-debit:";

    /// <summary>Null when nothing applies (the agent has no mandate, the session is a pass or not this payer's); else the charge.</summary>
    public static async Task<ChargeResult?> ChargeDebitAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sessionId, string payer,
        string organization, BigInteger price, string debitKey, string? approvalId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        // One indexed probe on the hot path; agents without a mandate pay nothing more.
        await using (var any = Command("SELECT EXISTS (SELECT 1 FROM mandates WHERE agent = $1)", connection, transaction, payer))
            if (await any.ExecuteScalarAsync(cancellationToken) is not true) return null;
        await using (var kind = Command("SELECT kind FROM sessions WHERE id = $1 AND payer = $2 AND organization = $3", connection, transaction,
                         sessionId, payer, organization))
            if (await kind.ExecuteScalarAsync(cancellationToken) is not "prepaid") return null;
        return await MandateCharges.TryChargeAsync(connection, transaction, payer, organization, price, KeyPrefix + debitKey, approvalId, sessionId, now,
            cancellationToken);
    }

    /// <summary>The credit-back of a debit releases its mandate charge (no-op when it had none).</summary>
    public static Task<bool> ReleaseDebitAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string debitKey, DateTimeOffset now,
        CancellationToken cancellationToken) =>
        MandateCharges.ReleaseAsync(connection, transaction, KeyPrefix + debitKey, null, now, cancellationToken);
}
