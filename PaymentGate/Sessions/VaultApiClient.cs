using System.Net;
using System.Text.Json;
using StackExchange.Redis;
using Sessions.ServiceDefaults.Payers;

namespace Sessions.PaymentGate.Sessions;

/// <summary>VaultApi did not create (or confirm) the session's vault: the gate answers 503 with the payment id.</summary>
public sealed class VaultApiUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// The gate's calls to VaultApi (<c>http://vaultapi</c>, <c>services:vaultapi:http:0</c>; VaultApi README "One vault per
/// session"): ensure the session's vault before the token reaches the agent, seal it on close, and find its id for the payer
/// context of session-paid requests. Disabled (every call a no-op) when VaultApi is not configured.
/// </summary>
public sealed partial class VaultApiClient(IHttpClientFactory factory, PayerContextSigner signer, IConfiguration configuration,
    IServiceProvider services, SessionBalances balances, ILogger<VaultApiClient> logger)
{
    public const string HttpClientName = "vaultapi";
    const int Attempts = 3;

    public bool Enabled { get; } = !string.IsNullOrWhiteSpace(configuration["services:vaultapi:http:0"]);

    /// <summary>The session's vault id, creating the vault if needed; tried three times (PUT is idempotent on the session id).</summary>
    public async Task<string?> EnsureAsync(string sessionId, string organization, string payer, DateTimeOffset expiresAt)
    {
        if (!Enabled)
            return null;
        var context = Context(payer, organization, sessionId);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var (status, body) = await SendAsync(HttpMethod.Put, $"/internal/vaults/{Uri.EscapeDataString(sessionId)}", context,
                    new { organization, payer, expiresAt });
                // 4xx (409 vault-conflict, 400) is a bug or an attack, never "try later"; still, no token without its vault.
                if (status is not (HttpStatusCode.Created or HttpStatusCode.OK) || Id(body) is not { } id)
                    throw new VaultApiUnavailableException($"VaultApi answered {(int)status} to the vault of {sessionId}");
                await CacheAsync(sessionId, id, expiresAt);
                return id;
            }
            catch (VaultApiUnavailableException exception) when (attempt < Attempts)
            {
                LogEnsureRetry(exception, sessionId, attempt);
            }
        }
    }

    /// <summary>Best effort: a vault left active still expires with its session.</summary>
    public async Task SealAsync(SessionRef session)
    {
        if (!Enabled)
            return;
        try
        {
            var (status, _) = await SendAsync(HttpMethod.Post, $"/internal/vaults/{Uri.EscapeDataString(session.Id)}/seal",
                Context(session.Payer, session.Organization, session.Id), null);
            if (status != HttpStatusCode.OK)
                LogSealFailed(null, session.Id, $"VaultApi answered {(int)status}");
        }
        catch (VaultApiUnavailableException exception)
        {
            LogSealFailed(exception, session.Id, exception.Message);
        }
    }

    /// <summary>The session's vault id for the forwarded payer context (Redis first); null when unknown right now. A session
    /// request has it from its hold already (<see cref="HoldResult.VaultId"/>): this is for the others, and for a cache miss.</summary>
    public async Task<string?> FindAsync(SessionRef session)
    {
        if (!Enabled)
            return null;
        try
        {
            if (Redis is { } redis && await redis.StringGetAsync(CacheKey(session.Id)) is { IsNull: false } cached)
                return cached.ToString();
        }
        catch (Exception exception)
        {
            LogLookupFailed(exception, session.Id);
        }
        try
        {
            var (status, body) = await SendAsync(HttpMethod.Get, "/api/vaults/current", Context(session.Payer, session.Organization, session.Id), null);
            if (status == HttpStatusCode.OK && Id(body) is { } id)
            {
                await CacheAsync(session.Id, id, DateTimeOffset.UtcNow.AddHours(1));
                return id;
            }
            LogLookupFailed(null, session.Id);
        }
        catch (VaultApiUnavailableException exception)
        {
            LogLookupFailed(exception, session.Id);
        }
        return null;
    }

    IDatabase? Redis => services.GetService<IConnectionMultiplexer>()?.GetDatabase();

    RedisKey CacheKey(string sessionId) => balances.VaultKey(sessionId);

    // Only a shortcut: a lost entry means asking VaultApi again. Kept until the session expires when the vault is ensured.
    async Task CacheAsync(string sessionId, string vaultId, DateTimeOffset until)
    {
        try
        {
            var ttl = until - DateTimeOffset.UtcNow;
            if (Redis is { } redis)
                await redis.StringSetAsync(CacheKey(sessionId), vaultId, ttl > TimeSpan.FromMinutes(1) ? ttl : TimeSpan.FromMinutes(1));
        }
        catch (Exception exception)
        {
            LogLookupFailed(exception, sessionId);
        }
    }

    static string? Id(JsonElement body) => body.ValueKind == JsonValueKind.Object && body.TryGetProperty("id", out var id)
        && id.ValueKind == JsonValueKind.String ? id.GetString() : null;

    string Context(string payer, string organization, string sessionId) =>
        signer.Sign(new PayerContext { Payer = payer, Organization = organization, SessionId = sessionId, ExpiresAt = signer.NewExpiry() });

    async Task<(HttpStatusCode Status, JsonElement Body)> SendAsync(HttpMethod method, string path, string context, object? body)
    {
        ServiceAnswer answer;
        try
        {
            using var client = factory.CreateClient(HttpClientName);
            client.BaseAddress ??= new Uri("http://vaultapi");
            answer = await client.SendJsonAsync(method, path, context, body, CancellationToken.None);
        }
        catch (Exception exception)
        {
            throw new VaultApiUnavailableException($"VaultApi did not answer {method} {path}: {(exception.InnerException ?? exception).Message}", exception);
        }
        if ((int)answer.Status >= 500 || answer.IsUnreadable)
            throw new VaultApiUnavailableException($"VaultApi answered {(int)answer.Status} to {method} {path}{(answer.IsUnreadable ? " with a body that is not JSON" : "")}");
        return (answer.Status, answer.Body);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Vault of session {SessionId}: attempt {Attempt} failed, retrying")]
    partial void LogEnsureRetry(Exception exception, string sessionId, int attempt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Vault of session {SessionId} not sealed: {Detail}")]
    partial void LogSealFailed(Exception? exception, string sessionId, string detail);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Vault id of session {SessionId} not found; forwarding without it")]
    partial void LogLookupFailed(Exception? exception, string sessionId);
}

/// <summary>Says at start-up whether sessions get vaults (a gate without VaultApi still sells sessions, without them).</summary>
public sealed partial class VaultStartupLog(VaultApiClient vaults, ILogger<VaultStartupLog> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (vaults.Enabled) LogEnabled(); else LogDisabled();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "VaultApi configured: every opened session gets its vault before its token")]
    partial void LogEnabled();

    [LoggerMessage(Level = LogLevel.Warning, Message = "VaultApi not configured (services:vaultapi:http:0): sessions are opened without vaults")]
    partial void LogDisabled();
}
