using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Sessions.Payments.Crypto;
using Sessions.Payments.Eip712;
using Sessions.ServiceDefaults.Payers;
using Sessions.ServiceDefaults.Errors;

namespace Sessions.SessionApi.Mandates;

/// <summary>
/// Agent mandates (docs/mandates.md). <c>/api/mandates</c> and <c>/api/approvals</c> are public: user actions are
/// proven by the user's EIP-712 signature, not by a payer context; reads with a <see cref="SignedRead"/> answer only the signing
/// user's mandates (the gate forwards no other reads). <c>/internal/mandates</c> is for the gate (payer context: agent = payer,
/// merchant = organisation).
/// </summary>
public static class MandatesApi
{
    public const int MaxListLimit = 100;

    public static IEndpointRouteBuilder MapMandatesApi(this IEndpointRouteBuilder app)
    {
        var mandates = app.MapGroup("/api/mandates");
        mandates.MapPost("", CreateAsync);
        mandates.MapGet("", ListAsync);
        mandates.MapGet("/{id}", GetAsync);
        mandates.MapPost("/{id}/revoke", RevokeAsync);
        mandates.MapGet("/{id}/approvals", ApprovalsAsync);
        app.MapPost("/api/approvals/{approvalId}/approve", (string approvalId, SignedActionRequest request, MandateStore store, CancellationToken ct) =>
            DecideAsync(approvalId, "approve", request, store, ct));
        app.MapPost("/api/approvals/{approvalId}/deny", (string approvalId, SignedActionRequest request, MandateStore store, CancellationToken ct) =>
            DecideAsync(approvalId, "deny", request, store, ct));

        var gate = app.MapGroup("/internal/mandates").RequirePayer();
        gate.MapPost("/charge", ChargeAsync);
        gate.MapPost("/charges/{idempotencyKey}/release", ReleaseAsync);
        gate.MapGet("/agents", async (MandateStore store, CancellationToken ct) => TypedResults.Ok(new AgentList(await store.AgentsAsync(ct))));
        return app;
    }

    public sealed record MandateList(IReadOnlyList<MandateResponse> Items);

    public sealed record ApprovalList(IReadOnlyList<ApprovalResponse> Items);

    /// <summary><c>mandate</c> is null when the agent has no mandate (it is not restricted).</summary>
    public sealed record ChargeResponse(MandateResponse? Mandate, string? MandateId, string Charged, bool Replayed, string? ApprovalId);

    public sealed record ReleaseResponse(string IdempotencyKey, bool Released);

    /// <summary>Every agent that has or had a mandate (lowercase): the gate's set of mandated agents is loaded from it.</summary>
    public sealed record AgentList(IReadOnlyList<string> Agents);

    static async Task<Results<Created<MandateResponse>, Ok<MandateResponse>, ValidationProblem, ProblemHttpResult>> CreateAsync(
        CreateMandateRequest request, MandateStore store, CancellationToken cancellationToken)
    {
        var errors = MandateRequests.Validate(request, store.Now, out var terms);
        if (errors.Count > 0) return Invalid(errors);
        var digest = MandateTypedData.Digest(terms!);
        if (MandateTypedData.Check(digest, request.Signature, terms!.User) is not SignatureCheck.Valid and var userCheck)
            return MandateProblems.InvalidConsent(userCheck, "user");
        // The agent accepts too: a mandate restricts the agent, so nobody may bind someone else's agent address.
        if (MandateTypedData.Check(digest, request.AgentSignature, terms.Agent) is not SignatureCheck.Valid and var agentCheck)
            return MandateProblems.InvalidConsent(agentCheck, "agent");
        var result = await store.CreateAsync(terms, Hex.Encode(digest), request.Signature!.ToLowerInvariant(), request.AgentSignature!.ToLowerInvariant(),
            request.Metadata?.GetRawText(), cancellationToken);
        return result.Status switch
        {
            MandateStatus.Created => TypedResults.Created($"/api/mandates/{result.Mandate!.Id}", MandateResponse.From(result.Mandate, result.Spending!, store.Now)),
            MandateStatus.Replayed => TypedResults.Ok(MandateResponse.From(result.Mandate!, result.Spending!, store.Now)),
            MandateStatus.NonceConflict => MandateProblems.Conflict("nonce-used", "Consent nonce already used",
                "Another mandate was created with this nonce: sign new terms with a fresh random nonce."),
            MandateStatus.AgentHasMandate => MandateProblems.Conflict("mandate-exists", "Agent already has an active mandate",
                "Revoke the agent's active mandate before creating another.", result.Mandate!.Id),
            MandateStatus.AgentBound => MandateProblems.AgentBound(result.Mandate!),
            _ => MandateProblems.Conflict("mandate-conflict", "Concurrent mandate creation", "Another mandate for this agent was created at the same time; retry."),
        };
    }

