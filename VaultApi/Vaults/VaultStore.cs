using Microsoft.Extensions.Options;
using Npgsql;

namespace Sessions.VaultApi.Vaults;

public enum AddStatus { Added, NotFound, ReadOnly }

/// <summary>A vault the retention sweeper has to report on (and, when <see cref="Due"/>, delete).</summary>
public sealed record SweepCandidate(Vault Vault, int Documents, bool ExpiringReported, bool Due);

public sealed record AddResult(AddStatus Status, VaultDocument? Document = null, Vault? Vault = null);

/// <summary>One page of documents and the cursor of the next page (null on the last one).</summary>
public sealed record DocumentPage(IReadOnlyList<VaultDocument> Items, string? NextCursor);

/// <summary>Vaults, documents and access tokens in vaultsdb. "Now" always comes from the TimeProvider.</summary>
public sealed class VaultStore(NpgsqlDataSource db, TimeProvider time, IOptions<VaultApiOptions> options)
{
    // The effective state: an active vault past its session's expiry is expired even before the sweeper stores it.
    const string VaultColumns = """
        id, session_id, organization, payer,
        CASE WHEN state = 'active' AND expires_at <= $1 THEN 'expired' ELSE state END,
        created_at, expires_at, sealed_at, retention_until
        """;

    const string DocumentColumns = "id, seq, vault_id, name, content_type, NULL::text, size, created_at, added_by";

    /// <summary>
    /// The session's vault, created when missing. <c>ON CONFLICT DO NOTHING</c> on the unique session id makes concurrent or
    /// repeated calls converge on one row; the loser of a race reads the winner's vault.
    /// </summary>
    public async Task<(Vault Vault, bool Created)> EnsureAsync(string sessionId, string organization, string payer, DateTimeOffset expiresAt,
        CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        expiresAt = expiresAt.ToUniversalTime();
        await using var insert = db.CreateCommand("""
            INSERT INTO vaults (id, session_id, organization, payer, created_at, expires_at, retention_until)
            VALUES ($2, $3, $4, $5, $1, $6, $7)
            ON CONFLICT (session_id) DO NOTHING RETURNING id
            """);
        Args(insert, now, VaultIds.NewVaultId(), sessionId, organization, payer, expiresAt, expiresAt + options.Value.RetentionFor(organization));
        var created = await insert.ExecuteScalarAsync(cancellationToken) is not null;
        var vault = await GetBySessionAsync(sessionId, cancellationToken)
            ?? throw new InvalidOperationException($"The vault of {sessionId} vanished right after its creation.");
        return (vault, created);
    }

    public Task<Vault?> GetAsync(string id, CancellationToken cancellationToken) =>
        SingleVaultAsync($"SELECT {VaultColumns} FROM vaults WHERE id = $2", id, cancellationToken);

    public Task<Vault?> GetBySessionAsync(string sessionId, CancellationToken cancellationToken) =>
        SingleVaultAsync($"SELECT {VaultColumns} FROM vaults WHERE session_id = $2", sessionId, cancellationToken);

