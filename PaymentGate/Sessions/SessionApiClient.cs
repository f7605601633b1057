using System.Text.Json;
using Sessions.ServiceDefaults.Payers;

namespace Sessions.PaymentGate.Sessions;

/// <summary>SessionApi did not answer (network error, timeout, 5xx): the gate answers 503 and forwards nothing.</summary>
public sealed class SessionApiUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// The gate's calls to SessionApi's internal API (<c>http://sessionapi</c>, service discovery <c>services:sessionapi:http:0</c>),
/// each with a payer context signed for the session's payer and organisation. Every call it makes is idempotent on the
/// SessionApi side (payment id, debit keys of a fold, mandate charge key, close), so repeating one after an unknown outcome is safe.
/// </summary>
public sealed class SessionApiClient(IHttpClientFactory factory, PayerContextSigner signer)
{
    public const string HttpClientName = "sessionapi";

    /// <summary>Resolve is not payer-scoped (it is how the gate learns the payer); the context still needs an address.</summary>
    const string AnyPayer = "0x0000000000000000000000000000000000000000";

    /// <summary>For calls about no organisation (the list of mandated agents); the context still needs one.</summary>
    const string AnyOrganization = "gate";

    public Task<ServiceAnswer> OpenAsync(string organization, string payer, string kind, string deposit, string paymentId, long? ttlSeconds,
        CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, "/internal/sessions", Context(payer, organization, paymentId: paymentId),
            new { organization, payer, kind, deposit, paymentId, ttlSeconds }, cancellationToken);

    public Task<ServiceAnswer> ResolveAsync(string organization, string token, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, "/internal/sessions/resolve", Context(AnyPayer, organization), new { token }, cancellationToken);

    public Task<ServiceAnswer> GetAsync(string organization, string payer, string id, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Get, $"/api/sessions/{Uri.EscapeDataString(id)}", Context(payer, organization, sessionId: id), null, cancellationToken);

    /// <summary>The payer's sessions at the organisation, newest first; <paramref name="query"/> is SessionApi's (<c>?state=&amp;limit=</c>), passed as is.</summary>
    public Task<ServiceAnswer> ListAsync(string organization, string payer, QueryString query, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Get, "/api/sessions" + query.ToUriComponent(), Context(payer, organization), null, cancellationToken);

    /// <summary>Debits decided in Redis, all of <paramref name="payer"/>, for SessionApi's ledger (a batch sent again writes nothing twice).</summary>
    public Task<ServiceAnswer> FoldDebitsAsync(string organization, string payer, object[] debits, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, "/internal/sessions/debits", Context(payer, organization), new { debits }, cancellationToken);

    public Task<ServiceAnswer> TopUpAsync(SessionRef session, string amount, string paymentId, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, $"/internal/sessions/{session.Id}/topups", Context(session.Payer, session.Organization, session.Id, paymentId: paymentId),
            new { amount, paymentId }, cancellationToken);

    public Task<ServiceAnswer> CloseAsync(SessionRef session, string method, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, $"/internal/sessions/{session.Id}/close", Context(session.Payer, session.Organization, session.Id),
            new { method }, cancellationToken);

    /// <summary>Charges an x402 payment of <paramref name="payer"/> (the agent) against its mandate; the key is the gate's payment id.</summary>
    public Task<ServiceAnswer> ChargeMandateAsync(string organization, string payer, string amount, string paymentId, string? approvalId,
        CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, "/internal/mandates/charge", Context(payer, organization, paymentId: paymentId),
            new { amount, idempotencyKey = paymentId, approvalId }, cancellationToken);

    public Task<ServiceAnswer> ReleaseMandateChargeAsync(string organization, string payer, string paymentId, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, $"/internal/mandates/charges/{Uri.EscapeDataString(paymentId)}/release", Context(payer, organization, paymentId: paymentId),
            null, cancellationToken);

    /// <summary>Every agent that has or had a mandate (<see cref="MandatedAgents"/> loads the gate's set from it); not payer-scoped.</summary>
    public Task<ServiceAnswer> MandatedAgentsAsync(CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Get, "/internal/mandates/agents", Context(AnyPayer, AnyOrganization), null, cancellationToken);

    /// <summary>The head of SessionApi's ledger chain, which the gate signs as a checkpoint (Ledger/LedgerCheckpointer); not payer-scoped.</summary>
    public Task<ServiceAnswer> LedgerHeadAsync(CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Get, "/internal/ledger/head", Context(AnyPayer, AnyOrganization), null, cancellationToken);

    /// <summary>
    /// A mandate owner's call (<see cref="MandatesGateApi"/>): no payer context, the user's EIP-712 signature in the body
    /// (create, revoke, approve, deny) or in <paramref name="headers"/> (reads) is what SessionApi checks.
    /// </summary>
    public Task<ServiceAnswer> OwnerCallAsync(HttpMethod method, string pathAndQuery, JsonElement? body, IEnumerable<KeyValuePair<string, string>>? headers,
        CancellationToken cancellationToken) =>
        SendAsync(method, pathAndQuery, null, body, cancellationToken, headers);

    string Context(string payer, string organization, string? sessionId = null, string? paymentId = null) =>
        signer.Sign(new PayerContext
        {
            Payer = payer, Organization = organization, SessionId = sessionId, PaymentId = paymentId,
            ExpiresAt = signer.NewExpiry(),
        });

    async Task<ServiceAnswer> SendAsync(HttpMethod method, string path, string? context, object? body, CancellationToken cancellationToken,
        IEnumerable<KeyValuePair<string, string>>? headers = null)
    {
        ServiceAnswer answer;
        try
        {
            using var client = factory.CreateClient(HttpClientName);
            client.BaseAddress ??= new Uri("http://sessionapi");
            answer = await client.SendJsonAsync(method, path, context, body, cancellationToken, headers: headers);
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            throw new SessionApiUnavailableException($"SessionApi did not answer {method} {path}: {(exception.InnerException ?? exception).Message}", exception);
        }
        // A 5xx, or a body that is not SessionApi's JSON, is no answer either: the gate answers 503 and forwards nothing.
        if ((int)answer.Status >= 500 || answer.IsUnreadable)
            throw new SessionApiUnavailableException($"SessionApi answered {(int)answer.Status} to {method} {path}{(answer.IsUnreadable ? " with a body that is not JSON" : "")}");
        return answer;
    }
}

/// <summary>Who a session belongs to, as resolved from its token: enough to sign the context of its calls.</summary>
/// <param name="Balance">What it has left to spend as the gate has it in Redis (null: resolved from SessionApi).</param>
public sealed record SessionRef(string Id, string Payer, string Organization, System.Numerics.BigInteger? Balance = null);
