using System.Globalization;
using System.Net;
using System.Numerics;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Sessions.PaymentGate.Offers;
using Sessions.PaymentGate.Paywall;
using Sessions.PaymentGate.Pricing;
using Sessions.ServiceDefaults.Payers;
using Sessions.Payments;
using Sessions.Payments.X402;
using Sessions.ServiceDefaults.Errors;

namespace Sessions.PaymentGate.Sessions;

/// <param name="Offer">A signed offer (<c>POST /api/offers</c>, its <c>jws</c>): the session is bound to its terms; deposit and
/// duration default to the offer's.</param>
public sealed record OpenSessionBody(string? Deposit, string? Kind, long? TtlSeconds, string? Organization, string? Offer = null);

public sealed record TopUpBody(string? Amount, string? Organization);

/// <summary>
/// Sessions at the gate (docs/sessions.md): <c>POST /api/sessions</c> opens one with an x402 payment of the deposit (or of
/// the organisation's pass price), <c>POST /api/sessions/{id}/topup</c> refills it with a payment of the amount,
/// <c>POST /api/sessions/{id}/close</c> and <c>GET /api/sessions/{id}</c> take the <c>Payment-Session</c> token. Payments here
/// settle first (there is no upstream answer to wait for), then SessionApi acts, idempotently on the payment id: if it
/// cannot, the money is on record (payment <c>settled</c>) and the same payment header completes the action later.
/// </summary>
public static partial class SessionsGateApi
{
    /// <summary>How long a close waits for requests in flight and unwritten debits before answering 503 close-pending.</summary>
    static readonly TimeSpan CloseWait = TimeSpan.FromSeconds(10);

    /// <summary>How long a read of a session waits for its debits to reach SessionApi's ledger before answering what it has.</summary>
    static readonly TimeSpan ReadWait = TimeSpan.FromSeconds(2);

    public static IEndpointRouteBuilder MapGateSessions(this IEndpointRouteBuilder app)
    {
        // Literal endpoints win over the proxy's /api/sessions/{**rest} route (order 100): clients never reach SessionApi directly.
        var sessions = app.MapGroup("/api/sessions").AcceptAnyContentTypeAtRouting();
        sessions.MapPost("", OpenAsync).WithName("OpenSession");
        sessions.MapPost("/{id}/topup", TopUpAsync).WithName("TopUpSession");
        sessions.MapPost("/{id}/close", CloseAsync).WithName("CloseSession");
        sessions.MapGet("/{id}", GetAsync).WithName("GetSession");
        sessions.MapGet("", ListAsync).WithName("ListSessions");
        return app;
    }