    /// <summary>Makes an active vault read-only (its session closed); retention counts from now. Sealed or expired: unchanged.</summary>
    public async Task<Vault?> SealAsync(string sessionId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var vault = await SingleVaultAsync(connection, $"SELECT {VaultColumns} FROM vaults WHERE session_id = $2 FOR UPDATE", sessionId, cancellationToken);
        if (vault is { State: VaultStates.Active })
        {
            await using var update = new NpgsqlCommand(
                "UPDATE vaults SET state = 'sealed', sealed_at = $1, retention_until = $2 WHERE id = $3", connection, transaction);
            Args(update, now, now + options.Value.RetentionFor(vault.Organization), vault.Id);
            await update.ExecuteNonQueryAsync(cancellationToken);
            vault = await SingleVaultAsync(connection, $"SELECT {VaultColumns} FROM vaults WHERE id = $2", vault.Id, cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
        return vault;
    }

    /// <summary>Adds a document while the vault is writable; the row lock (FOR SHARE) orders it against a concurrent seal.</summary>
    public async Task<AddResult> AddDocumentAsync(string vaultId, string name, string contentType, string content, int size, string? addedBy,
        CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var vault = await SingleVaultAsync(connection, $"SELECT {VaultColumns} FROM vaults WHERE id = $2 FOR SHARE", vaultId, cancellationToken);
        if (vault is null) return new(AddStatus.NotFound);
        if (vault.State != VaultStates.Active) return new(AddStatus.ReadOnly, Vault: vault);
        var id = VaultIds.NewDocumentId();
        await using var insert = new NpgsqlCommand("""
            INSERT INTO vault_documents (id, vault_id, name, content_type, content, size, created_at, added_by)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING seq
            """, connection, transaction);
        Args(insert, id, vaultId, name, contentType, content, size, now, addedBy);
        var seq = (long)(await insert.ExecuteScalarAsync(cancellationToken))!;
        await transaction.CommitAsync(cancellationToken);
        return new(AddStatus.Added, new VaultDocument(id, seq, vaultId, name, contentType, content, size, now, addedBy), vault);
    }

    public async Task<DocumentPage> ListDocumentsAsync(string vaultId, DocumentCursor cursor, int limit, CancellationToken cancellationToken)
    {
        var byName = cursor.Order == DocumentCursor.ByName;
        var after = cursor.Seq is null ? "" : byName ? "AND (name, seq) > ($3, $4)" : "AND seq < $4";
        await using var command = db.CreateCommand($"""
            SELECT {DocumentColumns} FROM vault_documents WHERE vault_id = $1 {after}
            ORDER BY {(byName ? "name, seq" : "seq DESC")} LIMIT $2
            """);
        Args(command, vaultId, limit + 1);
        if (cursor.Seq is not null) Args(command, cursor.Name ?? "", cursor.Seq.Value);
        var items = new List<VaultDocument>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
            while (await reader.ReadAsync(cancellationToken)) items.Add(ReadDocument(reader));
        if (items.Count <= limit) return new(items, null);
        items.RemoveAt(limit);
        return new(items, (cursor with { Seq = items[^1].Seq, Name = byName ? items[^1].Name : null }).Encode());
    }

    public async Task<VaultDocument?> GetDocumentAsync(string vaultId, string documentId, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand(
            "SELECT id, seq, vault_id, name, content_type, content, size, created_at, added_by FROM vault_documents WHERE vault_id = $1 AND id = $2");
        Args(command, vaultId, documentId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadDocument(reader) : null;
    }

    public async Task<(VaultAccessToken Token, string Secret)> CreateTokenAsync(string vaultId, CancellationToken cancellationToken)
    {
        var token = new VaultAccessToken(VaultIds.NewTokenId(), vaultId, time.GetUtcNow(), null);
        var secret = VaultIds.NewAccessToken();
        await using var command = db.CreateCommand("INSERT INTO vault_access_tokens (id, vault_id, token_hash, created_at) VALUES ($1, $2, $3, $4)");
        Args(command, token.Id, vaultId, VaultIds.Hash(secret), token.CreatedAt);
        await command.ExecuteNonQueryAsync(cancellationToken);
        return (token, secret);
    }

    public async Task<IReadOnlyList<VaultAccessToken>> ListTokensAsync(string vaultId, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand(
            "SELECT id, vault_id, created_at, revoked_at FROM vault_access_tokens WHERE vault_id = $1 ORDER BY created_at DESC, id");
        command.Parameters.Add(P(vaultId));
        var tokens = new List<VaultAccessToken>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            tokens.Add(new(reader.GetString(0), reader.GetString(1), reader.GetFieldValue<DateTimeOffset>(2),
                reader.IsDBNull(3) ? null : reader.GetFieldValue<DateTimeOffset>(3)));
        return tokens;
    }

    /// <summary>Revokes a token of this vault (again: no change). False when the vault has no such token.</summary>
    public async Task<bool> RevokeTokenAsync(string vaultId, string tokenId, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand(
            "UPDATE vault_access_tokens SET revoked_at = coalesce(revoked_at, $3) WHERE vault_id = $1 AND id = $2");
        Args(command, vaultId, tokenId, time.GetUtcNow());
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    /// <summary>The vault an unrevoked access token opens, or null.</summary>
    public async Task<string?> VaultOfTokenAsync(string token, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand("SELECT vault_id FROM vault_access_tokens WHERE token_hash = $1 AND revoked_at IS NULL");
        command.Parameters.Add(P(VaultIds.Hash(token)));
        return await command.ExecuteScalarAsync(cancellationToken) as string;
    }

    /// <summary>Stores the expired state of vaults past their session's expiry (reads already derive it).</summary>
    public Task<IReadOnlyList<string>> MarkExpiredAsync(CancellationToken cancellationToken) =>
        IdsAsync("UPDATE vaults SET state = 'expired' WHERE state = 'active' AND expires_at <= $1 RETURNING id", time.GetUtcNow(), cancellationToken);

    /// <summary>
    /// Read-only vaults whose deletion is at most <paramref name="notice"/> away and whose <c>vault.expiring</c> was not reported
    /// yet, plus every vault past retention (to be reported <c>vault.expired</c>, then deleted). Oldest deadline first.
    /// </summary>
    public async Task<IReadOnlyList<SweepCandidate>> SweepCandidatesAsync(TimeSpan notice, int limit, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var command = db.CreateCommand($"""
            SELECT {VaultColumns}, expiring_notified_at IS NOT NULL,
                   (SELECT count(*) FROM vault_documents d WHERE d.vault_id = v.id)::int
            FROM vaults v
            WHERE retention_until <= $1
               OR (expiring_notified_at IS NULL AND (state <> 'active' OR expires_at <= $1) AND retention_until <= $1 + $2)
            ORDER BY retention_until LIMIT $3
            """);
        Args(command, now, notice, limit);
        var candidates = new List<SweepCandidate>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            candidates.Add(new(ReadVault(reader), reader.GetInt32(10), reader.GetBoolean(9), reader.GetFieldValue<DateTimeOffset>(8) <= now));
        return candidates;
    }

    public async Task MarkExpiringReportedAsync(string vaultId, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand("UPDATE vaults SET expiring_notified_at = coalesce(expiring_notified_at, $2) WHERE id = $1");
        Args(command, vaultId, time.GetUtcNow());
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Deletes a vault past retention with its documents and tokens (cascade); false when it is not (or no longer) due.</summary>
    public async Task<bool> DeleteExpiredAsync(string vaultId, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand("DELETE FROM vaults WHERE id = $1 AND retention_until <= $2");
        Args(command, vaultId, time.GetUtcNow());
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    async Task<IReadOnlyList<string>> IdsAsync(string sql, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand(sql);
        command.Parameters.Add(P(now));
        var ids = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) ids.Add(reader.GetString(0));
        return ids;
    }

    async Task<Vault?> SingleVaultAsync(string sql, string key, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        return await SingleVaultAsync(connection, sql, key, cancellationToken);
    }

    async Task<Vault?> SingleVaultAsync(NpgsqlConnection connection, string sql, string key, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        Args(command, time.GetUtcNow(), key);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadVault(reader) : null;
    }

    static Vault ReadVault(NpgsqlDataReader reader) => new(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3),
        reader.GetString(4), reader.GetFieldValue<DateTimeOffset>(5), reader.GetFieldValue<DateTimeOffset>(6),
        reader.IsDBNull(7) ? null : reader.GetFieldValue<DateTimeOffset>(7), reader.GetFieldValue<DateTimeOffset>(8));

    static VaultDocument ReadDocument(NpgsqlDataReader reader) => new(reader.GetString(0), reader.GetInt64(1), reader.GetString(2),
        reader.GetString(3), reader.GetString(4), reader.IsDBNull(5) ? null : reader.GetString(5), reader.GetInt32(6),
        reader.GetFieldValue<DateTimeOffset>(7), reader.IsDBNull(8) ? null : reader.GetString(8));

    static void Args(NpgsqlCommand command, params object?[] values)
    {
        foreach (var value in values) command.Parameters.Add(P(value));
    }

    static NpgsqlParameter P(object? value) => new() { Value = value ?? DBNull.Value };
}
