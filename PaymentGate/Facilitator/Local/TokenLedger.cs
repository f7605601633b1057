using System.Numerics;
using Npgsql;
using NpgsqlTypes;

namespace Sessions.PaymentGate.Facilitator.Local;

/// <summary>One token on one network: lowercase asset address and CAIP-2 network, the ledger's key beside the holder.</summary>
public sealed record LedgerToken(string Asset, string Network);

public enum LedgerTransferOutcome { Transferred, NonceAlreadyUsed, InsufficientBalance }

public sealed record LedgerTransfer(long Id, string Kind, string From, string To, BigInteger Value, string? Nonce, string Transaction, DateTimeOffset CreatedAt);

/// <summary>
/// The local facilitator's simulated chain in gatedb (migration 0002_token_ledger): what an EIP-3009 token contract
/// would do on <c>transferWithAuthorization</c>, in one database transaction. Addresses are lowercase 0x hex.
/// A settlement's credit is appended to the journal <c>token_credits</c> (migration 0008) rather than added to the payee's
/// row, which every settlement of a merchant would otherwise lock: a balance is the row plus its unfolded credits, and
/// <see cref="FoldCreditsAsync"/> (and any debit of the account) moves the credits into the row.
/// </summary>
public sealed class TokenLedger(NpgsqlDataSource dataSource)
{
    /// <summary>The sender of faucet mints, as in an ERC-20 Transfer event for a mint.</summary>
    public const string ZeroAddress = "0x0000000000000000000000000000000000000000";

