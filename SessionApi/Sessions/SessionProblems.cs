using Microsoft.AspNetCore.Http.HttpResults;
using Sessions.ServiceDefaults.Errors;

namespace Sessions.SessionApi.Sessions;

/// <summary>
/// The API's problem+json answers. Each carries <c>code</c> (also the last segment of <c>type</c>) for the gate to switch on,
/// and the numbers it needs to answer the client (balance, state, expiry).
/// </summary>
public static class SessionProblems
{
    public static ProblemHttpResult Expired(Session session) => Problem(StatusCodes.Status410Gone, "session-expired", "Session expired",
        $"The session expired at {session.ExpiresAt:O}; its remaining balance can still be refunded by closing it.",
        new() { ["sessionId"] = session.Id, ["expiresAt"] = session.ExpiresAt, ["balance"] = session.Balance.ToString(), ["state"] = session.State });

    public static ProblemHttpResult NotActive(Session session) => Problem(StatusCodes.Status409Conflict, "session-not-active", "Session not active",
        session.IsPass && session.State == SessionStates.Active
            ? "A pass is bought outright and cannot be topped up."
            : $"The session is {session.State}.",
        new() { ["sessionId"] = session.Id, ["state"] = session.State, ["kind"] = session.Kind });

    public static ProblemHttpResult NotFound(string id) => Problem(StatusCodes.Status404NotFound, "session-not-found", "No such session",
        $"No session '{id}' belongs to this payer in this organisation.");

    public static ProblemHttpResult UnknownToken() => Problem(StatusCodes.Status404NotFound, "session-not-found", "No such session",
        "The token belongs to no session of this organisation.");

    public static ProblemHttpResult PaymentConflict(string paymentId) => Problem(StatusCodes.Status409Conflict, "payment-conflict",
        "Payment already used", $"The payment '{paymentId}' already paid for something else (another session or other terms).");

    public static ProblemHttpResult PayerMismatch() => Problem(StatusCodes.Status403Forbidden, "payer-mismatch", "Payer mismatch",
        "The payer and organisation of the session must be those of the payer context.");

    static ProblemHttpResult Problem(int status, string code, string title, string detail, Dictionary<string, object?>? extensions = null) =>
        Problems.Coded(status, code, title, detail, extensions);
}
