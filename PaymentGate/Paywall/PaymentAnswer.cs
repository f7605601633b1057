using System.Text.Json;
using System.Text.Json.Nodes;
using Sessions.PaymentGate.Pricing;
using Sessions.Payments.X402;

namespace Sessions.PaymentGate.Paywall;

/// <summary>
/// What the gate answers a request on a priced (or MCP) route, decided by one payment kind and written by
/// <see cref="PaymentAnswerWriter"/>. Every kind returns one; nothing is written to the client before the writer runs,
/// except the upstream's own answer on free routes (<see cref="Forwarded"/>).
/// </summary>
public abstract record PaymentAnswer
{
    /// <summary>The session that paid or was asked to (headers <c>Payment-Session-Id</c> / <c>-Balance</c> on the answer).</summary>
    public SessionShown? Session { get; init; }

    /// <summary>The protocol the answer is given in when the payment travelled inside it (an MCP tool call); null: plain HTTP.</summary>
    public IPaidAnswerFormat? Format { get; init; }

    /// <summary>Forwarded unpaid (free route, free tool): the upstream's answer has gone to the client as it came.</summary>
    public sealed record Forwarded : PaymentAnswer;

    /// <summary>
    /// The buffered upstream answer, delivered: with <paramref name="Settlement"/> (its x402 headers, and inside the body
    /// for an MCP result) when a payment paid it, without when the upstream failed and nothing was charged.
    /// </summary>
    /// <param name="Mpp">The payment was an MPP credential: the answer carries its receipt.</param>
    public sealed record Served(UpstreamAnswer Upstream, SettleResponse? Settlement = null, MppCredentialSeen? Mpp = null) : PaymentAnswer
    {
        /// <summary>Set when the answer was charged (paid or debited): the writer signs its receipt (<c>Sessions-Receipt</c>).</summary>
        public Receipts.ReceiptFacts? Charged { get; init; }
    }

    /// <summary>
    /// 402 (or the MCP transport's payment required): the route's offer in x402 v1/v2 and an MPP challenge, with why.
    /// </summary>
    /// <param name="Reason">Short reason for telemetry and MPP's problem type ("missing", "replay", an x402 reason code...).</param>
    /// <param name="Extra">Members beside <c>accepts</c> in the v1 body (a session's <c>topUp</c> hint).</param>
    /// <param name="ProblemType">MPP's problem type when the MPP checks chose one (else derived from <paramref name="Reason"/>).</param>
    /// <param name="Mpp">The request carried an MPP credential: the answer is MPP's problem.</param>
    public sealed record PaymentRequired(GateRoute Route, string ResourceUrl, string Reason, string Error, string? Payer = null,
        SettleResponse? Settlement = null, IReadOnlyDictionary<string, object?>? Extra = null, string? ProblemType = null,
        MppCredentialSeen? Mpp = null) : PaymentAnswer
    {
        /// <summary>A refusal of <paramref name="attempt"/> (its route, resource, payer and MPP credential).</summary>
        public static PaymentRequired Of(PaymentAttempt attempt, string reason, string error, SettleResponse? settlement = null,
            string? problemType = null) =>
            new(attempt.Route, attempt.ResourceUrl, reason, error, attempt.Payer, settlement, ProblemType: problemType, Mpp: attempt.Mpp);
    }

    /// <summary>503 problem: the gate cannot take or finish the payment now (nothing charged, or <paramref name="PaymentId"/> pending).</summary>
    public sealed record Unavailable(string Title, string Detail, string? PaymentId = null, int RetryAfterSeconds = 5) : PaymentAnswer;

    /// <summary>A gate problem with a stable <paramref name="Code"/> (409 payment-in-progress, 401 unknown session token).</summary>
    public sealed record Problem(int Status, string Code, string Title, string Detail, string? RetryAfter = null) : PaymentAnswer;

    /// <summary>431: a payment header longer than x402 ever needs.</summary>
    public sealed record HeaderTooLarge(GateRoute Route, string HeaderName, int Length, int Limit) : PaymentAnswer;

    /// <summary>A refusal decided by SessionApi (a mandate), passed on as is, without a payment challenge.</summary>
    public sealed record Refused(int Status, JsonElement Body) : PaymentAnswer;

    /// <summary>400 of the MPP Payment scheme (method unsupported, several credentials), with a challenge that would work.</summary>
    public sealed record MppBadRequest(GateRoute Route, string Type, string Detail) : PaymentAnswer;

    /// <summary>An MCP message the gate will not read: the JSON-RPC error alone, <c>id</c> null, as McpServer answers one.</summary>
    public sealed record JsonRpcError(int Status, int Code, string Message) : PaymentAnswer;

    /// <summary>503 for an MCP tool call: problem+json that also carries the call's JSON-RPC error.</summary>
    public sealed record ToolCallUnavailable(JsonNode? Id, string Title, string Detail) : PaymentAnswer;
}

/// <summary>The session shown on an answer; <paramref name="Balance"/> is what is left after this request (null: not shown).</summary>
public sealed record SessionShown(string Id, string? Balance);

/// <summary>A request that paid (or tried to) with an MPP credential; <paramref name="ChallengeId"/> once the credential named one.</summary>
public sealed record MppCredentialSeen(string? ChallengeId);
