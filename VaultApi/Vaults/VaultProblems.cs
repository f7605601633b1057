using Microsoft.AspNetCore.Http.HttpResults;
using Sessions.ServiceDefaults.Errors;

namespace Sessions.VaultApi.Vaults;

/// <summary>
/// problem+json answers with <c>code</c> (also the last segment of <c>type</c>). A vault the caller may not see is always the
/// same 404 as one that does not exist: no 403, nothing that tells a vault's existence or owner.
/// </summary>
public static class VaultProblems
{
    public static ProblemHttpResult NotFound() => Problem(StatusCodes.Status404NotFound, "vault-not-found", "No such vault",
        "No vault with this id is visible to the caller.");

    public static ProblemHttpResult DocumentNotFound() => Problem(StatusCodes.Status404NotFound, "document-not-found", "No such document",
        "The vault has no document with this id.");

    public static ProblemHttpResult TokenNotFound() => Problem(StatusCodes.Status404NotFound, "access-token-not-found", "No such access token",
        "The vault has no access token with this id.");

    public static ProblemHttpResult ReadOnly(Vault vault) => Problem(StatusCodes.Status409Conflict, "vault-read-only", "Vault is read-only",
        vault.State == VaultStates.Sealed
            ? "The vault was sealed when its session closed; its documents stay readable until retention ends."
            : $"The vault's session expired at {vault.ExpiresAt:O}; its documents stay readable until retention ends.",
        new() { ["vaultId"] = vault.Id, ["state"] = vault.State, ["retentionUntil"] = vault.RetentionUntil });

    public static ProblemHttpResult TooLarge(int size, int limit) => Problem(StatusCodes.Status413PayloadTooLarge, "document-too-large",
        "Document too large", $"The content has {size} bytes; the limit is {limit}.", new() { ["size"] = size, ["limit"] = limit });

    public static ProblemHttpResult SessionConflict(string sessionId) => Problem(StatusCodes.Status409Conflict, "vault-conflict",
        "Vault belongs to another payer", $"The vault of session '{sessionId}' was created for another payer or organisation.");

    public static ProblemHttpResult PayerMismatch() => Problem(StatusCodes.Status403Forbidden, "payer-mismatch", "Payer mismatch",
        "The payer and organisation of the vault must be those of the payer context.");

    public static ProblemHttpResult Unauthorized() => Problem(StatusCodes.Status401Unauthorized, "vault-access-denied", "No vault access",
        "Reach vaults through the payment gate (payer context) or with a valid vault access token.");

    static ProblemHttpResult Problem(int status, string code, string title, string detail, Dictionary<string, object?>? extensions = null) =>
        Problems.Coded(status, code, title, detail, extensions);
}
