using System.Numerics;
using System.Security.Cryptography;
using Npgsql;
using NpgsqlTypes;
using Microsoft.Extensions.Options;
using Sessions.PaymentGate.Facilitator;
using Sessions.Payments.Receipts;
using StackExchange.Redis;

namespace Sessions.PaymentGate.Paywall;

/// <summary>Redis or Postgres could not answer: the paywall fails closed (503) and calls no upstream.</summary>
public sealed class PaymentStoreUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>A verified payment about to be claimed (all addresses and the nonce lowercase).</summary>
public sealed record NewPayment(string Payer, string Nonce, string Organization, string Route, string Resource, BigInteger Amount,
    string Network, string Asset, string PayTo, int X402Version, byte[] PayloadSha256, DateTimeOffset ValidBefore,
    string SettleRequestJson);

/// <summary>A settled payment whose answer was never delivered (settlement outcome was unknown at the time).</summary>
public sealed record RedeemablePayment(string Id, string Organization, string? Transaction, string Network, BigInteger Amount);

/// <summary>What a header whose payment was claimed before gets from a settle-first endpoint (<see cref="PaymentStore.FindRepeatAsync"/>).</summary>
public enum PaymentRepeat { NotRecorded, InProgress, Delivered, Finished }

/// <summary>A pending settlement leased by the reconciler.</summary>
public sealed record PendingSettlement(string Id, string Payer, string Route, BigInteger Amount, string SettleRequestJson, int Attempts);

