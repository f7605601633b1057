using System.Globalization;
using System.Numerics;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Sessions.SessionApi.Ledger;
using Sessions.ServiceDefaults.Payers;
using Sessions.ServiceDefaults.Errors;

namespace Sessions.SessionApi.Sessions;

/// <summary>
/// The session API (docs/sessions.md has the contract). <c>/internal/sessions</c> is for the gate only: it signs the payer context
/// with the shared key after a payment or to act for a session's payer, and never routes clients here. <c>/api/sessions</c>
/// is the payer's own view, reached through the gate. Every call needs a payer context (401 without one).
/// </summary>
public static class SessionsApi
{
    public const int MaxListLimit = 100;

    public static IEndpointRouteBuilder MapSessionsApi(this IEndpointRouteBuilder app)
    {
        var gate = app.MapGroup("/internal/sessions").RequirePayer();
        gate.MapPost("", OpenAsync);
        gate.MapPost("/resolve", ResolveAsync);
        gate.MapPost("/debits", FoldDebitsAsync);
        gate.MapPost("/{id}/topups", TopUpAsync);
        gate.MapPost("/{id}/close", CloseAsync);

        var payer = app.MapGroup("/api/sessions").RequirePayer();
        payer.MapGet("", ListAsync);
        payer.MapGet("/{id}", GetAsync);
        return app;
    }

    /// <param name="Credited">Per void's key: what was credited back ("0": there was no debit; replays answer the same).</param>
    /// <param name="Voided">Debits not applied: their void came first.</param>
    public sealed record FoldResponse(int Applied, int Replayed, IReadOnlyList<string> Refused, IReadOnlyDictionary<string, string> Credited,
        IReadOnlyList<string> Voided);

    public sealed record CloseResponse(string Id, string Refunded, string Balance, string Method, string State);

    public sealed record SessionList(IReadOnlyList<SessionResponse> Items);

    static async Task<Results<Created<SessionResponse>, Ok<SessionResponse>, ValidationProblem, ProblemHttpResult>> OpenAsync(
        OpenSessionRequest request, HttpContext http, SessionStore store, IOptions<SessionApiOptions> options, CancellationToken cancellationToken)
    {
        var errors = SessionRequests.Validate(request, options.Value.DefaultPrepaidTtl, out var open);
        if (errors.Count > 0) return Invalid(errors);
        var payer = http.GetPayerContext()!;
        if (open!.Payer != payer.Payer || open.Organization != payer.Organization)
            return SessionProblems.PayerMismatch();
        var result = await store.OpenAsync(open, cancellationToken);
        return result.Status switch
        {
            OpenStatus.Created => TypedResults.Created($"/api/sessions/{result.Session!.Id}", SessionResponse.From(result.Session, result.Token)),
            OpenStatus.Replayed => TypedResults.Ok(SessionResponse.From(result.Session!, result.Token)),
            _ => SessionProblems.PaymentConflict(open.PaymentId),
        };
    }

    static async Task<Results<Ok<SessionResponse>, ValidationProblem, ProblemHttpResult>> ResolveAsync(
        ResolveSessionRequest request, HttpContext http, SessionStore store, Mandates.MandateStore mandates, CancellationToken cancellationToken)
    {
        var errors = SessionRequests.Validate(request);
        if (errors.Count > 0) return Invalid(errors);
        // The gate learns the payer from the answer, so only the organisation is checked: a token works where it was bought.
        var session = await store.ResolveAsync(request.Token!, http.GetPayerContext()!.Organization, cancellationToken);
        return session is null ? SessionProblems.UnknownToken()
            : TypedResults.Ok(SessionResponse.From(session) with { Mandated = await mandates.IsMandatedAsync(session.Payer, cancellationToken) });
    }

