using Npgsql;
using Sessions.PaymentGate.Paywall;

namespace Sessions.PaymentGate.Sessions;

/// <summary>Configuration section <c>Gate:Compensations</c>.</summary>
public sealed class CompensationOptions
{
    /// <summary>How often owed compensations are looked for; also the first retry delay, doubled per attempt.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Longest wait between two attempts of one compensation.</summary>
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// A mandate charge sent without an answer may still land at SessionApi for this long: until then "nothing to
    /// undo" is not believed, and the compensation is tried again. Longer than a payer context lives
    /// (<c>PayerContext:Lifetime</c>, 2 min), after which SessionApi refuses the late call.
    /// </summary>
    public TimeSpan InFlightWindow { get; set; } = TimeSpan.FromMinutes(5);
}

public static class CompensationKinds
{
    /// <summary>Release an agent's mandate charge (its payment was not settled).</summary>
    public const string MandateRelease = "mandate-release";

    /// <summary>Void a session debit whose confirm went unanswered (its request was answered 503): <see cref="SessionBalances.VoidAsync"/>.</summary>
    public const string SessionDebitVoid = "session-debit-void";

    /// <summary>The key of a <see cref="SessionDebitVoid"/>: the session and the request.</summary>
    public static string SessionDebitKey(string sessionId, string requestId) => sessionId + "|" + requestId;

    /// <summary>The session and request of a <see cref="SessionDebitKey"/>.</summary>
    public static (string SessionId, string RequestId) OfSessionDebitKey(string key) => key.Split('|', 2) switch
    {
        [var session, var request] => (session, request),
        _ => throw new FormatException($"'{key}' is not <session id>|<request id>."),
    };
}

/// <summary>An owed compensation: <paramref name="Key"/> is the charged payment's id (or the session request's id; for a
/// void, <see cref="CompensationKinds.SessionDebitKey"/>).</summary>
public sealed record Compensation(string Kind, string Organization, string Payer, string Key)
{
    public string Id => $"{Kind}:{Key}";
}

/// <summary>A compensation leased for one attempt: <paramref name="Age"/> since it was owed (database clock), <paramref name="Version"/> to finish it.</summary>
public sealed record DueCompensation(Compensation Compensation, int Attempts, TimeSpan Age, int Version);

/// <summary>
/// The gate's durable record of money it owes back (table <c>compensations</c>, migration 0005): written when an inline
/// mandate release could not reach SessionApi or a session debit's confirm went unanswered, drained by <see cref="CompensationRetrier"/>. Without it a
/// SessionApi outage at the wrong moment left a payer charged for a request that was never served.
/// </summary>
public sealed partial class CompensationStore(IServiceProvider services, ILogger<CompensationStore> logger)
{
    // Resolved on first use, not at start-up: the gate starts whatever state the database is in.
    NpgsqlDataSource Database => services.GetRequiredService<NpgsqlDataSource>();

    /// <summary>
    /// Records what is owed. Owed again under the same key (pending, done or abandoned) makes it pending again under a new
    /// version, owed from now. False when the database did not answer either: logged as critical.
    /// </summary>
    public async Task<bool> RecordAsync(Compensation owed, string reason)
    {
        try
        {
            // In the database's clock, as leases are: no gate's clock skew enters the in-flight window.
            await using var command = Database.CreateCommand("""
                INSERT INTO compensations (id, kind, organization, payer, key, outcome)
                VALUES ($1, $2, $3, $4, $5, $6)
                ON CONFLICT (id) DO UPDATE SET status = 'pending', outcome = EXCLUDED.outcome, version = compensations.version + 1,
                    created_at = now(), updated_at = now(),
                    attempts = CASE WHEN compensations.status = 'pending' THEN compensations.attempts ELSE 0 END,
                    next_attempt_at = CASE WHEN compensations.status = 'pending' THEN compensations.next_attempt_at ELSE now() END
                """);
            PaymentStore.AddAll(command, owed.Id, owed.Kind, owed.Organization, owed.Payer, owed.Key, reason);
            await command.ExecuteNonQueryAsync(CancellationToken.None);
            LogRecorded(owed.Kind, owed.Key, owed.Payer, reason);
            PaywallTelemetry.CountCompensation(owed.Kind, "recorded");
            return true;
        }
        catch (Exception exception) when (PaymentStore.IsInfrastructure(exception))
        {
            LogNotRecorded(exception, owed.Kind, owed.Key, owed.Payer, owed.Organization);
            return false;
        }
    }

