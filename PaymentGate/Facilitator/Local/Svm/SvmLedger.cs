using Npgsql;
using NpgsqlTypes;
using Sessions.Payments.Svm;

namespace Sessions.PaymentGate.Facilitator.Local.Svm;

public enum SvmTransferOutcome { Transferred, AlreadyProcessed, SourceMissing, OwnerMismatch, MintMismatch, InsufficientFunds }

/// <summary>An SPL token account on the simulated chain.</summary>
public sealed record SvmTokenAccount(string Address, string Owner, string Mint, ulong Balance);

/// <summary>What a simulation asks the chain before a transfer: has this transaction landed, and the source account.</summary>
public sealed record SvmTransferState(bool AlreadyProcessed, SvmTokenAccount? Source);

public sealed record SvmLedgerTransaction(string Signature, string Kind, string? Source, string Destination, string Owner, ulong Amount, DateTimeOffset CreatedAt);

/// <summary>
/// The simulated Solana chain in gatedb (migration 0011_svm_ledger): SPL token accounts per (network, address) and the
/// transactions that landed, keyed by their signature. A transfer is one call of <c>svm_ledger_transfer</c>.
/// </summary>
public sealed class SvmLedger(NpgsqlDataSource dataSource)
{
    public async Task<SvmTokenAccount?> GetAccountAsync(string network, string address, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT address, owner, mint, balance FROM svm_token_accounts WHERE network = $1 AND address = $2");
        command.Parameters.Add(new() { Value = network });
        command.Parameters.Add(new() { Value = address });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadAccount(reader, 0) : null;
    }

    public async Task<SvmTransferState> GetTransferStateAsync(string network, string signature, string source, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT EXISTS (SELECT 1 FROM svm_transactions WHERE signature = $1), a.address, a.owner, a.mint, a.balance
            FROM (SELECT 1) one LEFT JOIN svm_token_accounts a ON a.network = $2 AND a.address = $3
            """);
        command.Parameters.Add(new() { Value = signature });
        command.Parameters.Add(new() { Value = network });
        command.Parameters.Add(new() { Value = source });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new SvmTransferState(reader.GetBoolean(0), reader.IsDBNull(1) ? null : ReadAccount(reader, 1));
    }

    /// <summary>Applies a verified TransferChecked under its transaction id, all or nothing; a second call with the id moves nothing.</summary>
    public async Task<SvmTransferOutcome> TransferAsync(string signature, VerifiedSvmTransfer transfer, string payTo, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT svm_ledger_transfer($1, $2, $3, $4, $5, $6, $7, $8, $9)");
        foreach (var value in new object[] { transfer.Network, signature, transfer.Mint.ToString(), transfer.Source.ToString(), transfer.Authority.ToString(),
                     transfer.Destination.ToString(), payTo })
            command.Parameters.Add(new() { Value = value });
        command.Parameters.Add(new() { Value = (decimal)transfer.Amount, NpgsqlDbType = NpgsqlDbType.Numeric });
        command.Parameters.Add(new() { Value = transfer.FeePayer.ToString() });
        var outcome = (string)(await command.ExecuteScalarAsync(cancellationToken))!;
        return outcome switch
        {
            "transferred" => SvmTransferOutcome.Transferred,
            "already_processed" => SvmTransferOutcome.AlreadyProcessed,
            "source_missing" => SvmTransferOutcome.SourceMissing,
            "owner_mismatch" => SvmTransferOutcome.OwnerMismatch,
            "mint_mismatch" => SvmTransferOutcome.MintMismatch,
            "insufficient_funds" => SvmTransferOutcome.InsufficientFunds,
            _ => throw new InvalidOperationException($"svm_ledger_transfer answered '{outcome}'"),
        };
    }

    /// <summary>
    /// A refund from <paramref name="from"/>'s associated token account to <paramref name="to"/>'s (opened when missing),
    /// idempotent on <paramref name="signature"/>: true when it moved now or before, false when the merchant cannot cover it.
    /// </summary>
    public async Task<bool> RefundAsync(SvmAssetInfo asset, SolanaAddress from, SolanaAddress to, ulong amount, string signature, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT svm_ledger_refund($1, $2, $3, $4, $5, $6, $7, $8)");
        foreach (var value in new object[] { asset.Network, signature, asset.Mint.ToString(),
                     SolanaAddress.AssociatedTokenAccount(from, asset.Mint, asset.TokenProgram).ToString(), from.ToString(),
                     SolanaAddress.AssociatedTokenAccount(to, asset.Mint, asset.TokenProgram).ToString(), to.ToString() })
            command.Parameters.Add(new() { Value = value });
        command.Parameters.Add(new() { Value = (decimal)amount, NpgsqlDbType = NpgsqlDbType.Numeric });
        return (string)(await command.ExecuteScalarAsync(cancellationToken))! != "insufficient_funds";
    }

    /// <summary>Faucet: mints into the owner's associated token account (opened when missing); returns the new balance.</summary>
    public async Task<ulong> MintAsync(SvmAssetInfo asset, SolanaAddress owner, ulong amount, string signature, CancellationToken cancellationToken)
    {
        var account = SolanaAddress.AssociatedTokenAccount(owner, asset.Mint, asset.TokenProgram).ToString();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var credit = new NpgsqlCommand("""
            INSERT INTO svm_token_accounts (network, address, owner, mint, balance) VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (network, address) DO UPDATE SET balance = svm_token_accounts.balance + EXCLUDED.balance, updated_at = now()
            RETURNING balance
            """, connection, transaction);
        await using var record = new NpgsqlCommand("""
            INSERT INTO svm_transactions (signature, network, kind, mint, destination, owner, amount) VALUES ($1, $2, 'faucet', $3, $4, $5, $6)
            """, connection, transaction);
        foreach (var value in new object[] { asset.Network, account, owner.ToString(), asset.Mint.ToString() })
            credit.Parameters.Add(new() { Value = value });
        credit.Parameters.Add(new() { Value = (decimal)amount, NpgsqlDbType = NpgsqlDbType.Numeric });
        foreach (var value in new object[] { signature, asset.Network, asset.Mint.ToString(), account, owner.ToString() })
            record.Parameters.Add(new() { Value = value });
        record.Parameters.Add(new() { Value = (decimal)amount, NpgsqlDbType = NpgsqlDbType.Numeric });
        var balance = (decimal)(await credit.ExecuteScalarAsync(cancellationToken))!;
        await record.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return (ulong)balance;
    }

    /// <summary>The newest transactions from or to a token account, newest first.</summary>
    public async Task<IReadOnlyList<SvmLedgerTransaction>> GetTransactionsAsync(string network, string account, int limit, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT signature, kind, source, destination, owner, amount, created_at FROM svm_transactions
            WHERE network = $1 AND (source = $2 OR destination = $2) ORDER BY created_at DESC LIMIT $3
            """);
        command.Parameters.Add(new() { Value = network });
        command.Parameters.Add(new() { Value = account });
        command.Parameters.Add(new() { Value = limit });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var transactions = new List<SvmLedgerTransaction>();
        while (await reader.ReadAsync(cancellationToken))
            transactions.Add(new SvmLedgerTransaction(reader.GetString(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2),
                reader.GetString(3), reader.GetString(4), (ulong)reader.GetDecimal(5), reader.GetFieldValue<DateTimeOffset>(6)));
        return transactions;
    }

    static SvmTokenAccount ReadAccount(NpgsqlDataReader reader, int first) =>
        new(reader.GetString(first), reader.GetString(first + 1), reader.GetString(first + 2), (ulong)reader.GetDecimal(first + 3));
}