    static async Task OpenAsync(HttpContext context, OpenSessionBody body, PaymentDispatcher payments, PaymentFlow flow, PaymentAnswerWriter writer,
        SessionApiClient api, VaultApiClient vaults, PricingCatalog catalog, IOptions<GateOptions> options, OfferSigner offers, SessionBalances balances)
    {
        var errors = new Dictionary<string, string[]>();
        Offer? offer = null;
        if (body.Offer is not null)
        {
            // Terms before money: a refused offer is answered before any payment is asked for.
            var (checkedOffer, offerRefusal, detail) = offers.Check(body.Offer, body.Organization);
            if (offerRefusal != OfferRefusal.None || body.Kind is not (null or "prepaid"))
            {
                var (status, code, title) = offerRefusal == OfferRefusal.None
                    ? (400, "offer-invalid", "Offer not valid") : OfferSigner.Problem(offerRefusal);
                await Problems.WriteAsync(context, status, code, title, offerRefusal == OfferRefusal.None ? "An offer opens a prepaid session." : detail);
                return;
            }
            offer = checkedOffer!;
            body = body with { Organization = offer.Organization, Deposit = body.Deposit ?? offer.Deposit, TtlSeconds = offer.DurationSeconds };
        }
        var organization = ChooseOrganization(catalog, body.Organization, errors);
        var kind = body.Kind ?? "prepaid";
        BigInteger amount = 0;
        long? ttl = body.TtlSeconds;
        if (kind == "pass")
        {
            // A pass is bought at the organisation's price for its configured lifetime; deposit and ttlSeconds are not the buyer's call.
            if (organization is { PassPrice: null })
                errors["kind"] = [$"Organisation '{organization.Id}' sells no passes (Gate:Organizations:{organization.Id}:Pass)."];
            else if (organization is not null)
                (amount, ttl) = (organization.PassPrice!.Value, (long)organization.PassTtl.TotalSeconds);
        }
        else if (kind != "prepaid")
            errors["kind"] = ["\"prepaid\" (default) or \"pass\"."];
        else if (organization is { SellsPrepaid: false })
            errors["kind"] = [$"Organisation '{organization.Id}' sells no prepaid sessions (Gate:Organizations:{organization.Id}:PrepaidSessions)."];
        else if (organization is not null)
        {
            var (min, max) = DepositBounds(organization, options.Value.Sessions);
            if (!AtomicAmount.TryParse(body.Deposit, out var deposit) || deposit.IsZero)
                errors["deposit"] = ["Required: a positive whole number of atomic units as a decimal string, e.g. \"100000\"."];
            else if ((amount = deposit) < min || amount > max)
                errors["deposit"] = [$"Between {min} and {max} atomic units."];
            if (ttl is < 60 or > 604800)
                errors["ttlSeconds"] = ["Between 60 and 604800 seconds (7 days)."];
        }
        if (errors.Count > 0)
        {
            await Problems.Invalid(errors, "Invalid session request").ExecuteAsync(context);
            return;
        }

        var route = SessionRoute(organization!, "POST", "/api/sessions", amount,
            kind == "pass" ? $"Pass session of {organization!.Name}" : $"Prepaid session deposit at {organization!.Name}");
        var (attempt, refusal) = payments.ReadEndpointPayment(context, route);
        if (attempt is null)
        {
            await writer.WriteAsync(context, refusal!);
            return;
        }
        if (offer?.Payer is { } offeredTo && !string.Equals(offeredTo, attempt.Payer, StringComparison.OrdinalIgnoreCase))
        {
            await Problems.WriteAsync(context, 403, "offer-foreign", "Offer for someone else",
                $"Offer {offer.Id} was made to {offeredTo}; this payment is from {attempt.Payer}. Nothing was charged.");
            return;
        }
        var (payment, unpaid) = await flow.SettleFirstAsync(context, attempt);
        if (payment is null)
        {
            await writer.WriteAsync(context, unpaid!);
            return;
        }

        ServiceAnswer answer;
        try
        {
            answer = await api.OpenAsync(organization.Id, attempt.Payer, kind, amount.ToString(CultureInfo.InvariantCulture), payment.PaymentId, ttl,
                CancellationToken.None);
        }
        catch (SessionApiUnavailableException exception)
        {
            await flow.CompleteSettledAsync(payment, done: false);
            await NotCompletedAsync(context, writer, payment, "Session not opened yet", exception.Message);
            return;
        }
        if (!answer.IsSuccess)
        {
            await flow.CompleteSettledAsync(payment, done: false);
            await NotCompletedAsync(context, writer, payment, "Session not opened", $"SessionApi answered {(int)answer.Status} {answer.Code}");
            return;
        }
        var id = answer.Text("id")!;
        // The vault exists before the token reaches the agent (docs/vaults.md "One vault per session"); both calls are
        // idempotent, so when VaultApi is down the same payment header finishes the job later, like a SessionApi outage.
        string? vaultId;
        try
        {
            vaultId = await vaults.EnsureAsync(id, organization.Id, attempt.Payer, answer.Body.GetProperty("expiresAt").GetDateTimeOffset());
        }
        catch (VaultApiUnavailableException exception)
        {
            await flow.CompleteSettledAsync(payment, done: false);
            await NotCompletedAsync(context, writer, payment, "Session vault not created yet", exception.Message);
            return;
        }
        if (offer is not null)
        {
            // Bound before the token is given out, so no request of this session is ever priced off its terms.
            try
            {
                await balances.SetTermsAsync(id, offer, body.Offer!, answer.Body.GetProperty("expiresAt").GetDateTimeOffset());
            }
            catch (Exception exception) when (SessionBalances.IsUnavailable(exception))
            {
                await flow.CompleteSettledAsync(payment, done: false);
                await NotCompletedAsync(context, writer, payment, "Session terms not recorded yet", "the session store did not answer");
                return;
            }
        }
        await flow.CompleteSettledAsync(payment, done: true);
        writer.AddSettlementHeaders(context.Response, payment.Settlement, attempt.Mpp);
        SessionSpending.AddSessionHeaders(context, id, () => answer.Text("balance"));
        if (answer.Text("token") is { } token)
            context.Response.Headers[SessionSpending.TokenHeader] = token;
        context.Response.Headers.Location = $"/api/sessions/{id}";
        var session = answer.Body;
        if (vaultId is not null || offer is not null)
        {
            var json = System.Text.Json.Nodes.JsonNode.Parse(answer.Body.GetRawText())!.AsObject();
            if (vaultId is not null)
                json["vaultId"] = vaultId;
            if (offer is not null)
                json["terms"] = JsonSerializer.SerializeToNode(offer, JsonSerializerOptions.Web);
            session = JsonSerializer.SerializeToElement(json);
        }
        // 201 for every answer to this payment: SessionApi answers 200 when it had created the session already (an earlier try
        // whose answer was lost, or a copy of this header), but for the agent it is the same new session, with the same token.
        await Results.Json(session, statusCode: StatusCodes.Status201Created).ExecuteAsync(context);
    }

