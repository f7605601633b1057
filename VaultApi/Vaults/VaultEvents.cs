using System.Net;
using Sessions.ServiceDefaults.Payers;

namespace Sessions.VaultApi.Vaults;

/// <summary>
/// Reports <c>vault.expiring</c> and <c>vault.expired</c> to SessionApi's webhook outbox (<c>POST /internal/webhooks/events</c>,
/// <c>http://sessionapi</c>): one outbox, one signature scheme, one delivery log for every event of the system. The key
/// <c>&lt;event&gt;:&lt;vault id&gt;</c> makes a repeated report a no-op there. Without <c>services:sessionapi:http:0</c> the
/// events are only logged (a VaultApi on its own still deletes on time).
/// </summary>
public sealed partial class VaultEvents(IHttpClientFactory factory, PayerContextSigner signer, IConfiguration configuration, ILogger<VaultEvents> logger)
{
    public const string HttpClientName = "sessionapi";
    public const string Expiring = "vault.expiring";
    public const string Expired = "vault.expired";

    public bool Enabled { get; } = !string.IsNullOrWhiteSpace(configuration["services:sessionapi:http:0"]);

    /// <summary>True when SessionApi's outbox has the event (now or from an earlier report), or when reporting is disabled.</summary>
    public async Task<bool> ReportAsync(string eventName, Vault vault, int documents, CancellationToken cancellationToken)
    {
        var data = new
        {
            vaultId = vault.Id, sessionId = vault.SessionId, payer = vault.Payer, organization = vault.Organization, state = vault.State,
            expiresAt = vault.ExpiresAt, deletesAt = vault.RetentionUntil, documents,
        };
        if (!Enabled)
        {
            LogNotReported(eventName, vault.Id);
            return true;
        }
        var context = signer.Sign(new PayerContext
        {
            Payer = vault.Payer, Organization = vault.Organization, SessionId = vault.SessionId, VaultId = vault.Id, ExpiresAt = signer.NewExpiry(),
        });
        try
        {
            var answer = await factory.CreateClient(HttpClientName).SendJsonAsync(HttpMethod.Post, "/internal/webhooks/events", context,
                new { key = $"{eventName}:{vault.Id}", @event = eventName, data }, cancellationToken);
            if (answer.Status == HttpStatusCode.Accepted)
            {
                LogReported(eventName, vault.Id);
                return true;
            }
            LogRefused(eventName, vault.Id, (int)answer.Status, answer.UnreadableText ?? (answer.Body.ValueKind == System.Text.Json.JsonValueKind.Undefined ? "" : answer.Body.GetRawText()));
            return false;
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogUnavailable(exception, eventName, vault.Id);
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Event} for {VaultId} enqueued in SessionApi's outbox")]
    partial void LogReported(string @event, string vaultId);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Event} for {VaultId} not reported: services:sessionapi:http:0 is not configured")]
    partial void LogNotReported(string @event, string vaultId);

    [LoggerMessage(Level = LogLevel.Error, Message = "SessionApi refused {Event} for {VaultId}: {Status} {Body}; retrying next sweep")]
    partial void LogRefused(string @event, string vaultId, int status, string body);

    [LoggerMessage(Level = LogLevel.Warning, Message = "SessionApi unavailable for {Event} of {VaultId}; retrying next sweep")]
    partial void LogUnavailable(Exception exception, string @event, string vaultId);
}
