using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using Sessions.PaymentGate.Paywall;
using Sessions.PaymentGate.Pricing;
using Sessions.PaymentGate.Receipts;
using Sessions.Payments.Receipts;
using StackExchange.Redis;
using Sessions.ServiceDefaults.Payers;
using Sessions.ServiceDefaults.Errors;

namespace Sessions.PaymentGate.Sessions;

/// <summary>
/// Requests paid by a session instead of a payment (header <c>Payment-Session: st_…</c>), a step of the paywall
/// (docs/design/session-debits.md): the route's price is <b>held</b> on the session in Redis (loaded from SessionApi on first
/// use), a mandated agent's debit is charged against its mandate, the request is forwarded with a payer context carrying the
/// session, and the hold is <b>confirmed</b> (the debit, durable in Redis and on its way to SessionApi's ledger through
/// <see cref="SessionDebitFolder"/>) before the answer is written, or <b>released</b> when the upstream failed. Every answer
/// carries <c>Payment-Session-Balance</c>. An unknown, expired or closed token is no payment at all: the caller answers the
/// plain 402. The session payment kind of <see cref="PaymentDispatcher"/>: every method returns the answer to give.
/// </summary>
public sealed partial class SessionSpending(
    SessionApiClient api, SessionBalances balances, SessionDebitFolder folder, MandateGuard mandates, VaultApiClient vaults,
    CompensationStore compensations, CompensationRetrier retrier, UpstreamForwarder upstreams, PayerContextSigner signer, TimeProvider time,
    ILogger<SessionSpending> logger)
{
    public const string TokenHeader = "Payment-Session";
    public const string BalanceHeader = "Payment-Session-Balance";
    public const string IdHeader = "Payment-Session-Id";

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

    public static string NewRequestId() => ChargeIds.New("req_");

    /// <summary>The token's SHA-256, hex: how SessionApi stores it and how Redis indexes the session.</summary>
    public static string TokenHash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(token)));

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

    /// <summary>
    /// Pays <paramref name="route"/> from the session of <paramref name="token"/>: the answer (served, 402 insufficient,
    /// 403 mandate, 503), or why the token cannot pay at all (unknown, expired, closed), for the plain 402 the caller answers.
    /// <paramref name="approvalId"/>: the request's <c>Mandate-Approval</c>; <paramref name="format"/>: the protocol of the call
    /// (MCP), which decides what a failed answer is.
    /// </summary>
    public async Task<(PaymentAnswer? Answer, string? Unusable)> PayAsync(HttpContext context, Func<Task> next, GateRoute route, string resourceUrl,
        string token, string? approvalId, IPaidAnswerFormat? format = null)
    {
        if (!IsWellFormedToken(token))
            return Unusable(route, "the Payment-Session token is malformed");
        var organization = route.Organization!.Id;
        var requestId = NewRequestId();
        var price = route.Amount!.Value;
        SessionShown? shown = null;
        try
        {
            var hold = await HoldAsync(organization, token, requestId, price, route.Name, context.RequestAborted);
            switch (hold.Status)
            {
                case HoldStatus.Held:
                    break;
                case HoldStatus.Insufficient:
                    return (Insufficient(route, resourceUrl, hold), null);
                case HoldStatus.Expired:
                    return Unusable(route, "the session has expired");
                case HoldStatus.Closed:
                    return Unusable(route, "the session is not usable (session-not-active)");
                default:
                    return Unusable(route, "the Payment-Session token is unknown");
            }
            var session = new SessionRef(hold.SessionId!, hold.Payer!, organization);
            // The balance header says what is left after this request, whichever way it ends (null: not shown).
            shown = new SessionShown(session.Id, hold.Balance.ToString());
            if (hold.Mandated)
            {
                var (_, refusal) = await mandates.ChargeAsync(organization, session.Payer, (hold.Price ?? price).ToString(), requestId, approvalId);
                if (refusal is not null)
                {
                    // Refused by the mandate (or SessionApi could not say): nothing forwarded, nothing debited.
                    shown = shown with { Balance = null };
                    await balances.ReleaseAsync(session.Id, requestId);
                    return (refusal with { Session = shown }, null);
                }
            }
            return (await ForwardAsync(context, next, session, route, requestId, hold, shown, format), null);
        }
        catch (SessionApiUnavailableException exception)
        {
            LogUnavailable(exception, route.Name);
            return (new PaymentAnswer.Unavailable("Sessions unavailable",
                "The session could not be charged right now; nothing was forwarded or charged. Retry later.") { Session = shown }, null);
        }
        catch (Exception exception) when (SessionBalances.IsUnavailable(exception))
        {
            LogUnavailable(exception, route.Name);
            return (new PaymentAnswer.Unavailable("Sessions unavailable",
                "The session balance could not be reached right now; nothing was forwarded or charged. Retry later.") { Session = shown }, null);
        }
    }

    /// <summary>Holds the price, loading the session from SessionApi into Redis on its first use at any gate.</summary>
    async Task<HoldResult> HoldAsync(string organization, string token, string requestId, BigInteger price, string route,
        CancellationToken cancellationToken)
    {
        var tokenHash = TokenHash(token);
        var hold = await balances.HoldAsync(tokenHash, organization, requestId, price, time.GetUtcNow(), route);
        if (hold.Status != HoldStatus.Unknown)
            return hold;
        var resolved = await api.ResolveAsync(organization, token, cancellationToken);
        if (resolved.Status is HttpStatusCode.NotFound or HttpStatusCode.BadRequest)
            return hold;
        if (!resolved.IsSuccess)
            throw new SessionApiUnavailableException($"SessionApi answered {(int)resolved.Status} to resolve");
        switch (resolved.Text("state"))
        {
            case "EXPIRED":
                return hold with { Status = HoldStatus.Expired };
            case "ACTIVE" or "DEPLETED":
                break;
            default:
                return hold with { Status = HoldStatus.Closed };
        }
        var credited = BigInteger.Parse(resolved.Text("deposit")!) + BigInteger.Parse(resolved.Text("toppedUp")!);
        if (resolved.Body.TryGetProperty("mandated", out var mandated) && mandated.ValueKind == JsonValueKind.True)
            await balances.MarkMandatedAsync(resolved.Text("payer")!);
        await balances.InstallAsync(tokenHash, new SessionBalance(resolved.Text("id")!, resolved.Text("payer")!, resolved.Text("organization")!,
            resolved.Text("kind")!, resolved.Body.GetProperty("expiresAt").GetDateTimeOffset(), credited, BigInteger.Parse(resolved.Text("spent")!)));
        return await balances.HoldAsync(tokenHash, organization, requestId, price, time.GetUtcNow(), route);
    }

    (PaymentAnswer? Answer, string? Unusable) Unusable(GateRoute route, string reason)
    {
        LogUnusable(route.Name, reason);
        return (null, reason);
    }

    /// <summary>
    /// A free route of an organisation with a session token (vault reads, access tokens): the token names the payer and
    /// nothing is charged. Any state counts, since an expired or closed session's vault stays readable; an unknown token
    /// answers 401 rather than being forwarded as "no payer".
    /// </summary>
    public async Task<PaymentAnswer> IdentifyAsync(HttpContext context, Func<Task> next, GateRoute route, string token)
    {
        SessionRef? session;
        try
        {
            session = IsWellFormedToken(token) ? await FindAsync(route.Organization!.Id, token, context.RequestAborted) : null;
        }
        catch (SessionApiUnavailableException exception)
        {
            LogUnavailable(exception, route.Name);
            return new PaymentAnswer.Unavailable("Sessions unavailable", "The session token could not be checked right now. Retry later.");
        }
        if (session is null)
        {
            LogUnusable(route.Name, "unknown session token on a free route");
            return new PaymentAnswer.Problem(StatusCodes.Status401Unauthorized, "session-token-unknown", "Unknown session token",
                $"The {TokenHeader} token is not a session of organisation '{route.Organization!.Id}'.");
        }
        // Registered before forwarding: the upstream's answer streams to the client as it comes.
        AddSessionHeaders(context, session.Id, () => null);
        context.Request.Headers[PayerContextSigner.HeaderName] = signer.Sign(await ContextForAsync(session, NewRequestId(), identifiedOnly: true,
            balance: session.Balance));
        await next();
        return new PaymentAnswer.Forwarded();
    }

    /// <summary>
    /// Forwards with the answer buffered; a served answer is debited (the hold confirmed) before it is written, so every answer
    /// a client receives is charged, and a failed one releases the hold (and the mandate charge), so nothing unserved is.
    /// The upstream part is timed: on offer terms an answer over the latency bound is debited its price less the SLA credit.
    /// </summary>
    async Task<PaymentAnswer> ForwardAsync(HttpContext context, Func<Task> next, SessionRef session, GateRoute route, string requestId,
        HoldResult hold, SessionShown shown, IPaidAnswerFormat? format)
    {
        var payer = await ContextForAsync(session, requestId, identifiedOnly: false, hold.VaultId, hold.Balance);
        var started = time.GetTimestamp();
        var upstream = await upstreams.ForwardBufferedAsync(context, next, payer, requestId, format);
        var latencyMs = (long)time.GetElapsedTime(started).TotalMilliseconds;
        if (upstream.Failed)
        {
            // The SLA's 100% credit for a failed request: never charged. 5xx and unreachable/timeouts count as the service failing.
            var upstreamFailed = context.Response.StatusCode >= 500;
            shown = shown with { Balance = (await balances.ReleaseAsync(session.Id, requestId, upstreamFailed)).Balance.ToString() };
            if (hold.Mandated)
                await mandates.ReleaseAsync(session.Organization, session.Payer, requestId);
            LogReleased(session.Id, requestId, context.Response.StatusCode);
            return new PaymentAnswer.Served(upstream) { Session = shown };
        }
        var slow = hold.LatencyBoundMs is { } bound && latencyMs > bound;
        var credit = slow ? (hold.Price ?? route.Amount!.Value) * hold.LatencyCreditPercent / 100 : BigInteger.Zero;
        if (await ConfirmAsync(session.Id, requestId, route.Name, shown.Balance, credit, latencyMs, slow) is not { } debit)
        {
            // Redis stayed away past the confirm's patience: the debit may have been made (the reply lost) or not. The answer
            // is withheld and the debit voided once Redis is back: credited back if it was made.
            await VoidLaterAsync(session, requestId, hold.Mandated);
            return new PaymentAnswer.Unavailable("Session debit unconfirmed",
                "The session balance could not be reached to charge this request, so its answer is withheld; if the charge was made, " +
                "it is credited back to the session. Retry later.") { Session = shown with { Balance = null } };
        }
        if (debit.Status != SettleStatus.Done)
        {
            // Swept: this request outlived Gate:Sessions:HoldTimeout and counts as abandoned; its answer is not given unpaid.
            LogHoldLost(session.Id, requestId);
            return new PaymentAnswer.Unavailable("Session debit expired",
                "The request took longer than the gate holds a session's price; nothing was charged. Retry.") { Session = shown };
        }
        return new PaymentAnswer.Served(upstream)
        {
            Session = shown with { Balance = debit.Balance.ToString() },
            Charged = new ReceiptFacts("session", session.Payer, route, requestId, DebitId: requestId, SessionId: session.Id, Amount: debit.Amount),
        };
    }

    /// <summary>
    /// Confirms the hold. When Redis does not answer, the confirm may have happened (the reply was lost) or not: it is asked
    /// again until Redis is back (for <see cref="ConfirmPatience"/>); a hold gone by then was confirmed by the first try, since
    /// the sweeper takes minutes. Either way the answer is then charged exactly once and can be written. Null: Redis did not
    /// come back in time, and whether the debit was made is unknown.
    /// </summary>
    async Task<SettleResult?> ConfirmAsync(string sessionId, string requestId, string route, string? balance, BigInteger slaCredit, long latencyMs,
        bool slow)
    {
        var started = time.GetUtcNow();
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var result = await balances.ConfirmAsync(sessionId, requestId, route, time.GetUtcNow(), slaCredit, latencyMs, slow);
                if (attempt == 1 || result.Status == SettleStatus.Done)
                    return result;
                return new SettleResult(SettleStatus.Done, sessionId, BigInteger.Parse(balance ?? "0"));
            }
            catch (Exception exception) when (SessionBalances.IsUnavailable(exception))
            {
                if (time.GetUtcNow() - started >= ConfirmPatience)
                {
                    LogConfirmUnknown(exception, sessionId, requestId, attempt);
                    return null;
                }
                LogConfirmRetry(exception, sessionId, requestId, attempt);
                await Task.Delay(TimeSpan.FromMilliseconds(200));
            }
        }
    }

    /// <summary>Records the void of a debit whose confirm went unanswered (applied by <see cref="CompensationRetrier"/> once
    /// Redis answers), and gives the mandate its charge back: either way the request was not served.</summary>
    async Task VoidLaterAsync(SessionRef session, string requestId, bool mandated)
    {
        await compensations.RecordAsync(new Compensation(CompensationKinds.SessionDebitVoid, session.Organization, session.Payer,
            CompensationKinds.SessionDebitKey(session.Id, requestId)), "the confirm went unanswered past its patience");
        if (mandated)
            await mandates.ReleaseAsync(session.Organization, session.Payer, requestId);
    }

    static readonly TimeSpan ConfirmPatience = TimeSpan.FromSeconds(10);

    /// <summary>The payer context of a request on <paramref name="session"/>: paid by it, or (<paramref name="identifiedOnly"/>) only naming it.
    /// <paramref name="vaultId"/>: the vault id the hold read (null: looked up); <paramref name="balance"/>: the live balance, for
    /// session-status (SessionApi's ledger trails it by the fold).</summary>
    async Task<PayerContext> ContextForAsync(SessionRef session, string requestId, bool identifiedOnly, string? vaultId = null,
        BigInteger? balance = null) => new()
    {
        Payer = session.Payer,
        Organization = session.Organization,
        SessionId = session.Id,
        VaultId = vaultId ?? await vaults.FindAsync(session),
        SessionBalance = balance?.ToString(),
        RequestId = requestId,
        IdentifiedOnly = identifiedOnly,
        ExpiresAt = signer.NewExpiry(),
    };

    static PaymentAnswer Insufficient(GateRoute route, string resourceUrl, HoldResult hold)
    {
        var balance = hold.Balance.ToString();
        var path = $"/api/sessions/{hold.SessionId}/topup";
        // What the session pays for this route: its offer's price, else the list price.
        var price = hold.Price ?? route.Amount!.Value;
        // The same challenge as an unpaid request (pay this one request), plus where to top the session up instead.
        return new PaymentAnswer.PaymentRequired(route, resourceUrl, "session_insufficient_balance",
            $"insufficient session balance: {balance} does not cover {price}; pay this request or top the session up at {path}",
            hold.Payer, Extra: new Dictionary<string, object?>
            {
                ["topUp"] = new { path, minimum = (price - hold.Balance).ToString() },
                ["session"] = new { id = hold.SessionId, balance, state = hold.Balance.IsZero ? "DEPLETED" : "ACTIVE" },
            }) { Session = new SessionShown(hold.SessionId!, balance) };
    }

    /// <summary>
    /// The session of this token in this organisation, in any state (null: unknown token): the gate's copy in Redis when it has
    /// one, else SessionApi's answer. Whether it can pay is decided by the hold.
    /// </summary>
    async Task<SessionRef?> FindAsync(string organization, string token, CancellationToken cancellationToken)
    {
        if (await balances.FindAsync(TokenHash(token)) is { } loaded)
            return loaded.Organization == organization ? loaded : null;
        var resolved = await api.ResolveAsync(organization, token, cancellationToken);
        if (resolved.Status == HttpStatusCode.NotFound || resolved.Status == HttpStatusCode.BadRequest)
            return null;
        if (!resolved.IsSuccess)
            throw new SessionApiUnavailableException($"SessionApi answered {(int)resolved.Status} to resolve");
        return new SessionRef(resolved.Text("id")!, resolved.Text("payer")!, resolved.Text("organization")!);
    }

    /// <summary>
    /// Waits until every debit of the session is in SessionApi's ledger (folding meanwhile), so what SessionApi answers next
    /// (the session, a top-up, a close's refund) counts them all; with <paramref name="close"/> no new debits are taken first,
    /// and requests in flight are waited for too. False when that takes longer than <paramref name="patience"/> (a closed
    /// session stays closed to spending; a retried close waits again).
    /// </summary>
    public async Task<bool> WaitForLedgerAsync(string sessionId, bool close, TimeSpan patience, CancellationToken cancellationToken)
    {
        if (!close)
        {
            try
            {
                return await WaitAsync(sessionId, close, patience, cancellationToken);
            }
            catch (Exception exception) when (SessionBalances.IsUnavailable(exception) || exception is SessionApiUnavailableException)
            {
                // Only a wait for fresher figures: SessionApi answers with what its ledger has.
                LogLedgerWaitFailed(exception, sessionId);
                return false;
            }
        }
        // Voids still owed (a confirm unanswered while Redis was away) go first: their credits belong in the refund.
        await retrier.ApplyVoidsOfAsync(sessionId, cancellationToken);
        return await WaitAsync(sessionId, close, patience, cancellationToken);
    }

    async Task<bool> WaitAsync(string sessionId, bool close, TimeSpan patience, CancellationToken cancellationToken)
    {
        var totals = close ? await balances.CloseAsync(sessionId) : await balances.TotalsAsync(sessionId);
        var deadline = DateTime.UtcNow + patience;
        while (totals is not null && ((close && totals.Held > 0) || !totals.AllFolded))
        {
            if (DateTime.UtcNow > deadline)
                return false;
            if (!totals.AllFolded)
                await folder.FoldAsync(cancellationToken);
            else
                await Task.Delay(20, cancellationToken);
            totals = await balances.TotalsAsync(sessionId);
        }
        return true;
    }

    /// <summary>After a top-up SessionApi applied: what it now credits the session with (deposit + top-ups) becomes spendable.</summary>
    public Task CreditAsync(string sessionId, ServiceAnswer session) =>
        balances.RaiseCreditedAsync(sessionId, BigInteger.Parse(session.Text("deposit")!) + BigInteger.Parse(session.Text("toppedUp")!));

    [LoggerMessage(Level = LogLevel.Information, Message = "Payment-Session not usable for {Route}: {Reason}; plain 402")]
    partial void LogUnusable(string route, string reason);


    [LoggerMessage(Level = LogLevel.Warning, Message = "SessionApi unavailable for {Route}: 503, nothing forwarded")]
    partial void LogUnavailable(Exception exception, string route);

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId}: upstream answered {Status}, hold {RequestId} released, nothing debited")]
    partial void LogReleased(string sessionId, string requestId, int status);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {SessionId}: could not wait for its debits to reach SessionApi's ledger")]
    partial void LogLedgerWaitFailed(Exception exception, string sessionId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Session {SessionId}: confirm of {RequestId} unanswered after {Attempt} attempt(s), past its patience; answered 503 and the debit is voided once Redis is back")]
    partial void LogConfirmUnknown(Exception exception, string sessionId, string requestId, int attempt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {SessionId}: confirm of {RequestId} unanswered (attempt {Attempt}); asking again")]
    partial void LogConfirmRetry(Exception exception, string sessionId, string requestId, int attempt);

    [LoggerMessage(Level = LogLevel.Error, Message = "Session {SessionId}: hold {RequestId} was swept before the answer was ready; 503, nothing debited")]
    partial void LogHoldLost(string sessionId, string requestId);

}
