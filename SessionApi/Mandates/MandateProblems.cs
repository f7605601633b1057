using Microsoft.AspNetCore.Http.HttpResults;
using Sessions.ServiceDefaults.Errors;
using Sessions.Payments.Eip712;

namespace Sessions.SessionApi.Mandates;

/// <summary>problem+json answers of the mandate API, each with <c>code</c> (also the last segment of <c>type</c>).</summary>
public static class MandateProblems
{
    public static ProblemHttpResult InvalidConsent(SignatureCheck check, string signer) => Problem(
        check == SignatureCheck.Malformed ? StatusCodes.Status400BadRequest : StatusCodes.Status401Unauthorized, "invalid-consent", "Invalid consent",
        check == SignatureCheck.Malformed
            ? $"The {signer}'s signature is not a 65-byte 0x-hex ECDSA signature."
            : $"The {signer}'s signature does not recover to terms.{signer} over these terms: forged, or the terms were altered.",
        new() { ["signer"] = signer });

    public static ProblemHttpResult InvalidSignature(SignatureCheck check, string detail) => Problem(
        check == SignatureCheck.Malformed ? StatusCodes.Status400BadRequest : StatusCodes.Status401Unauthorized, "invalid-signature",
        "Invalid signature", detail);

    public static ProblemHttpResult NotFound(string id) => Problem(StatusCodes.Status404NotFound, "mandate-not-found", "No such mandate",
        $"No mandate '{id}'.");

    public static ProblemHttpResult ApprovalNotFound(string id) => Problem(StatusCodes.Status404NotFound, "approval-not-found", "No such approval",
        $"No approval '{id}' for this agent's mandate.", new() { ["approvalId"] = id });

    public static ProblemHttpResult ChargeNotFound(string key) => Problem(StatusCodes.Status404NotFound, "charge-not-found", "No such charge",
        $"This agent has no mandate charge with idempotency key '{key}'.");

    public static ProblemHttpResult Conflict(string code, string title, string detail, string? mandateId = null) =>
        Problem(StatusCodes.Status409Conflict, code, title, detail, mandateId is null ? null : new() { ["mandateId"] = mandateId });

    public static ProblemHttpResult AgentBound(Mandate current) => Problem(StatusCodes.Status403Forbidden, "agent-bound", "Agent bound to another user",
        "This agent was mandated by another user wallet; only that user can mandate it again.", new() { ["mandateId"] = current.Id });

    /// <summary>The gate's answer for a refused charge (payment or session debit), with the numbers to tell the agent.</summary>
    public static ProblemHttpResult Refused(ChargeResult result, System.Numerics.BigInteger amount)
    {
        var m = result.Mandate!;
        var extensions = new Dictionary<string, object?> { ["mandateId"] = m.Id, ["amount"] = amount.ToString() };
        if (result.Spending is { } s)
        {
            extensions["remaining"] = new Dictionary<string, string?>
            {
                ["perTransaction"] = m.MaxPerTransaction?.ToString(),
                ["today"] = Spending.Remaining(m.MaxPerDay, s.Today)?.ToString(),
                ["thisWeek"] = Spending.Remaining(m.MaxPerWeek, s.ThisWeek)?.ToString(),
                ["thisMonth"] = Spending.Remaining(m.MaxPerMonth, s.ThisMonth)?.ToString(),
            };
        }
        if (result.ApprovalId is not null) extensions["approvalId"] = result.ApprovalId;
        return result.Status switch
        {
            ChargeStatus.LimitExceeded => Problem(StatusCodes.Status403Forbidden, "limit-exceeded", "Mandate limit exceeded",
                $"The amount {amount} would exceed the mandate's {result.Limit} of {result.LimitAmount} (rolling windows: last 24 h, 7 days, 30 days).",
                Add(extensions, "limit", result.Limit, "limitAmount", result.LimitAmount?.ToString())),
            ChargeStatus.MerchantNotAllowed => Problem(StatusCodes.Status403Forbidden, "merchant-not-allowed", "Merchant not allowed",
                "The mandate does not allow spending at this organisation.", Add(extensions, "allowedMerchants", m.AllowedMerchants)),
            ChargeStatus.ApprovalRequired => Problem(StatusCodes.Status409Conflict, "approval-required", "Approval required",
                $"The amount is above the mandate's approval threshold {m.RequireApprovalAbove}: the payment is held as pending_approval until the user " +
                "approves; then retry with the approvalId.", Add(extensions, "state", "pending_approval")),
            ChargeStatus.ApprovalDenied => Problem(StatusCodes.Status403Forbidden, "approval-denied", "Approval denied",
                "The user denied this payment.", extensions),
            ChargeStatus.ApprovalUsed => Problem(StatusCodes.Status409Conflict, "approval-used", "Approval already used",
                "An approval pays for one charge; this one was used by another.", extensions),
            ChargeStatus.ApprovalMismatch => Problem(StatusCodes.Status409Conflict, "approval-mismatch", "Approval does not cover this payment",
                "The approval is for another organisation or a smaller amount.", extensions),
            ChargeStatus.ApprovalNotFound => ApprovalNotFound(result.ApprovalId!),
            ChargeStatus.MandateRevoked => Problem(StatusCodes.Status403Forbidden, "mandate-revoked", "Mandate revoked",
                "The user revoked this agent's mandate: it may spend nothing until the user signs a new one.", extensions),
            ChargeStatus.MandateExpired => Problem(StatusCodes.Status403Forbidden, "mandate-expired", "Mandate expired",
                $"The agent's mandate expired at {m.ExpiresAt:O}: it may spend nothing until the user signs a new one.", extensions),
            _ => Problem(StatusCodes.Status409Conflict, "idempotency-key-conflict", "Idempotency key already used",
                "The idempotency key already charged another mandate.", extensions),
        };
    }

    static Dictionary<string, object?> Add(Dictionary<string, object?> extensions, string key, object? value, string? key2 = null, object? value2 = null)
    {
        extensions[key] = value;
        if (key2 is not null) extensions[key2] = value2;
        return extensions;
    }

    static ProblemHttpResult Problem(int status, string code, string title, string detail, Dictionary<string, object?>? extensions = null) =>
        Problems.Coded(status, code, title, detail, extensions);
}