    public async Task<BigInteger> GetBalanceAsync(string address, LedgerToken token, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"SELECT {BalanceOf("$1", "$2", "$3")}");
        command.Parameters.Add(new() { Value = address });
        command.Parameters.Add(new() { Value = token.Asset });
        command.Parameters.Add(new() { Value = token.Network });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return reader.GetFieldValue<BigInteger>(0);
    }

    /// <summary>What verify asks the chain, in one round trip: is the nonce of <paramref name="from"/> used, and its balance.</summary>
    public async Task<(bool NonceUsed, BigInteger Balance)> GetAuthorizationStateAsync(string from, string nonce, LedgerToken token,
        CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"""
            SELECT EXISTS (SELECT 1 FROM token_authorizations WHERE asset = $1 AND network = $2 AND from_address = $3 AND nonce = $4),
                   {BalanceOf("$3", "$1", "$2")}
            """);
        AddToken(command, token);
        command.Parameters.Add(new() { Value = from });
        command.Parameters.Add(new() { Value = nonce });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return (reader.GetBoolean(0), reader.GetFieldValue<BigInteger>(1));
    }

    /// <summary>
    /// transferWithAuthorization: marks the nonce used, debits <paramref name="from"/>, credits <paramref name="to"/> and
    /// records the transfer, all or nothing. Of concurrent calls for one (token, from, nonce) exactly one transfers: the
    /// others wait on the payer's account row (or the authorization's primary key) and then find the nonce taken.
    /// </summary>
    /// <remarks>
    /// One autocommitted call of <c>ledger_transfer_with_authorization</c> (migrations 0007, 0008): only the payer's row is
    /// locked (for the function's work and the commit); the credit is a journal row, so settlements to one merchant never queue.
    /// </remarks>
    public async Task<LedgerTransferOutcome> TransferWithAuthorizationAsync(
        LedgerToken token, string from, string to, BigInteger value, string nonce, string transaction, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT ledger_transfer_with_authorization($1, $2, $3, $4, $5, $6, $7)");
        AddToken(command, token);
        command.Parameters.Add(new() { Value = from });
        command.Parameters.Add(new() { Value = to });
        command.Parameters.Add(Amount(value));
        command.Parameters.Add(new() { Value = nonce });
        command.Parameters.Add(new() { Value = transaction });
        var outcome = (string)(await command.ExecuteScalarAsync(cancellationToken))!;
        return outcome switch
        {
            "transferred" => LedgerTransferOutcome.Transferred,
            "nonce_already_used" => LedgerTransferOutcome.NonceAlreadyUsed,
            "insufficient_balance" => LedgerTransferOutcome.InsufficientBalance,
            _ => throw new InvalidOperationException($"ledger_transfer_with_authorization answered '{outcome}'"),
        };
    }

    /// <summary>
    /// Folds the journal's credits into their accounts' rows, one account per autocommitted call (its row locked only for
    /// that call); returns how many accounts were folded. Balances are the same before and after: only where they are kept moves.
    /// </summary>
    public async Task<int> FoldCreditsAsync(CancellationToken cancellationToken)
    {
        var accounts = new List<(string Address, string Asset, string Network)>();
        await using (var list = dataSource.CreateCommand("SELECT DISTINCT address, asset, network FROM token_credits"))
        await using (var reader = await list.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
                accounts.Add((reader.GetString(0), reader.GetString(1), reader.GetString(2)));
        }
        foreach (var (address, asset, network) in accounts)
        {
            await using var fold = dataSource.CreateCommand("SELECT ledger_fold_credits($1, $2, $3)");
            fold.Parameters.Add(new() { Value = address });
            fold.Parameters.Add(new() { Value = asset });
            fold.Parameters.Add(new() { Value = network });
            await fold.ExecuteNonQueryAsync(cancellationToken);
        }
        return accounts.Count;
    }

    /// <summary>Faucet: creates <paramref name="value"/> out of nothing for <paramref name="to"/>; returns the new balance.</summary>
    public async Task<BigInteger> MintAsync(LedgerToken token, string to, BigInteger value, string transaction, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var dbTransaction = await connection.BeginTransactionAsync(cancellationToken);
        var balance = await CreditAsync(connection, dbTransaction, token, to, value, cancellationToken);
        await InsertTransferAsync(connection, dbTransaction, "faucet", token, ZeroAddress, to, value, null, transaction, cancellationToken);
        await dbTransaction.CommitAsync(cancellationToken);
        return balance;
    }

    /// <summary>
    /// A refund the merchant sends back (a session closed with its balance left): debits <paramref name="from"/> (the
    /// organisation's payTo), credits <paramref name="to"/> (the payer), kind <c>refund</c>. Idempotent on
    /// <paramref name="transaction"/>: the same refund asked twice (a repeated close) moves money once and answers true both
    /// times. False when <paramref name="from"/> cannot cover it (nothing moved).
    /// </summary>
    public async Task<bool> RefundAsync(LedgerToken token, string from, string to, BigInteger value, string transaction, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var dbTransaction = await connection.BeginTransactionAsync(cancellationToken);
        // Serialises concurrent copies of one refund on its transaction id before anything moves.
        await using (var guard = new NpgsqlCommand("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", connection, dbTransaction))
        {
            guard.Parameters.Add(new() { Value = transaction });
            await guard.ExecuteNonQueryAsync(cancellationToken);
        }
        await using (var done = new NpgsqlCommand("SELECT EXISTS (SELECT 1 FROM token_transfers WHERE transaction = $1)", connection, dbTransaction))
        {
            done.Parameters.Add(new() { Value = transaction });
            if ((bool)(await done.ExecuteScalarAsync(cancellationToken))!)
                return true;
        }
        if (string.CompareOrdinal(to, from) < 0)
            await CreditAsync(connection, dbTransaction, token, to, value, cancellationToken);
        if (!await DebitAsync(connection, dbTransaction, token, from, value, cancellationToken))
            return false;
        if (string.CompareOrdinal(to, from) >= 0)
            await CreditAsync(connection, dbTransaction, token, to, value, cancellationToken);
        await InsertTransferAsync(connection, dbTransaction, "refund", token, from, to, value, null, transaction, cancellationToken);
        await dbTransaction.CommitAsync(cancellationToken);
        return true;
    }

    /// <summary>The newest transfers from or to <paramref name="address"/>, newest first.</summary>
    public async Task<IReadOnlyList<LedgerTransfer>> GetTransfersAsync(string address, LedgerToken token, int limit, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT id, kind, from_address, to_address, value, nonce, transaction, created_at FROM token_transfers
            WHERE asset = $1 AND network = $2 AND (from_address = $3 OR to_address = $3)
            ORDER BY id DESC LIMIT $4
            """);
        AddToken(command, token);
        command.Parameters.Add(new() { Value = address });
        command.Parameters.Add(new() { Value = limit });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var transfers = new List<LedgerTransfer>();
        while (await reader.ReadAsync(cancellationToken))
            transfers.Add(new LedgerTransfer(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3),
                reader.GetFieldValue<BigInteger>(4), reader.IsDBNull(5) ? null : reader.GetString(5), reader.GetString(6),
                reader.GetFieldValue<DateTimeOffset>(7)));
        return transfers;
    }

    static async Task<BigInteger> CreditAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, LedgerToken token, string address,
        BigInteger value, CancellationToken cancellationToken)
    {
        await using var credit = new NpgsqlCommand("""
            INSERT INTO token_accounts (address, asset, network, balance) VALUES ($3, $1, $2, $4)
            ON CONFLICT (address, asset, network) DO UPDATE SET balance = token_accounts.balance + EXCLUDED.balance, updated_at = now()
            RETURNING balance + coalesce((SELECT sum(value) FROM token_credits c WHERE c.address = $3 AND c.asset = $1 AND c.network = $2), 0)
            """, connection, transaction);
        AddToken(credit, token);
        credit.Parameters.Add(new() { Value = address });
        credit.Parameters.Add(Amount(value));
        await using var reader = await credit.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return reader.GetFieldValue<BigInteger>(0);
    }

    static async Task<bool> DebitAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, LedgerToken token, string address,
        BigInteger value, CancellationToken cancellationToken)
    {
        // The account's journal credits first (its row locked from here on), so the balance checked is whole.
        await using (var fold = new NpgsqlCommand("SELECT ledger_fold_credits($3, $1, $2)", connection, transaction))
        {
            AddToken(fold, token);
            fold.Parameters.Add(new() { Value = address });
            await fold.ExecuteNonQueryAsync(cancellationToken);
        }
        // The balance condition and the update are one statement: the row lock makes check-and-debit atomic.
        await using var debit = new NpgsqlCommand("""
            UPDATE token_accounts SET balance = balance - $4, updated_at = now()
            WHERE asset = $1 AND network = $2 AND address = $3 AND balance >= $4
            """, connection, transaction);
        AddToken(debit, token);
        debit.Parameters.Add(new() { Value = address });
        debit.Parameters.Add(Amount(value));
        return await debit.ExecuteNonQueryAsync(cancellationToken) == 1 || value.IsZero;
    }

    static async Task InsertTransferAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string kind, LedgerToken token,
        string from, string to, BigInteger value, string? nonce, string hash, CancellationToken cancellationToken)
    {
        await using var insert = new NpgsqlCommand("""
            INSERT INTO token_transfers (kind, asset, network, from_address, to_address, value, nonce, transaction)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
            """, connection, transaction);
        insert.Parameters.Add(new() { Value = kind });
        insert.Parameters.Add(new() { Value = token.Asset });
        insert.Parameters.Add(new() { Value = token.Network });
        insert.Parameters.Add(new() { Value = from });
        insert.Parameters.Add(new() { Value = to });
        insert.Parameters.Add(Amount(value));
        insert.Parameters.Add(new() { Value = (object?)nonce ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        insert.Parameters.Add(new() { Value = hash });
        await insert.ExecuteNonQueryAsync(cancellationToken);
    }

    // An account's balance as SQL: its row (0 when it has none) plus its credits not folded yet.
    static string BalanceOf(string address, string asset, string network) =>
        $"coalesce((SELECT balance FROM token_accounts WHERE address = {address} AND asset = {asset} AND network = {network}), 0) + " +
        $"coalesce((SELECT sum(value) FROM token_credits WHERE address = {address} AND asset = {asset} AND network = {network}), 0)";

    static void AddToken(NpgsqlCommand command, LedgerToken token)
    {
        command.Parameters.Add(new() { Value = token.Asset });
        command.Parameters.Add(new() { Value = token.Network });
    }

    static NpgsqlParameter Amount(BigInteger value) => new() { Value = value, NpgsqlDbType = NpgsqlDbType.Numeric };
}
