using System.Numerics;
using Npgsql;
using NpgsqlTypes;

namespace Sessions.SessionApi.Sessions;

/// <summary>Column list, reader and parameters shared by every query on <c>sessions</c> and <c>session_ledger</c>.</summary>
internal static class SessionRows
{
    public const string Columns =
        "id, organization, payer, kind, deposit, topped_up, spent, balance, refunded, refund_method, state, request_count, " +
        "price_hint, created_at, expires_at, version";

    public static Session Read(NpgsqlDataReader reader) => new(
        reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3),
        reader.GetFieldValue<BigInteger>(4), reader.GetFieldValue<BigInteger>(5), reader.GetFieldValue<BigInteger>(6),
        reader.GetFieldValue<BigInteger>(7), reader.GetFieldValue<BigInteger>(8), reader.IsDBNull(9) ? null : reader.GetString(9),
        reader.GetString(10), reader.GetInt64(11), reader.IsDBNull(12) ? null : reader.GetFieldValue<BigInteger>(12),
        reader.GetFieldValue<DateTimeOffset>(13), reader.GetFieldValue<DateTimeOffset>(14), reader.GetInt64(15));

    /// <summary>Runs <paramref name="command"/> and reads at most one session row.</summary>
    public static async Task<Session?> ReadOneAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    public static NpgsqlCommand Command(string sql, NpgsqlConnection connection, NpgsqlTransaction? transaction, params object?[] values)
    {
        var command = new NpgsqlCommand(sql, connection, transaction);
        foreach (var value in values)
            command.Parameters.Add(Parameter(value));
        return command;
    }

    public static NpgsqlParameter Parameter(object? value) => value switch
    {
        BigInteger amount => new() { Value = amount, NpgsqlDbType = NpgsqlDbType.Numeric },
        DateTimeOffset time => new() { Value = time.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz },
        null => new() { Value = DBNull.Value },
        _ => new() { Value = value },
    };

    /// <summary>A typed null, for parameters Postgres cannot infer from an untyped NULL.</summary>
    public static NpgsqlParameter Null(NpgsqlDbType type) => new() { Value = DBNull.Value, NpgsqlDbType = type };

    /// <summary>Loads the session only if it belongs to this payer in this organisation: another payer's id is "not found".</summary>
    public static async Task<Session?> LoadOwnedAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string id, string payer,
        string organization, bool forUpdate, CancellationToken cancellationToken)
    {
        await using var command = Command(
            $"SELECT {Columns} FROM sessions WHERE id = $1 AND payer = $2 AND organization = $3" + (forUpdate ? " FOR UPDATE" : ""),
            connection, transaction, id, payer, organization);
        return await ReadOneAsync(command, cancellationToken);
    }

    /// <summary>
    /// Lazy expiry: marks the session EXPIRED if it is due (idempotent; the sweeper does the same in bulk), with its
    /// <c>session.expired</c> webhook in the same transaction. The connection must have no open transaction.
    /// </summary>
    public static async Task<Session?> ExpireIfDueAsync(NpgsqlConnection connection, string id, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var expired = (await Webhooks.SessionWebhooks.ExpireAsync(connection, "id = $2", now, cancellationToken, id)).SingleOrDefault();
        if (expired is not null) SessionApiTelemetry.CountChange("expired");
        return expired;
    }
}
