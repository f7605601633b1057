using System.Data;
using System.Numerics;
using Npgsql;

namespace Sessions.SessionApi.Ledger;

/// <summary>One broken rule on one session: which check, what the row says and what it should say.</summary>
public sealed record Violation(string SessionId, string Check, string Expected, string Actual);

public sealed record LedgerAuditReport(int Checked, IReadOnlyList<Violation> Violations, DateTimeOffset CheckedAt);

/// <summary>
/// Re-derives every session from its ledger and checks the accounting invariant. Reads one snapshot (REPEATABLE READ),
/// so debits committing meanwhile cannot show up as false violations.
/// </summary>
public sealed class LedgerAudit(NpgsqlDataSource dataSource, TimeProvider time, ILogger<LedgerAudit> logger)
{
    public async Task<LedgerAuditReport> AuditAsync(CancellationToken cancellationToken)
    {
        using var activity = SessionApiTelemetry.ActivitySource.StartActivity("sessions.ledger_audit");
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);
        await using var command = new NpgsqlCommand("""
            SELECT s.id, s.kind, s.state, s.deposit, s.topped_up, s.spent, s.balance, s.refunded, s.request_count,
                   coalesce(sum(l.amount) FILTER (WHERE l.kind = 'deposit'), 0),
                   coalesce(sum(l.amount) FILTER (WHERE l.kind = 'topup'), 0),
                   coalesce(sum(l.amount) FILTER (WHERE l.kind = 'debit'), 0),
                   coalesce(sum(l.amount) FILTER (WHERE l.kind = 'credit'), 0),
                   coalesce(sum(l.amount) FILTER (WHERE l.kind = 'refund'), 0),
                   count(*) FILTER (WHERE l.kind = 'debit' AND l.idempotency_key LIKE 'debit:%'),
                   count(*) FILTER (WHERE l.kind = 'credit')
            FROM sessions s LEFT JOIN session_ledger l ON l.session_id = s.id
            GROUP BY s.id ORDER BY s.id
            """, connection, transaction);
        var violations = new List<Violation>();
        var count = 0;
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                count++;
                var id = reader.GetString(0);
                var kind = reader.GetString(1);
                var state = reader.GetString(2);
                BigInteger At(int ordinal) => reader.GetFieldValue<BigInteger>(ordinal);
                var (deposit, toppedUp, spent, balance, refunded) = (At(3), At(4), At(5), At(6), At(7));
                var requestCount = reader.GetInt64(8);
                var (ledgerDeposit, ledgerTopUp, ledgerDebit, ledgerCredit, ledgerRefund) = (At(9), At(10), At(11), At(12), At(13));
                var (debits, credits) = (reader.GetInt64(14), reader.GetInt64(15));

                void Check(string name, BigInteger expected, BigInteger actual)
                {
                    if (expected != actual) violations.Add(new Violation(id, name, expected.ToString(), actual.ToString()));
                }
                Check("deposit + topped_up = spent + balance + refunded", deposit + toppedUp, spent + balance + refunded);
                Check("ledger deposits = deposit", ledgerDeposit, deposit);
                Check("ledger top-ups = topped_up", ledgerTopUp, toppedUp);
                Check("ledger debits - credits = spent", ledgerDebit - ledgerCredit, spent);
                Check("ledger refunds = refunded", ledgerRefund, refunded);
                Check("ledger balance = balance", ledgerDeposit + ledgerTopUp - ledgerDebit + ledgerCredit - ledgerRefund, balance);
                // A pass counts its opening debit too (not a request); a prepaid request is one debit (credit rows: ledgers from before issue 16).
                if (kind == "prepaid") Check("ledger debits - credits = request_count", debits - credits, requestCount);
                if (state is "DEPLETED" or "REFUNDED") Check($"balance of a {state} session", BigInteger.Zero, balance);
            }
        }
        await transaction.CommitAsync(cancellationToken);
        if (violations.Count > 0)
            logger.LogError("The ledger audit found {Count} violations in {Sessions} sessions, first: {Violation}", violations.Count, count, violations[0]);
        activity?.SetTag("sessions.checked", count);
        activity?.SetTag("sessions.violations", violations.Count);
        return new LedgerAuditReport(count, violations, time.GetUtcNow());
    }
}