    static async Task<Results<Ok<MandateList>, ValidationProblem, ProblemHttpResult>> ListAsync(string? user, string? agent, int? limit,
        HttpRequest http, MandateStore store, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        var read = SignedRead.From(http);
        if (read is not null && user is null) errors["user"] = ["A signed read names its user, the signer."];
        if (user is not null && !EvmAddress.IsValid(user)) errors["user"] = ["An EVM address."];
        if (agent is not null && !EvmAddress.IsValid(agent)) errors["agent"] = ["An EVM address."];
        if (user is null && agent is null) errors["user"] = ["Give user, agent or both."];
        if (limit is < 1 or > MaxListLimit) errors["limit"] = [$"Between 1 and {MaxListLimit}."];
        if (errors.Count > 0) return Invalid(errors);
        if (read is not null && CheckRead(read, user!, store.Now) is { } refused) return refused;
        var items = await store.ListAsync(user?.ToLowerInvariant(), agent?.ToLowerInvariant(), limit ?? 50, cancellationToken);
        return TypedResults.Ok(new MandateList([.. items.Select(item => MandateResponse.From(item.Mandate, item.Spending, store.Now))]));
    }

    static async Task<Results<Ok<MandateResponse>, ProblemHttpResult>> GetAsync(string id, HttpRequest http, MandateStore store,
        CancellationToken cancellationToken)
    {
        var found = MandateIds.IsMandateId(id) ? await store.GetAsync(id, cancellationToken) : null;
        if (found is not { } item) return MandateProblems.NotFound(id);
        if (SignedRead.From(http) is { } read && CheckRead(read, item.Mandate.User, store.Now) is { } refused) return refused;
        return TypedResults.Ok(MandateResponse.From(item.Mandate, item.Spending, store.Now));
    }

    static async Task<Results<Ok<MandateResponse>, ValidationProblem, ProblemHttpResult>> RevokeAsync(string id, SignedActionRequest request,
        MandateStore store, CancellationToken cancellationToken)
    {
        var errors = MandateRequests.Validate(request);
        if (errors.Count > 0) return Invalid(errors);
        var found = MandateIds.IsMandateId(id) ? await store.GetAsync(id, cancellationToken) : null;
        if (found is not { } item) return MandateProblems.NotFound(id);
        if (!MandateRequests.IsFresh(request.Timestamp!.Value, store.Now))
            return MandateProblems.InvalidSignature(SignatureCheck.WrongSigner, "The signed timestamp is more than 5 minutes away from now.");
        var check = MandateTypedData.Check(MandateTypedData.RevokeDigest(id, request.Timestamp.Value), request.Signature, EvmAddress.Parse(item.Mandate.User));
        if (check != SignatureCheck.Valid)
            return MandateProblems.InvalidSignature(check, "The signature of Revoke(mandateId, timestamp) does not recover to the mandate's user.");
        var result = await store.RevokeAsync(id, cancellationToken);
        if (result.Status == MandateStatus.NotFound) return MandateProblems.NotFound(id);
        var spending = (await store.GetAsync(id, cancellationToken))!.Value.Spending;
        return TypedResults.Ok(MandateResponse.From(result.Mandate!, spending, store.Now));
    }

    static async Task<Results<Ok<ApprovalList>, ProblemHttpResult>> ApprovalsAsync(string id, HttpRequest http, MandateStore store,
        CancellationToken cancellationToken)
    {
        if (!MandateIds.IsMandateId(id) || await store.GetAsync(id, cancellationToken) is not { } item) return MandateProblems.NotFound(id);
        if (SignedRead.From(http) is { } read && CheckRead(read, item.Mandate.User, store.Now) is { } refused) return refused;
        var approvals = await store.ApprovalsAsync(id, cancellationToken);
        return TypedResults.Ok(new ApprovalList([.. approvals.Select(ApprovalResponse.From)]));
    }

