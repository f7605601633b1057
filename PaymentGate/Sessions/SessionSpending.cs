using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using Sessions.PaymentGate.Paywall;
using Sessions.PaymentGate.Pricing;
using StackExchange.Redis;
using Sessions.ServiceDefaults.Payers;
using Sessions.ServiceDefaults.Errors;

namespace Sessions.PaymentGate.Sessions;

/// <summary>
/// Requests paid by a session instead of a payment (header <c>Payment-Session: st_…</c>), a step of the paywall:
/// resolve the token (Redis remembers token → session briefly; SessionApi decides every time anyway), debit the route's
/// price in SessionApi with the gate's request id as idempotency key, forward with a payer context carrying the session,
/// and credit the debit back when the upstream fails. Every answer carries <c>Payment-Session-Balance</c>.
/// An unknown, expired or closed token is no payment at all: the caller answers the plain 402.
/// </summary>
public sealed partial class SessionSpending(
    SessionApiClient api, VaultApiClient vaults, PaywallStep paywall, PayerContextSigner signer, CompensationStore compensations,
    IServiceProvider services, IOptions<GateOptions> options, ILogger<SessionSpending> logger)
{
    public const string TokenHeader = "Payment-Session";
    public const string BalanceHeader = "Payment-Session-Balance";
    public const string IdHeader = "Payment-Session-Id";

    /// <summary><c>HttpContext.Items</c> key: why a session token could not pay, for the plain 402 that follows.</summary>
    public const string UnusableReasonItem = "Sessions.SessionUnusable";

    /// <summary>Reads and removes the token: it is a bearer secret no upstream needs.</summary>
    public static string? TakeToken(HttpRequest request)
    {
        if (!request.Headers.TryGetValue(TokenHeader, out StringValues values))
            return null;
        request.Headers.Remove(TokenHeader);
        return StringValues.IsNullOrEmpty(values) ? null : values[0]!.Trim();
    }

    public static bool IsWellFormedToken(string? token) =>
        token is { Length: 46 } && token.StartsWith("st_", StringComparison.Ordinal)
        && token.AsSpan(3).IndexOfAnyExcept("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") < 0;

    public static string NewRequestId() => "req_" + RandomNumberGenerator.GetHexString(32, lowercase: true);

    /// <summary>Adds the session headers whenever the response starts (they survive the paywall's Response.Clear()).</summary>
    public static void AddSessionHeaders(HttpContext context, string sessionId, Func<string?> balance)
    {
        context.Response.OnStarting(() =>
        {
            var headers = context.Response.Headers;
            headers[IdHeader] = sessionId;
            if (balance() is { } value)
                headers[BalanceHeader] = value;
            var exposed = headers.AccessControlExposeHeaders.ToString();
            headers.AccessControlExposeHeaders = (exposed.Length == 0 ? "" : exposed + ", ") + $"{IdHeader}, {BalanceHeader}, {TokenHeader}";
            return Task.CompletedTask;
        });
    }

    /// <summary>True when answered (served, 402 insufficient, 403 mandate, 503); false: no usable session, answer the plain 402.</summary>
    public async Task<bool> TryServeAsync(HttpContext context, Func<Task> next, GateRoute route, string resourceUrl, string token)
    {
        if (!IsWellFormedToken(token))
            return Unusable(context, route, "the Payment-Session token is malformed");
        var organization = route.Organization!.Id;
        var requestId = NewRequestId();
        var approvalId = MandateGuard.TakeApprovalId(context.Request);
        var cancellationToken = context.RequestAborted;
        try
        {
            var session = await FindAsync(organization, token, cancellationToken);
            if (session is null)
                return Unusable(context, route, "the Payment-Session token is unknown");
            // An expired or closed session is refused by SessionApi's debit below, with the precise reason.
            var debit = await DebitAsync(session, route, requestId, approvalId);
            switch (debit.Status)
            {
                case HttpStatusCode.OK:
                    await ForwardAsync(context, next, session, requestId, debit.Text("balance"), debit.Text("charged"));
                    return true;
                case HttpStatusCode.PaymentRequired:
                    await InsufficientAsync(context, route, resourceUrl, session, debit);
                    return true;
                case HttpStatusCode.Gone or HttpStatusCode.NotFound or HttpStatusCode.Conflict when debit.Code is "session-expired" or "session-not-active" or "session-not-found":
                    await ForgetAsync(token);
                    return Unusable(context, route, debit.Code == "session-expired" ? "the session has expired" : $"the session is not usable ({debit.Code})");
                default:
                    // A mandate limit (403 limit-exceeded, approval-required...) or another refusal: SessionApi's problem, as is.
                    LogRefused(session.Id, (int)debit.Status, debit.Code);
                    AddSessionHeaders(context, session.Id, () => null);
                    await PaywallResponses.WriteRefusalAsync(context, (int)debit.Status, debit.Body);
                    return true;
            }
        }
        catch (SessionApiUnavailableException exception)
        {
            LogUnavailable(exception, route.Name);
            await PaywallResponses.WriteUnavailableAsync(context, "Sessions unavailable",
                "The session could not be charged right now; nothing was forwarded or charged. Retry later.");
            return true;
        }
    }

    bool Unusable(HttpContext context, GateRoute route, string reason)
    {
        LogUnusable(route.Name, reason);
        context.Items[UnusableReasonItem] = reason;
        return false;
    }

    /// <summary>
    /// A free route of an organisation with a session token (vault reads, access tokens): the token names the payer and
    /// nothing is charged. Any state counts, since an expired or closed session's vault stays readable; an unknown token
    /// answers 401 rather than being forwarded as "no payer".
    /// </summary>
    public async Task IdentifyAsync(HttpContext context, Func<Task> next, GateRoute route, string token)
    {
        SessionRef? session;
        try
        {
            session = IsWellFormedToken(token) ? await FindAsync(route.Organization!.Id, token, context.RequestAborted) : null;
        }
        catch (SessionApiUnavailableException exception)
        {
            LogUnavailable(exception, route.Name);
            await PaywallResponses.WriteUnavailableAsync(context, "Sessions unavailable", "The session token could not be checked right now. Retry later.");
            return;
        }
        if (session is null)
        {
            LogUnusable(route.Name, "unknown session token on a free route");
            await Problems.WriteAsync(context, StatusCodes.Status401Unauthorized, "session-token-unknown", "Unknown session token",
                $"The {TokenHeader} token is not a session of organisation '{route.Organization!.Id}'.");
            return;
        }
        AddSessionHeaders(context, session.Id, () => null);
        context.Request.Headers[PayerContextSigner.HeaderName] = signer.Sign(await ContextForAsync(session, NewRequestId(), identifiedOnly: true));
        await next();
    }

    /// <summary>
    /// The debit, never abandoned half-way: not the client's token (a debit that happened must be served or credited), and
    /// when its outcome is unknown it is asked again with the same key: SessionApi answers the original result if it went
    /// through. Still unknown: credited back (a no-op if it never happened) and 503.
    /// </summary>
    async Task<ServiceAnswer> DebitAsync(SessionRef session, GateRoute route, string requestId, string? approvalId)
    {
        var amount = route.Amount!.Value.ToString();
        try
        {
            return await api.DebitAsync(session, amount, requestId, route.Name, approvalId, CancellationToken.None);
        }
        catch (SessionApiUnavailableException first)
        {
            LogDebitRetry(first, session.Id, requestId);
            try
            {
                return await api.DebitAsync(session, amount, requestId, route.Name, approvalId, CancellationToken.None);
            }
            catch (SessionApiUnavailableException)
            {
                await CreditBackAsync(session, requestId, debitOutcomeUnknown: true);
                throw;
            }
        }
    }

    async Task ForwardAsync(HttpContext context, Func<Task> next, SessionRef session, string requestId, string? balance, string? charged)
    {
        AddSessionHeaders(context, session.Id, () => balance);
        var upstream = await paywall.ForwardBufferedAsync(context, next, await ContextForAsync(session, requestId, identifiedOnly: false), requestId);
        // No debit without a served request: a failed upstream is credited back (a pass charged nothing, so nothing to credit).
        if (upstream.Failed && charged is not (null or "0"))
            balance = await CreditBackAsync(session, requestId) ?? balance;
        await upstream.SendAsync();
    }

    /// <summary>The payer context of a request on <paramref name="session"/>: paid by it, or (<paramref name="identifiedOnly"/>) only naming it.</summary>
    async Task<PayerContext> ContextForAsync(SessionRef session, string requestId, bool identifiedOnly) => new()
    {
        Payer = session.Payer,
        Organization = session.Organization,
        SessionId = session.Id,
        VaultId = await vaults.FindAsync(session),
        RequestId = requestId,
        IdentifiedOnly = identifiedOnly,
        ExpiresAt = signer.NewExpiry(),
    };

    /// <summary>
    /// Gives the debit back; the balance after it, or null. Tried twice here, then durably owed (CompensationRetrier): a credit
    /// is idempotent on the debit's key, so repeats are harmless. <paramref name="debitOutcomeUnknown"/>: the debit itself was
    /// never answered, so "no such debit" may be one still on its way, and the credit is owed anyway.
    /// </summary>
    async Task<string?> CreditBackAsync(SessionRef session, string requestId, bool debitOutcomeUnknown = false)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var credit = await api.CreditAsync(session, requestId, CancellationToken.None);
                if (credit.IsSuccess)
                {
                    LogCredited(session.Id, requestId);
                    // Closed meanwhile: SessionApi added it to the refund; the retrier moves it on the ledger (one place does that).
                    if (credit.Text("state") == "REFUNDED")
                        await OweCreditAsync(session, requestId, "credited to a closed session: its payout is the retrier's");
                    return credit.Text("balance");
                }
                if (credit.Code == "debit-not-found" && debitOutcomeUnknown)
                    await OweCreditAsync(session, requestId, "no such debit yet: the unanswered debit may still land");
                else
                    LogCreditFailed(null, session.Id, requestId, $"SessionApi answered {(int)credit.Status} {credit.Code}");
                return null;
            }
            catch (SessionApiUnavailableException exception) when (attempt < 2)
            {
                LogCreditFailed(exception, session.Id, requestId, "retrying");
            }
            catch (SessionApiUnavailableException exception)
            {
                LogCreditFailed(exception, session.Id, requestId, "recorded for the compensation retrier");
                await OweCreditAsync(session, requestId, exception.Message);
                return null;
            }
        }
    }

    Task OweCreditAsync(SessionRef session, string requestId, string reason) =>
        compensations.RecordAsync(new Compensation(CompensationKinds.SessionCredit, session.Organization, session.Payer, session.Id, requestId), reason);

    Task InsufficientAsync(HttpContext context, GateRoute route, string resourceUrl, SessionRef session, ServiceAnswer debit)
    {
        var balance = debit.Text("balance") ?? "0";
        var hint = debit.Body.TryGetProperty("topUpHint", out var h) ? h : default;
        var minimum = hint.ValueKind == System.Text.Json.JsonValueKind.Object && hint.TryGetProperty("minimum", out var m) ? m.GetString() : null;
        var path = $"/api/sessions/{session.Id}/topup";
        AddSessionHeaders(context, session.Id, () => balance);
        // The same challenge as an unpaid request (pay this one request), plus where to top the session up instead.
        return paywall.PaymentRequiredAsync(context, route, resourceUrl, "session_insufficient_balance",
            $"insufficient session balance: {balance} does not cover {route.Amount}; pay this request or top the session up at {path}",
            session.Payer, extra: new Dictionary<string, object?>
            {
                ["topUp"] = new { path, minimum = minimum ?? route.Amount!.Value.ToString() },
                ["session"] = new { id = session.Id, balance, state = debit.Text("state") },
            });
    }

    /// <summary>
    /// The session of this token in this organisation, in any state (null: unknown token). Whether it can pay is SessionApi's
    /// call at the debit, which also says why not (expired, closed).
    /// </summary>
    async Task<SessionRef?> FindAsync(string organization, string token, CancellationToken cancellationToken)
    {
        var cacheKey = CacheKey(token);
        if (await CacheGetAsync(cacheKey) is { } cached && cached.Split('|') is [var id, var payer, var org] && org == organization)
            return new SessionRef(id, payer, org);
        var resolved = await api.ResolveAsync(organization, token, cancellationToken);
        if (resolved.Status == HttpStatusCode.NotFound || resolved.Status == HttpStatusCode.BadRequest)
            return null;
        if (!resolved.IsSuccess)
            throw new SessionApiUnavailableException($"SessionApi answered {(int)resolved.Status} to resolve");
        var session = new SessionRef(resolved.Text("id")!, resolved.Text("payer")!, resolved.Text("organization")!);
        await CacheSetAsync(cacheKey, $"{session.Id}|{session.Payer}|{session.Organization}");
        return session;
    }

    static string CacheKey(string token) => "gate:session-token:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(token)));

    IDatabase? Redis => options.Value.Sessions.TokenCacheSeconds > 0 ? services.GetService<IConnectionMultiplexer>()?.GetDatabase() : null;

    // The cache only saves a resolve: every debit is checked by SessionApi, so a Redis failure just means resolving again.
    async Task<string?> CacheGetAsync(string key)
    {
        try
        {
            return Redis is { } redis && await redis.StringGetAsync(key) is { IsNull: false } value ? value.ToString() : null;
        }
        catch (Exception exception)
        {
            LogCacheError(exception);
            return null;
        }
    }

    async Task CacheSetAsync(string key, string value)
    {
        try
        {
            if (Redis is { } redis)
                await redis.StringSetAsync(key, value, TimeSpan.FromSeconds(options.Value.Sessions.TokenCacheSeconds));
        }
        catch (Exception exception)
        {
            LogCacheError(exception);
        }
    }

    public async Task ForgetAsync(string token)
    {
        try
        {
            if (Redis is { } redis)
                await redis.KeyDeleteAsync(CacheKey(token));
        }
        catch (Exception exception)
        {
            LogCacheError(exception);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Payment-Session not usable for {Route}: {Reason}; plain 402")]
    partial void LogUnusable(string route, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId} refused the debit: {Status} {Code}")]
    partial void LogRefused(string sessionId, int status, string? code);

    [LoggerMessage(Level = LogLevel.Warning, Message = "SessionApi unavailable for {Route}: 503, nothing forwarded")]
    partial void LogUnavailable(Exception exception, string route);

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId}: upstream failed, debit {RequestId} credited back")]
    partial void LogCredited(string sessionId, string requestId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Session {SessionId}: credit-back of {RequestId} failed: {Detail}")]
    partial void LogCreditFailed(Exception? exception, string sessionId, string requestId, string detail);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Debit {RequestId} of session {SessionId} has an unknown outcome; asking again with the same key")]
    partial void LogDebitRetry(Exception exception, string sessionId, string requestId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Session token cache unavailable; resolving instead")]
    partial void LogCacheError(Exception exception);
}
