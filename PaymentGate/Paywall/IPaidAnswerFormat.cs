using Sessions.Payments.Mpp;
using Sessions.Payments.X402;

namespace Sessions.PaymentGate.Paywall;

/// <summary>
/// How the paywall's answers look when the payment travels inside the protocol rather than in HTTP headers (MCP tool
/// calls: PaymentGate/Mcp). Chosen by the payment kind, passed to the forwarding and carried by the answer
/// (<see cref="PaymentAnswer.Format"/>); without one the gate speaks plain HTTP (402, PAYMENT-RESPONSE). Verify, claim,
/// forward, settle and the ledger stay <see cref="PaymentFlow"/>'s, whatever the format.
/// </summary>
public interface IPaidAnswerFormat
{
    /// <summary>The upstream answered below 400 but its answer is a failure (a tool result with isError): nothing is charged.</summary>
    bool IsFailure(HttpResponse response, ReadOnlyMemory<byte> body);

    /// <summary>
    /// The served answer with the settlement inside it (MCP: <c>result._meta["x402/payment-response"]</c>, or MPP's
    /// <paramref name="receipt"/> with the id of the challenge paid, <paramref name="challengeId"/>) when a payment paid it,
    /// and the gate's signed receipt (<paramref name="sessionsReceipt"/>, MCP: <c>_meta["sessions/receipt"]</c>) when charged.
    /// </summary>
    ReadOnlyMemory<byte> WithSettlement(HttpResponse response, ReadOnlyMemory<byte> body, SettleResponse? settlement, PaymentReceipt? receipt,
        string? challengeId, string? sessionsReceipt);

    /// <summary>
    /// "Payment required" in the protocol's own form (MCP: a tool result with isError and the PaymentRequired), with
    /// <paramref name="challenge"/>, MPP's offer of the same route.
    /// </summary>
    Task WritePaymentRequiredAsync(HttpContext context, PaymentAnswer.PaymentRequired refusal, PaymentChallenge? challenge);

    /// <summary>
    /// Members added to the gate's own problem answers (503 unavailable, a mandate's refusal) so a protocol client can match
    /// them to its call (MCP: the JSON-RPC error envelope with the call's id); the HTTP status stays what it is.
    /// </summary>
    IReadOnlyDictionary<string, object?> ProblemEnvelope(int status, string message, string? code);
}