    static async Task CloseAsync(HttpContext context, string id, SessionApiClient api, PricingCatalog catalog, SessionRefunds refunds,
        SessionSpending spending, VaultApiClient vaults)
    {
        var token = SessionSpending.TakeToken(context.Request);
        try
        {
            if (await ResolveOwnAsync(context, api, catalog, id, token) is not { } owned)
                return;
            var method = refunds.Method;
            // The refund is what is left once every request in flight is settled and every debit is in SessionApi's ledger.
            bool stopped;
            try
            {
                stopped = await spending.WaitForLedgerAsync(id, close: true, CloseWait, CancellationToken.None);
            }
            catch (Exception exception) when (SessionBalances.IsUnavailable(exception) || PaymentStore.IsInfrastructure(exception))
            {
                // Redis, or gatedb with the voids the session may be owed: the refund must not be computed without them.
                await PaywallResponses.WriteUnavailableAsync(context, "Sessions unavailable", $"The session's balance could not be reached; it was not closed. Retry.");
                return;
            }
            if (!stopped)
            {
                context.Response.Headers.RetryAfter = "1";
                await Problems.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, "close-pending", "Close pending",
                    $"Session {id} takes no more requests, but some are still being answered or recorded; close again in a moment to get the refund.");
                return;
            }
            var closed = await api.CloseAsync(owned.Session, method, CancellationToken.None);
            if (!closed.IsSuccess)
            {
                await Results.Json(closed.Body, statusCode: (int)closed.Status, contentType: "application/problem+json").ExecuteAsync(context);
                return;
            }
            await vaults.SealAsync(owned.Session);
            BigInteger refunded = AtomicAmount.Parse(closed.Text("refunded") ?? "0");
            // A repeated close answers the method recorded first; the ledger transfer is idempotent on the session.
            string? transaction = null;
            if (closed.Text("method") == SessionRefunds.Ledger && refunded > 0)
            {
                transaction = await refunds.TransferAsync(owned.Organization, owned.Session.Payer, refunded, id, CancellationToken.None);
                if (transaction is null)
                {
                    await Problems.WriteAsync(context, 502, "refund-not-transferred", "Refund not transferred",
                        $"Session {id} is closed with {refunded} to refund, but {owned.Organization.PayTo} cannot cover it on the ledger; close again to retry.");
                    return;
                }
            }
            SessionSpending.AddSessionHeaders(context, id, () => "0");
            await Results.Json(new
            {
                id, refunded = refunded.ToString(CultureInfo.InvariantCulture), method = closed.Text("method"), balance = "0",
                state = closed.Text("state"), payer = owned.Session.Payer, transaction,
            }, JsonSerializerOptions.Web).ExecuteAsync(context);
        }
        catch (SessionApiUnavailableException exception)
        {
            await PaywallResponses.WriteUnavailableAsync(context, "Sessions unavailable", $"{exception.Message}; the session was not closed. Retry.");
        }
    }

    static async Task GetAsync(HttpContext context, string id, SessionApiClient api, PricingCatalog catalog, SessionSpending spending,
        SessionBalances balances, ILoggerFactory logs)
    {
        var token = SessionSpending.TakeToken(context.Request);
        try
        {
            // SessionApi's figures count every debit once the gate's are in its ledger (a moment; else they may trail).
            await spending.WaitForLedgerAsync(id, close: false, ReadWait, context.RequestAborted);
            if (await ResolveOwnAsync(context, api, catalog, id, token) is not { } owned)
                return;
            SessionSpending.AddSessionHeaders(context, id, () => owned.Body.Text("balance"));
            await Results.Json(await WithTermsAsync(owned.Body.Body, id, balances, logs)).ExecuteAsync(context);
        }
        catch (SessionApiUnavailableException exception)
        {
            await PaywallResponses.WriteUnavailableAsync(context, "Sessions unavailable", exception.Message);
        }
    }

    /// <summary>
    /// <c>GET /api/sessions?state=&amp;limit=</c>: the sessions of the payer whose session token this is, at the token's
    /// organisation, newest first (SessionApi's list: tokens are never listed). The token proves the payer.
    /// </summary>
    static async Task ListAsync(HttpContext context, SessionApiClient api, PricingCatalog catalog)
    {
        var token = SessionSpending.TakeToken(context.Request);
        try
        {
            if (!await RequireTokenAsync(context, token))
                return;
            if (await ResolveAsync(context, api, catalog, token!) is not { } owned)
            {
                await Problems.WriteAsync(context, 401, "session-token-unknown", "Unknown session token", $"The {SessionSpending.TokenHeader} token is not a session here.");
                return;
            }
            var list = await api.ListAsync(owned.Organization.Id, owned.Session.Payer, context.Request.QueryString, context.RequestAborted);
            await Results.Json(list.Body, statusCode: (int)list.Status, contentType: list.IsSuccess ? null : "application/problem+json")
                .ExecuteAsync(context);
        }
        catch (SessionApiUnavailableException exception)
        {
            await PaywallResponses.WriteUnavailableAsync(context, "Sessions unavailable", exception.Message);
        }
    }

    internal sealed record OwnedSession(SessionRef Session, Organization Organization, ServiceAnswer Body);

    /// <summary>The session of <paramref name="token"/>, which must be <paramref name="id"/>; null after answering 401/404.</summary>
    static async Task<OwnedSession?> ResolveOwnAsync(HttpContext context, SessionApiClient api, PricingCatalog catalog, string id, string? token)
    {
        if (!await RequireTokenAsync(context, token))
            return null;
        if (await ResolveAsync(context, api, catalog, token!) is { } owned && owned.Session.Id == id)
            return owned;
        await Problems.WriteAsync(context, 404, "session-not-found", "Session not found", $"No session {id} for this token.");
        return null;
    }

    internal static async Task<bool> RequireTokenAsync(HttpContext context, string? token)
    {
        if (SessionSpending.IsWellFormedToken(token))
            return true;
        await Problems.WriteAsync(context, 401, "session-token-required", "Session token required", $"Send the session's token in the {SessionSpending.TokenHeader} header.");
        return false;
    }

    /// <summary>The session of a well-formed token in whichever organisation knows it, or null.</summary>
    internal static async Task<OwnedSession?> ResolveAsync(HttpContext context, SessionApiClient api, PricingCatalog catalog, string token)
    {
        // Resolve is scoped to an organisation and the token does not say which: organisations are few, ask each.
        foreach (var organization in catalog.Organizations)
        {
            var answer = await api.ResolveAsync(organization.Id, token, context.RequestAborted);
            if (answer.Status == HttpStatusCode.NotFound)
                continue;
            if (!answer.IsSuccess || answer.Text("id") is not { } id)
                return null;
            return new OwnedSession(new SessionRef(id, answer.Text("payer")!, organization.Id), organization, answer);
        }
        return null;
    }

    /// <summary>A one-off paid route whose price is the amount asked (deposit, pass or top-up): the 402 asks for exactly that.</summary>
    static GateRoute SessionRoute(Organization organization, string method, string path, BigInteger amount, string description) =>
        new($"session:{path}", method, path, "gate", description, "application/json", organization, amount, organization.EvmRequirements(amount))
        {
            SvmRequirements = organization.SvmRequirements(amount),
        };

    /// <summary>Settled, but SessionApi did not act: the money is on record and the same payment header finishes the job.</summary>
    static Task NotCompletedAsync(HttpContext context, PaymentAnswerWriter writer, SettledPayment payment, string title, string reason)
    {
        writer.AddSettlementHeaders(context.Response, payment.Settlement, payment.Attempt.Mpp);
        return PaywallResponses.WriteUnavailableAsync(context, title,
            $"Payment {payment.PaymentId} is settled but the session service did not confirm ({reason}). Send the same payment header " +
            "again: it completes without a new charge.", payment.PaymentId);
    }

    internal static Organization? ChooseOrganization(PricingCatalog catalog, string? requested, Dictionary<string, string[]> errors)
    {
        if (requested is not null)
        {
            var found = catalog.FindOrganization(requested);
            if (found is null) errors["organization"] = [$"Unknown organisation '{requested}'."];
            return found;
        }
        if (catalog.Organizations.Count == 1)
            return catalog.Organizations[0];
        errors["organization"] = [$"Required: one of {string.Join(", ", catalog.Organizations.Select(o => o.Id))}."];
        return null;
    }

    internal static (BigInteger Min, BigInteger Max) DepositBounds(Organization organization, SessionGateOptions options) =>
        (options.MinimumDeposit is { Length: > 0 } min ? ParseOr(min, 1) : organization.CheapestRoute ?? 1, ParseOr(options.MaximumDeposit, 1_000_000_000));

    static BigInteger ParseOr(string? text, BigInteger fallback) => AtomicAmount.TryParse(text, out var value) && !value.IsZero ? value : fallback;
}