/// <summary>
/// The gate's replay guard and payment journal. A (payer, nonce) is claimed once: first in Redis (<c>SET NX PX</c>, until
/// the authorization's validBefore; cheap, and it turns 20 concurrent copies into one winner), then durably in Postgres
/// (UNIQUE(payer, nonce) on <c>payments</c>), which stays authoritative if Redis is flushed. A released claim (upstream
/// failed, nothing charged) may be claimed again.
/// Two writes skip the wait for their commit's WAL flush (<c>synchronous_commit</c> off for that transaction only, see
/// <see cref="Unflushed"/>): a claim when the gate settles on its local ledger, whose settlement is a synchronous commit in
/// this same database and so flushes the claim with it (the WAL is one sequence) before any money moves; and the
/// <c>served</c> mark, written after the money moved: lost with a crash of Postgres, the row is recovered as pending, the
/// reconciler finds it settled, and the identical header gets its answer once more, never a second charge.
/// </summary>
public sealed class PaymentStore(IServiceProvider services, TimeProvider time, IOptionsMonitor<FacilitatorOptions> facilitator,
    ILogger<PaymentStore> logger)
{
    // Resolved on first use, not at start-up: the gate starts (and reports health) whatever state the database is in.
    NpgsqlDataSource Database => services.GetRequiredService<NpgsqlDataSource>();

    static readonly TimeSpan MaxClaimLifetime = TimeSpan.FromDays(1);

    public static string NewPaymentId() => ChargeIds.New("pay_");

    public static byte[] Hash(string header) => SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(header));

    public static string RedisKey(string payer, string nonce) => $"x402:nonce:{payer}:{nonce}";

    /// <summary>The payment id, or null when this (payer, nonce) was already claimed (a replay).</summary>
    /// <exception cref="PaymentStoreUnavailableException">Redis or Postgres did not answer.</exception>
    public async Task<string?> ClaimAsync(NewPayment payment, CancellationToken cancellationToken)
    {
        var id = NewPaymentId();
        var key = RedisKey(payment.Payer, payment.Nonce);
        var redis = Redis();
        var lifetime = payment.ValidBefore - time.GetUtcNow();
        lifetime = lifetime < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : lifetime > MaxClaimLifetime ? MaxClaimLifetime : lifetime;
        try
        {
            if (!await redis.StringSetAsync(key, id, lifetime, When.NotExists))
                return null;
        }
        catch (Exception exception) when (IsInfrastructure(exception))
        {
            throw new PaymentStoreUnavailableException($"Redis did not answer the replay claim: {exception.Message}", exception);
        }

        try
        {
            // Unflushed only when the local ledger settles it: its synchronous commit flushes this claim first (see the class).
            var unflushed = facilitator.CurrentValue.SettlesInGateDatabase;
            await using var batch = Unflushed(Database, unflushed, """
                INSERT INTO payments (id, payer, nonce, organization, route, resource, amount, network, asset, pay_to, x402_version,
                                      status, payload_sha256, valid_before, settle_request)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'verified', $12, $13, $14::jsonb)
                ON CONFLICT (payer, nonce) DO UPDATE
                   SET status = 'verified', organization = EXCLUDED.organization, route = EXCLUDED.route, resource = EXCLUDED.resource,
                       amount = EXCLUDED.amount, network = EXCLUDED.network, asset = EXCLUDED.asset, pay_to = EXCLUDED.pay_to,
                       x402_version = EXCLUDED.x402_version, payload_sha256 = EXCLUDED.payload_sha256,
                       settle_request = EXCLUDED.settle_request, error = NULL, updated_at = now()
                 WHERE payments.status = 'released'
                RETURNING id
                """);
            var command = batch.BatchCommands[^1];
            command.Parameters.Add(new() { Value = id });
            command.Parameters.Add(new() { Value = payment.Payer });
            command.Parameters.Add(new() { Value = payment.Nonce });
            command.Parameters.Add(new() { Value = payment.Organization });
            command.Parameters.Add(new() { Value = payment.Route });
            command.Parameters.Add(new() { Value = payment.Resource });
            command.Parameters.Add(new() { Value = payment.Amount, NpgsqlDbType = NpgsqlDbType.Numeric });
            command.Parameters.Add(new() { Value = payment.Network });
            command.Parameters.Add(new() { Value = payment.Asset });
            command.Parameters.Add(new() { Value = payment.PayTo });
            command.Parameters.Add(new() { Value = (short)payment.X402Version });
            command.Parameters.Add(new() { Value = payment.PayloadSha256 });
            command.Parameters.Add(new() { Value = payment.ValidBefore.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            command.Parameters.Add(new() { Value = payment.SettleRequestJson });
            // null: the row exists in a state that may not be claimed again; the Redis key stays (it is accurate).
            await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
            if (unflushed)
                await reader.NextResultAsync(cancellationToken);   // past set_config's row
            return await reader.ReadAsync(cancellationToken) ? reader.GetString(0) : null;
        }
        catch (Exception exception) when (IsInfrastructure(exception))
        {
            await ForgetRedisClaimAsync(key);
            throw new PaymentStoreUnavailableException($"Postgres did not record the payment: {exception.Message}", exception);
        }
    }

    /// <summary>The upstream failed: nothing is charged and the same payment may be presented again.</summary>
    public async Task ReleaseAsync(string id, string payer, string nonce, string reason)
    {
        await ExecuteAsync("UPDATE payments SET status = 'released', error = $2, updated_at = now() WHERE id = $1 AND status = 'verified'",
            "release", id, reason);
        await ForgetRedisClaimAsync(RedisKey(payer, nonce));
    }

    /// <summary>Settled and answered. Not waiting for the WAL flush (see the class): the money moved before, durably, elsewhere.</summary>
    public Task MarkServedAsync(string id, string? transaction) => ExecuteAsync(
        "UPDATE payments SET status = 'served', transaction = $2, settled_at = coalesce(settled_at, now()), updated_at = now() WHERE id = $1",
        "mark served", [id, transaction], flushed: false);

    public Task MarkFailedAsync(string id, string reason) => ExecuteAsync(
        "UPDATE payments SET status = 'failed', error = $2, next_attempt_at = NULL, updated_at = now() WHERE id = $1",
        "mark failed", id, reason);

    /// <summary>Settlement outcome unknown: the reconciler retries the settle request stored at claim time.</summary>
    public Task MarkPendingAsync(string id, string error, TimeSpan retryAfter) => ExecuteAsync(
        """
        UPDATE payments SET status = 'pending', error = $2,
               next_attempt_at = now() + make_interval(secs => $3), updated_at = now()
         WHERE id = $1
        """, "mark pending", id, error, retryAfter.TotalSeconds);

    /// <summary>
    /// Settled by a gate endpoint that settles before it acts (opening or topping up a session): charged, and its action
    /// running (<c>serving</c>, as a redemption: copies of the header wait, 409). <see cref="FinishRedeemAsync"/> follows:
    /// served, or settled again when the action failed, and then the identical header redeems it.
    /// </summary>
    public Task MarkSettledServingAsync(string id, string? transaction, string note) => ExecuteAsync(
        """
        UPDATE payments SET status = 'serving', transaction = $2, error = $3, settled_at = now(), updated_at = now()
         WHERE id = $1 AND status = 'verified'
        """, "mark settled (serving)", id, transaction, note);

    /// <summary>The reconciler learnt that a pending payment was settled; its answer waits for the payer to come back.</summary>
    public Task MarkSettledAsync(string id, string? transaction, string? note) => ExecuteAsync(
        """
        UPDATE payments SET status = 'settled', transaction = $2, error = $3, next_attempt_at = NULL,
               settled_at = now(), updated_at = now()
         WHERE id = $1 AND status = 'pending'
        """, "mark settled", id, transaction, note);

    /// <summary>
    /// A settled payment whose purchase could not be delivered for good was paid back (<paramref name="owed"/>: the merchant
    /// owes the payout). Only from <c>settled</c>: a redemption in progress or a served payment is never marked.
    /// </summary>
    /// <exception cref="PaymentStoreUnavailableException">Not recorded: the payment stays settled (redeemable), and the caller says so.</exception>
    public async Task MarkRefundedAsync(string id, bool owed, string? refundTransaction, string note)
    {
        try
        {
            await using var command = Database.CreateCommand(
                "UPDATE payments SET status = $2, error = $3, updated_at = now() WHERE id = $1 AND status = 'settled'");
            AddAll(command, id, owed ? "refund_owed" : "refunded", refundTransaction is null ? note : $"{note}; refund transaction {refundTransaction}");
            await command.ExecuteNonQueryAsync();
        }
        catch (Exception exception) when (IsInfrastructure(exception))
        {
            throw new PaymentStoreUnavailableException($"Postgres did not record the refund of payment {id}: {exception.Message}", exception);
        }
    }

    /// <summary>
    /// Takes a settled-but-unserved payment for delivery when the identical header comes back for the same route.
    /// Atomic: of concurrent copies, one gets the row. Null when there is none (or the store is down).
    /// </summary>
    public async Task<(RedeemablePayment? Redeemable, string? PendingId)> TryRedeemAsync(string payer, string nonce, byte[] payloadSha256,
        string route, CancellationToken cancellationToken)
    {
        try
        {
            await using (var take = Database.CreateCommand("""
                UPDATE payments SET status = 'serving', updated_at = now()
                 WHERE payer = $1 AND nonce = $2 AND payload_sha256 = $3 AND route = $4 AND status = 'settled'
                RETURNING id, organization, transaction, network, amount
                """))
            {
                AddAll(take, payer, nonce, payloadSha256, route);
                await using var reader = await take.ExecuteReaderAsync(cancellationToken);
                if (await reader.ReadAsync(cancellationToken))
                    return (new RedeemablePayment(reader.GetString(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2),
                        reader.GetString(3), reader.GetFieldValue<BigInteger>(4)), null);
            }
            await using var pending = Database.CreateCommand(
                "SELECT id FROM payments WHERE payer = $1 AND nonce = $2 AND payload_sha256 = $3 AND status = 'pending'");
            AddAll(pending, payer, nonce, payloadSha256);
            return (null, await pending.ExecuteScalarAsync(cancellationToken) as string);
        }
        catch (Exception exception) when (IsInfrastructure(exception))
        {
            logger.LogWarning(exception, "Could not look up a redeemable payment for {Payer}/{Nonce}.", payer, nonce);
            return (null, null);
        }
    }

    /// <summary>
    /// What became of the payment of a header that comes back to a settle-first endpoint with nothing to redeem: no row
    /// (never claimed, or claimed in Redis by a request that has not written it yet), still being settled or acted on by
    /// another request, delivered with the authorization still valid (the idempotent action answers again), or finished
    /// otherwise (another header with this nonce, released, failed, refunded, or delivered and expired).
    /// </summary>
    public async Task<(PaymentRepeat Repeat, RedeemablePayment? Delivered)> FindRepeatAsync(string payer, string nonce, byte[] payloadSha256,
        string route, CancellationToken cancellationToken)
    {
        try
        {
            await using var select = Database.CreateCommand("""
                SELECT id, organization, transaction, network, amount, status, payload_sha256 = $3 AND route = $4, valid_before > $5
                  FROM payments WHERE payer = $1 AND nonce = $2
                """);
            AddAll(select, payer, nonce, payloadSha256, route, time.GetUtcNow().UtcDateTime);
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            if (!await reader.ReadAsync(cancellationToken))
                return (PaymentRepeat.NotRecorded, null);
            var (status, sameHeader, valid) = (reader.GetString(5), reader.GetBoolean(6), reader.GetBoolean(7));
            if (!sameHeader)
                return (PaymentRepeat.Finished, null);
            if (status is "verified" or "settled" or "serving")
                return (PaymentRepeat.InProgress, null);
            if (status != "served" || !valid)
                return (PaymentRepeat.Finished, null);
            return (PaymentRepeat.Delivered, new RedeemablePayment(reader.GetString(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2),
                reader.GetString(3), reader.GetFieldValue<BigInteger>(4)));
        }
        catch (Exception exception) when (IsInfrastructure(exception))
        {
            logger.LogWarning(exception, "Could not look up what became of payment {Payer}/{Nonce}.", payer, nonce);
            return (PaymentRepeat.Finished, null);
        }
    }

    /// <summary>After a redemption: delivered (served) or the upstream failed again (settled, may be presented again).</summary>
    public Task FinishRedeemAsync(string id, bool served) => ExecuteAsync(
        $"UPDATE payments SET status = '{(served ? "served" : "settled")}', updated_at = now() WHERE id = $1 AND status = 'serving'",
        "finish redemption", id);

    /// <summary>Leases up to <paramref name="batch"/> due pending settlements (SKIP LOCKED: several gates share the work).</summary>
    /// <summary>
    /// Claims whose gate stopped (crash, kill) between claim and outcome: still <c>verified</c>, or <c>serving</c>, long after
    /// any request could still be running. Nobody knows whether they were settled, so they become <c>pending</c> and the
    /// reconciler settles them with the request stored at claim time; the payer's identical header is then served once
    /// without a new charge (or, if the settlement is refused, nothing is charged). An interrupted redemption goes back
    /// to <c>settled</c>, redeemable again. Returns how many rows were recovered.
    /// </summary>
    public async Task<int> RecoverAbandonedAsync(TimeSpan olderThan, CancellationToken cancellationToken)
    {
        await using var command = Database.CreateCommand("""
            WITH verified AS (
                UPDATE payments SET status = 'pending', next_attempt_at = now(), updated_at = now(),
                       error = 'the gate stopped before the outcome of this payment was known'
                 WHERE status = 'verified' AND settle_request IS NOT NULL AND updated_at < now() - $1
                RETURNING id),
            serving AS (
                UPDATE payments SET status = 'settled', updated_at = now()
                 WHERE status = 'serving' AND updated_at < now() - $1
                RETURNING id)
            SELECT (SELECT count(*) FROM verified) + (SELECT count(*) FROM serving)
            """);
        command.Parameters.Add(new() { Value = olderThan, NpgsqlDbType = NpgsqlDbType.Interval });
        return Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
    }

    public async Task<IReadOnlyList<PendingSettlement>> LeasePendingAsync(int batch, TimeSpan lease, CancellationToken cancellationToken)
    {
        await using var command = Database.CreateCommand("""
            UPDATE payments SET attempts = attempts + 1, next_attempt_at = now() + make_interval(secs => $2), updated_at = now()
             WHERE id IN (SELECT id FROM payments WHERE status = 'pending' AND next_attempt_at <= now()
                          ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
            RETURNING id, payer, route, amount, settle_request::text, attempts
            """);
        AddAll(command, batch, lease.TotalSeconds);
        var leased = new List<PendingSettlement>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            leased.Add(new PendingSettlement(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetFieldValue<BigInteger>(3),
                reader.GetString(4), reader.GetInt32(5)));
        return leased;
    }

    /// <summary>
    /// Runs <paramref name="action"/> with the payment's status (null: no such payment) while its row is locked: a claim or
    /// redemption of the same payment waits until it returns. Throws when Postgres does not answer.
    /// </summary>
    public async Task<T> WithStatusLockedAsync<T>(string id, Func<string?, Task<T>> action, CancellationToken cancellationToken)
    {
        await using var connection = await Database.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var command = new NpgsqlCommand("SELECT status FROM payments WHERE id = $1 FOR UPDATE", connection, transaction);
        AddAll(command, id);
        var result = await action(await command.ExecuteScalarAsync(cancellationToken) as string);
        await transaction.CommitAsync(cancellationToken);
        return result;
    }

    IDatabase Redis()
    {
        try
        {
            return services.GetService<IConnectionMultiplexer>()?.GetDatabase()
                ?? throw new PaymentStoreUnavailableException("Redis is not configured (ConnectionStrings:redis): paid routes are closed.");
        }
        catch (InvalidOperationException exception)
        {
            throw new PaymentStoreUnavailableException($"Redis is not usable: {exception.Message}", exception);
        }
    }

    async Task ForgetRedisClaimAsync(string key)
    {
        try
        {
            await Redis().KeyDeleteAsync(key);
        }
        catch (Exception exception) when (IsInfrastructure(exception) || exception is PaymentStoreUnavailableException)
        {
            // The claim then expires with the authorization: the payer signs a new payment; never a double charge.
            logger.LogWarning(exception, "Could not remove the Redis claim {Key}.", key);
        }
    }

    Task ExecuteAsync(string sql, string what, params object?[] values) => ExecuteAsync(sql, what, values, flushed: true);

    async Task ExecuteAsync(string sql, string what, object?[] values, bool flushed)
    {
        try
        {
            await using var batch = Unflushed(Database, !flushed, sql);
            foreach (var value in values)
                batch.BatchCommands[^1].Parameters.Add(new NpgsqlParameter { Value = value ?? DBNull.Value });
            await batch.ExecuteNonQueryAsync();
        }
        catch (Exception exception) when (IsInfrastructure(exception))
        {
            // The outcome for the client is already decided; the row keeps its previous status for an operator to see.
            logger.LogError(exception, "Could not {What} payment {PaymentId}.", what, values[0]);
        }
    }

    /// <summary>
    /// <paramref name="sql"/> as the last command of a batch, which Npgsql runs as one implicit transaction; with
    /// <paramref name="unflushed"/>, preceded by <c>set_config('synchronous_commit', 'off', true)</c>: that transaction's commit
    /// returns before its WAL is flushed (the WAL writer flushes it within a few hundred milliseconds). Transaction-local,
    /// so the pooled connection keeps its setting.
    /// </summary>
    public static NpgsqlBatch Unflushed(NpgsqlDataSource database, bool unflushed, string sql)
    {
        var batch = database.CreateBatch();
        if (unflushed)
            batch.BatchCommands.Add(new NpgsqlBatchCommand("SELECT set_config('synchronous_commit', 'off', true)"));
        batch.BatchCommands.Add(new NpgsqlBatchCommand(sql));
        return batch;
    }

    /// <summary>Positional parameters ($1, $2, …) in order; null becomes SQL NULL.</summary>
    internal static void AddAll(NpgsqlCommand command, params object?[] values)
    {
        foreach (var value in values)
            command.Parameters.Add(new NpgsqlParameter { Value = value ?? DBNull.Value });
    }

    internal static bool IsInfrastructure(Exception exception) =>
        exception is NpgsqlException or RedisException or TimeoutException or System.Net.Sockets.SocketException or IOException
            or InvalidOperationException or ObjectDisposedException;
}