    /// <summary>Takes up to <paramref name="batch"/> due compensations; each is hidden from other passes for <paramref name="lease"/>.</summary>
    public async Task<IReadOnlyList<DueCompensation>> LeaseDueAsync(int batch, TimeSpan lease, CancellationToken cancellationToken)
    {
        await using var command = Database.CreateCommand("""
            UPDATE compensations SET attempts = attempts + 1, next_attempt_at = now() + make_interval(secs => $2), updated_at = now()
             WHERE id IN (SELECT id FROM compensations WHERE status = 'pending' AND next_attempt_at <= now()
                          ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
            RETURNING kind, organization, payer, key, attempts, extract(epoch FROM now() - created_at)::float8, version
            """);
        PaymentStore.AddAll(command, batch, lease.TotalSeconds);
        return await ReadLeasedAsync(command, cancellationToken);
    }

    static async Task<IReadOnlyList<DueCompensation>> ReadLeasedAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        var due = new List<DueCompensation>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            due.Add(new DueCompensation(
                new Compensation(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3)),
                reader.GetInt32(4), TimeSpan.FromSeconds(reader.GetDouble(5)), reader.GetInt32(6)));
        return due;
    }

    /// <summary>The pending compensations of <paramref name="kind"/> whose key starts with <paramref name="keyPrefix"/>, due or
    /// not, each leased for <paramref name="lease"/> (a close applies its session's owed voids at once).</summary>
    public async Task<IReadOnlyList<DueCompensation>> LeasePendingAsync(string kind, string keyPrefix, TimeSpan lease, CancellationToken cancellationToken)
    {
        await using var command = Database.CreateCommand("""
            UPDATE compensations SET attempts = attempts + 1, next_attempt_at = now() + make_interval(secs => $3), updated_at = now()
             WHERE id IN (SELECT id FROM compensations WHERE status = 'pending' AND kind = $1 AND starts_with(key, $2) FOR UPDATE SKIP LOCKED)
            RETURNING kind, organization, payer, key, attempts, extract(epoch FROM now() - created_at)::float8, version
            """);
        PaymentStore.AddAll(command, kind, keyPrefix, lease.TotalSeconds);
        return await ReadLeasedAsync(command, cancellationToken);
    }

    /// <summary>
    /// Final: <c>done</c> (applied, or nothing was owed) or <c>abandoned</c> (refused for good); only the version that was
    /// leased, so a debt recorded again meanwhile stays pending.
    /// </summary>
    public Task FinishAsync(DueCompensation leased, bool done, string outcome, CancellationToken cancellationToken) => ExecuteAsync(
        "UPDATE compensations SET status = $2, outcome = $3, updated_at = now() WHERE id = $1 AND status = 'pending' AND version = $4",
        cancellationToken, leased.Compensation.Id, done ? "done" : "abandoned", outcome, leased.Version);

    public Task RetryLaterAsync(DueCompensation leased, string outcome, TimeSpan delay, CancellationToken cancellationToken) => ExecuteAsync(
        """
        UPDATE compensations SET outcome = $2, next_attempt_at = now() + make_interval(secs => $3), updated_at = now()
         WHERE id = $1 AND status = 'pending' AND version = $4
        """, cancellationToken, leased.Compensation.Id, outcome, delay.TotalSeconds, leased.Version);

    async Task ExecuteAsync(string sql, CancellationToken cancellationToken, params object?[] values)
    {
        await using var command = Database.CreateCommand(sql);
        PaymentStore.AddAll(command, values);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Owed {Kind} {Key} of {Payer} recorded for retry: {Reason}")]
    partial void LogRecorded(string kind, string key, string payer, string reason);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Owed {Kind} {Key} (payer {Payer}, organisation {Organization}) could not be recorded: neither SessionApi nor the gate database answered; reconcile by hand")]
    partial void LogNotRecorded(Exception exception, string kind, string key, string payer, string organization);
}
