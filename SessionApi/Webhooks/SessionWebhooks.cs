using System.Numerics;
using Npgsql;
using Sessions.SessionApi.Sessions;
using static Sessions.SessionApi.Sessions.SessionRows;

namespace Sessions.SessionApi.Webhooks;

/// <summary>The session events' <c>data</c>: the session as the API shows it (never its token), plus what the change moved.</summary>
public sealed record SessionEventData(
    SessionResponse Session,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? Amount = null,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? PaymentId = null,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? ReceiptId = null);

/// <summary>
/// Session events written by SessionStore and DebitFold in the transaction of the change. <c>amount</c>: the top-up
/// (<c>session.topped_up</c>, with its <c>paymentId</c>) or the refund (<c>session.closed</c>); <c>receiptId</c>: the gate's signed
/// receipt of the debit that emptied the session (<c>session.depleted</c>, docs/receipts.md).
/// </summary>
internal static class SessionWebhooks
{
    public static Task<string> EnqueueAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string eventName, Session session,
        DateTimeOffset now, CancellationToken cancellationToken, BigInteger? amount = null, string? paymentId = null, string? receiptId = null) =>
        OutboxWriter.EnqueueAsync(connection, transaction, eventName, new SessionEventData(SessionResponse.From(session), amount?.ToString(), paymentId, receiptId),
            session.Organization, now, cancellationToken);

    /// <summary>
    /// Marks the ACTIVE or DEPLETED sessions past their expiry that also match <paramref name="condition"/> (SQL over
    /// <c>sessions</c>, parameters from $2) EXPIRED, with one <c>session.expired</c> each, in one transaction. The row lock
    /// makes lazy expiry and several sweepers agree: only the statement that changed a row reports it, so one event per session.
    /// </summary>
    public static async Task<IReadOnlyList<Session>> ExpireAsync(NpgsqlConnection connection, string condition, DateTimeOffset now,
        CancellationToken cancellationToken, params object?[] values)
    {
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var expired = new List<Session>();
        await using (var update = Command($"""
            UPDATE sessions SET state = 'EXPIRED', version = version + 1, updated_at = $1
            WHERE state IN ('ACTIVE', 'DEPLETED') AND expires_at <= $1 AND ({condition})
            RETURNING {Columns}
            """, connection, transaction, [now, .. values]))
        await using (var reader = await update.ExecuteReaderAsync(cancellationToken))
            while (await reader.ReadAsync(cancellationToken))
                expired.Add(Read(reader));
        foreach (var session in expired)
            await EnqueueAsync(connection, transaction, WebhookEvents.SessionExpired, session, now, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return expired;
    }
}