    /// <summary>The gate's batch of debits decided in Redis, written in one transaction; a batch sent again changes nothing.</summary>
    static async Task<Results<Ok<FoldResponse>, ValidationProblem>> FoldDebitsAsync(
        FoldDebitsRequest request, HttpContext http, DebitFold fold, CancellationToken cancellationToken)
    {
        var errors = SessionRequests.Validate(request, out var debits);
        if (errors.Count > 0) return Invalid(errors);
        var payer = http.GetPayerContext()!;
        var result = await fold.ApplyAsync(payer.Payer, payer.Organization, debits, cancellationToken);
        return TypedResults.Ok(new FoldResponse(result.Applied, result.Replayed, result.Refused,
            result.Credited.ToDictionary(c => c.Key, c => c.Value.ToString(CultureInfo.InvariantCulture)), result.Voided));
    }

    static async Task<Results<Ok<SessionResponse>, ValidationProblem, ProblemHttpResult>> TopUpAsync(
        string id, TopUpRequest request, HttpContext http, SessionStore store, CancellationToken cancellationToken)
    {
        var errors = SessionRequests.Validate(request, out var amount);
        if (errors.Count > 0) return Invalid(errors);
        if (!SessionTokens.IsSessionId(id)) return SessionProblems.NotFound(id);
        var payer = http.GetPayerContext()!;
        var result = await store.TopUpAsync(id, payer.Payer, payer.Organization, amount, request.PaymentId!, cancellationToken);
        return result.Status switch
        {
            ChangeStatus.Done or ChangeStatus.Replayed => TypedResults.Ok(SessionResponse.From(result.Session!)),
            ChangeStatus.Expired => SessionProblems.Expired(result.Session!),
            ChangeStatus.NotActive => SessionProblems.NotActive(result.Session!),
            ChangeStatus.PaymentConflict => SessionProblems.PaymentConflict(request.PaymentId!),
            _ => SessionProblems.NotFound(id),
        };
    }

    static async Task<Results<Ok<CloseResponse>, ValidationProblem, ProblemHttpResult>> CloseAsync(
        string id, CloseSessionRequest? request, HttpContext http, SessionStore store, CancellationToken cancellationToken)
    {
        var errors = SessionRequests.Validate(request, out var method);
        if (errors.Count > 0) return Invalid(errors);
        if (!SessionTokens.IsSessionId(id)) return SessionProblems.NotFound(id);
        var payer = http.GetPayerContext()!;
        var result = await store.CloseAsync(id, payer.Payer, payer.Organization, method, cancellationToken);
        return result.Status switch
        {
            // A repeated close answers what the first one did (the method it recorded).
            ChangeStatus.Done or ChangeStatus.Replayed => TypedResults.Ok(new CloseResponse(id, result.Session!.Refunded.ToString(),
                BigInteger.Zero.ToString(), result.Session.RefundMethod!, result.Session.State)),
            ChangeStatus.NotActive => SessionProblems.NotActive(result.Session!),
            _ => SessionProblems.NotFound(id),
        };
    }

    static async Task<Results<Ok<SessionResponse>, ProblemHttpResult>> GetAsync(string id, HttpContext http, SessionStore store,
        CancellationToken cancellationToken)
    {
        var payer = http.GetPayerContext()!;
        var session = SessionTokens.IsSessionId(id) ? await store.GetAsync(id, payer.Payer, payer.Organization, cancellationToken) : null;
        return session is null ? SessionProblems.NotFound(id) : TypedResults.Ok(SessionResponse.From(session));
    }

    static async Task<Results<Ok<SessionList>, ValidationProblem>> ListAsync(string? state, int? limit, HttpContext http, SessionStore store,
        CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        if (state is not (null or SessionStates.Pending or SessionStates.Active or SessionStates.Depleted or SessionStates.Expired or SessionStates.Refunded))
            errors["state"] = ["One of PENDING, ACTIVE, DEPLETED, EXPIRED, REFUNDED."];
        if (limit is < 1 or > MaxListLimit) errors["limit"] = [$"Between 1 and {MaxListLimit}."];
        if (errors.Count > 0) return Invalid(errors);
        var payer = http.GetPayerContext()!;
        var sessions = await store.ListAsync(payer.Payer, payer.Organization, state, limit ?? 50, cancellationToken);
        return TypedResults.Ok(new SessionList([.. sessions.Select(session => SessionResponse.From(session))]));
    }

    static ValidationProblem Invalid(Dictionary<string, string[]> errors) =>
        Problems.Invalid(errors, "Invalid session request");
}
