using System.Text.Json;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using Sessions.PaymentGate.Receipts;
using Sessions.PaymentGate.Sessions;
using Sessions.Payments.Ledger;
using Sessions.ServiceDefaults.Hosting;
using Sessions.ServiceDefaults.Ledger;

namespace Sessions.PaymentGate.Ledger;

/// <summary>Configuration section <c>Gate:Ledger</c>.</summary>
public sealed class LedgerGateOptions
{
    /// <summary>How often the heads of both chains are signed (a new checkpoint only when a head moved).</summary>
    public TimeSpan CheckpointInterval { get; set; } = TimeSpan.FromMinutes(1);
}

/// <summary>
/// Signs the heads of the gate's chain and of SessionApi's (fetched over the typed client: the private key never leaves
/// the gate) and stores them as published checkpoints. A head that did not move is not signed again. SessionApi being down
/// only skips its checkpoint for this pass.
/// </summary>
public sealed class LedgerCheckpointer(NpgsqlDataSource dataSource, LedgerChainer chainer, SessionApiClient sessionApi, GateSigningKeys keys,
    TimeProvider time, IOptions<LedgerGateOptions> options, ILogger<LedgerCheckpointer> logger) : PeriodicWorker(logger)
{
    protected override TimeSpan Interval => options.Value.CheckpointInterval;
    protected override string PassName => "Ledger checkpoint";

    protected override Task RunPassAsync(CancellationToken cancellationToken) => CheckpointBothAsync(cancellationToken);

    /// <summary>One pass: the gate's head, then SessionApi's.</summary>
    public async Task CheckpointBothAsync(CancellationToken cancellationToken)
    {
        await CheckpointAsync(await chainer.HeadAsync(cancellationToken), cancellationToken);
        LedgerChainHead? sessions = null;
        try
        {
            var answer = await sessionApi.LedgerHeadAsync(cancellationToken);
            if (answer.IsSuccess) sessions = answer.Body.Deserialize<LedgerChainHead>(JsonSerializerOptions.Web);
            else logger.LogWarning("SessionApi answered {Status} for its ledger head: no sessions checkpoint this pass", (int)answer.Status);
        }
        catch (SessionApiUnavailableException exception)
        {
            logger.LogWarning("No sessions checkpoint this pass: {Reason}", exception.Message);
        }
        if (sessions is { Ledger: "sessions" }) await CheckpointAsync(sessions, cancellationToken);
    }

    /// <summary>Signs and stores <paramref name="head"/> unless the chain is empty or that position is signed already.</summary>
    public async Task CheckpointAsync(LedgerChainHead head, CancellationToken cancellationToken)
    {
        if (head.Position < 0) return;
        var checkpoint = new LedgerCheckpoint(head.Ledger, head.Position, head.Head, time.GetUtcNow());
        var jws = keys.SignJws(LedgerCheckpoints.JwsType, LedgerCheckpoints.Payload(checkpoint));
        await using var insert = dataSource.CreateCommand("""
            INSERT INTO ledger_checkpoints (ledger, position, head, at, jws) VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (ledger, position) DO NOTHING
            """);
        insert.Parameters.Add(new NpgsqlParameter { Value = checkpoint.Ledger });
        insert.Parameters.Add(new NpgsqlParameter { Value = checkpoint.Position });
        insert.Parameters.Add(new NpgsqlParameter { Value = checkpoint.Head });
        insert.Parameters.Add(new NpgsqlParameter { Value = checkpoint.At.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        insert.Parameters.Add(new NpgsqlParameter { Value = jws });
        await insert.ExecuteNonQueryAsync(cancellationToken);
    }
}

/// <summary>The stored checkpoints, published, and checked against the published keys for <c>/admin/ledger/verify</c>.</summary>
public sealed class GateLedgerCheckpoints(NpgsqlDataSource dataSource, GateSigningKeys keys) : ILedgerCheckpointSource
{
    public async Task<IReadOnlyList<PublishedCheckpoint>> ListAsync(string? ledger, CancellationToken cancellationToken)
    {
        await using var select = dataSource.CreateCommand(
            "SELECT ledger, position, head, at, jws FROM ledger_checkpoints WHERE $1::text IS NULL OR ledger = $1 ORDER BY ledger, position");
        select.Parameters.Add(new NpgsqlParameter { Value = (object?)ledger ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        var list = new List<PublishedCheckpoint>();
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            list.Add(new PublishedCheckpoint(reader.GetString(0), reader.GetInt64(1), reader.GetString(2), reader.GetFieldValue<DateTimeOffset>(3),
                reader.GetString(4)));
        return list;
    }

    /// <summary>Verified with the public keys the gate publishes, as any auditor would: never with the private key.</summary>
    public async Task<LedgerCheckpointSet> CheckpointsAsync(string ledger, CancellationToken cancellationToken)
    {
        var (verified, unverified) = LedgerCheckpoints.Verify(await ListAsync(ledger, cancellationToken), ledger, keys.Published);
        return new LedgerCheckpointSet(verified, unverified);
    }
}
