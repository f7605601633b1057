using System.Net;
using Microsoft.Extensions.Options;
using Npgsql;
using Sessions.ServiceDefaults.Hosting;
using Sessions.ServiceDefaults.Payers;

namespace Sessions.SessionApi.Vaults;

/// <summary>Configuration section <c>SessionApi:Vaults</c>.</summary>
public sealed class VaultProvisionerOptions
{
    public const string SectionName = "SessionApi:Vaults";

    /// <summary>How often sessions without a confirmed vault are looked for.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Sessions handled per pass (oldest first).</summary>
    public int BatchSize { get; set; } = 100;
}

/// <summary>
/// The second half of "one vault per session" (VaultApi README): the gate ensures the vault before it answers an open, and
/// this loop ensures it for every session whose vault VaultApi has not confirmed yet (<c>sessions.vault_id IS NULL</c>):
/// a gate killed after SessionApi committed, or VaultApi down at the time, leaves a session without a vault only until
/// VaultApi answers again. <c>PUT /internal/vaults/{sessionId}</c> is idempotent on VaultApi's UNIQUE(session_id), so the
/// gate and this loop racing, or a retried call, still make one vault. Disabled without <c>services:vaultapi:http:0</c>.
/// </summary>
public sealed partial class VaultProvisioner(IServiceProvider services, IHttpClientFactory factory, PayerContextSigner signer,
    IConfiguration configuration, IOptions<VaultProvisionerOptions> options, ILogger<VaultProvisioner> logger) : PeriodicWorker(logger)
{
    public const string HttpClientName = "vaultapi";

    protected override bool Enabled { get; } = !string.IsNullOrWhiteSpace(configuration["services:vaultapi:http:0"]);

    protected override TimeSpan Interval => options.Value.Interval;

    protected override string PassName => "Vault provisioning pass";

    /// <summary>At start: sessions left without a vault by an earlier process (or while VaultApi was down) get it at once.</summary>
    protected override bool RunsAtStart => true;

    protected override Task RunPassAsync(CancellationToken cancellationToken) => ProvisionAsync(cancellationToken);

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!Enabled)
            LogDisabled();   // the base class returns at once: say why
        return base.ExecuteAsync(stoppingToken);
    }

    /// <summary>One pass: returns how many sessions got their vault confirmed.</summary>
    public async Task<int> ProvisionAsync(CancellationToken cancellationToken)
    {
        var db = services.GetRequiredService<NpgsqlDataSource>();
        var pending = new List<(string Id, string Organization, string Payer, DateTimeOffset ExpiresAt)>();
        await using (var select = db.CreateCommand(
            "SELECT id, organization, payer, expires_at FROM sessions WHERE vault_id IS NULL ORDER BY created_at LIMIT $1"))
        {
            select.Parameters.Add(new NpgsqlParameter { Value = options.Value.BatchSize });
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
                pending.Add((reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetFieldValue<DateTimeOffset>(3)));
        }
        var confirmed = 0;
        foreach (var session in pending)
        {
            var (vaultId, unavailable) = await EnsureAsync(session.Id, session.Organization, session.Payer, session.ExpiresAt, cancellationToken);
            if (unavailable)
                return confirmed;   // VaultApi is not answering: the rest waits for the next pass
            if (vaultId is null)
                continue;           // refused (logged as an error): a bug or an attack, and no reason to hold the others back
            await using var update = db.CreateCommand("UPDATE sessions SET vault_id = $2 WHERE id = $1 AND vault_id IS NULL");
            update.Parameters.Add(new NpgsqlParameter { Value = session.Id });
            update.Parameters.Add(new NpgsqlParameter { Value = vaultId });
            confirmed += await update.ExecuteNonQueryAsync(cancellationToken);
            LogConfirmed(session.Id, vaultId);
        }
        return confirmed;
    }

    /// <summary>The vault id; or null with <c>Unavailable</c> when VaultApi did not answer, null alone when it refused (4xx).</summary>
    async Task<(string? VaultId, bool Unavailable)> EnsureAsync(string sessionId, string organization, string payer, DateTimeOffset expiresAt,
        CancellationToken cancellationToken)
    {
        var context = signer.Sign(new PayerContext
        {
            Payer = payer, Organization = organization, SessionId = sessionId, ExpiresAt = signer.NewExpiry(),
        });
        try
        {
            var answer = await factory.CreateClient(HttpClientName).SendJsonAsync(HttpMethod.Put, $"/internal/vaults/{Uri.EscapeDataString(sessionId)}",
                context, new { organization, payer, expiresAt }, cancellationToken);
            if (answer.Status is HttpStatusCode.OK or HttpStatusCode.Created && answer.Text("id") is { } vaultId)
                return (vaultId, false);
            LogRefused(sessionId, (int)answer.Status);
            // A 5xx or a body that is not VaultApi's JSON (a proxy's page) is "unavailable": tried again next pass.
            return (null, (int)answer.Status >= 500 || answer.IsUnreadable);
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogUnavailable(exception, sessionId);
            return (null, true);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Vault provisioning disabled: services:vaultapi:http:0 is not configured")]
    partial void LogDisabled();

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId}: vault {VaultId} confirmed")]
    partial void LogConfirmed(string sessionId, string vaultId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Session {SessionId}: VaultApi answered {Status} to ensure its vault; retrying next pass")]
    partial void LogRefused(string sessionId, int status);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {SessionId}: VaultApi unavailable; its vault is ensured on a later pass")]
    partial void LogUnavailable(Exception exception, string sessionId);
}