    static async Task<Results<Ok<ApprovalResponse>, ValidationProblem, ProblemHttpResult>> DecideAsync(string approvalId, string decision,
        SignedActionRequest request, MandateStore store, CancellationToken cancellationToken)
    {
        var errors = MandateRequests.Validate(request);
        if (errors.Count > 0) return Invalid(errors);
        var found = MandateIds.IsApprovalId(approvalId) ? await store.FindApprovalAsync(approvalId, cancellationToken) : null;
        if (found is not { } item) return MandateProblems.ApprovalNotFound(approvalId);
        if (!MandateRequests.IsFresh(request.Timestamp!.Value, store.Now))
            return MandateProblems.InvalidSignature(SignatureCheck.WrongSigner, "The signed timestamp is more than 5 minutes away from now.");
        var check = MandateTypedData.Check(MandateTypedData.DecisionDigest(approvalId, decision, request.Timestamp.Value), request.Signature,
            EvmAddress.Parse(item.Mandate.User));
        if (check != SignatureCheck.Valid)
            return MandateProblems.InvalidSignature(check,
                $"The signature of ApprovalDecision(approvalId, \"{decision}\", timestamp) does not recover to the mandate's user.");
        var result = await store.DecideAsync(approvalId, decision == "approve", cancellationToken);
        return result.Status switch
        {
            MandateStatus.Done or MandateStatus.Replayed => TypedResults.Ok(ApprovalResponse.From(result.Approval!)),
            MandateStatus.NotActive => MandateProblems.Conflict("mandate-not-active", "Mandate not active",
                "The mandate was revoked or expired: its approvals can only be denied.", result.Mandate!.Id),
            MandateStatus.Conflict => MandateProblems.Conflict("approval-decided", "Approval already decided",
                $"The approval is already {result.Approval!.State}; decisions are final.", result.Mandate!.Id),
            _ => MandateProblems.ApprovalNotFound(approvalId),
        };
    }

    static async Task<Results<Ok<ChargeResponse>, ValidationProblem, ProblemHttpResult>> ChargeAsync(ChargeRequest request, HttpContext http,
        MandateStore store, CancellationToken cancellationToken)
    {
        var errors = MandateRequests.Validate(request, out var amount);
        if (errors.Count > 0) return Invalid(errors);
        var payer = http.GetPayerContext()!;
        var result = await store.ChargeAsync(payer.Payer, payer.Organization, amount, request.IdempotencyKey!, request.ApprovalId, cancellationToken);
        return result.Status switch
        {
            ChargeStatus.NoMandate => TypedResults.Ok(new ChargeResponse(null, null, amount.ToString(), false, null)),
            ChargeStatus.Charged or ChargeStatus.Replayed => TypedResults.Ok(new ChargeResponse(
                MandateResponse.From(result.Mandate!, result.Spending!, store.Now), result.Mandate!.Id, amount.ToString(),
                result.Status == ChargeStatus.Replayed, result.ApprovalId)),
            _ => MandateProblems.Refused(result, amount),
        };
    }

    static async Task<Results<Ok<ReleaseResponse>, ProblemHttpResult>> ReleaseAsync(string idempotencyKey, HttpContext http, MandateStore store,
        CancellationToken cancellationToken) =>
        await store.ReleaseAsync(http.GetPayerContext()!.Payer, idempotencyKey, cancellationToken)
            ? TypedResults.Ok(new ReleaseResponse(idempotencyKey, true))
            : MandateProblems.ChargeNotFound(idempotencyKey);

    /// <summary>Null when <paramref name="read"/> is the signature of <paramref name="user"/> (the mandate's, or the listed one) from the last 5 minutes.</summary>
    static ProblemHttpResult? CheckRead(SignedRead read, string user, DateTimeOffset now)
    {
        if (!long.TryParse(read.Timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var timestamp))
            return MandateProblems.InvalidSignature(SignatureCheck.Malformed, $"{SignedRead.TimestampHeader} must be the signed unix time in seconds.");
        if (!MandateRequests.IsFresh(timestamp, now))
            return MandateProblems.InvalidSignature(SignatureCheck.WrongSigner, "The signed timestamp is more than 5 minutes away from now.");
        var owner = EvmAddress.Parse(user);
        var check = MandateTypedData.Check(MandateTypedData.ReadDigest(owner, timestamp), read.Signature, owner);
        return check == SignatureCheck.Valid ? null
            : MandateProblems.InvalidSignature(check, "The signature of ReadMandates(user, timestamp) does not recover to the mandate's user.");
    }

    static ValidationProblem Invalid(Dictionary<string, string[]> errors) => Problems.Invalid(errors, "Invalid mandate request");
}
