namespace Sessions.Payments.X402;

/// <summary>
/// invalidReason / errorReason strings, in one place. Where the official @x402/evm 2.x facilitator
/// (typescript/packages/mechanisms/evm/src/exact/facilitator/errors.ts) has a code we use it verbatim;
/// cases it does not name come from the Go SDK constants it promises parity with
/// (go/mechanisms/evm/exact/facilitator/errors.go) or the core list (legacy x402Specs.ts ErrorReasons).
/// Treat reasons from other facilitators as opaque strings: versions differ.
/// </summary>
public static class ReasonCodes
{
    // --- @x402/evm 2.x (TS errors.ts), in verify order ---
    public const string InvalidScheme = "invalid_exact_evm_scheme";
    public const string MissingEip712Domain = "invalid_exact_evm_missing_eip712_domain";
    public const string NetworkMismatch = "invalid_exact_evm_network_mismatch";
    public const string InvalidSignature = "invalid_exact_evm_signature";
    public const string RecipientMismatch = "invalid_exact_evm_recipient_mismatch";
    public const string ValidBeforeExpired = "invalid_exact_evm_payload_authorization_valid_before";
    public const string ValidAfterInFuture = "invalid_exact_evm_payload_authorization_valid_after";
    public const string AuthorizationValueMismatch = "invalid_exact_evm_authorization_value";

    // --- @x402/evm 2.x on-chain checks: for the local facilitator's ledger, not this verifier ---
    public const string NonceAlreadyUsed = "invalid_exact_evm_nonce_already_used";
    public const string InsufficientBalance = "invalid_exact_evm_insufficient_balance";
    public const string TransactionFailed = "invalid_exact_evm_transaction_failed";

    // --- Go SDK (same strings by declared cross-SDK parity); TS throws instead of answering ---
    public const string InvalidPayload = "invalid_exact_evm_payload";
    public const string MissingSignature = "invalid_exact_evm_payload_missing_signature";
    public const string InvalidSignatureFormat = "invalid_exact_evm_signature_format";
    public const string InvalidRequiredAmount = "invalid_exact_evm_required_amount";

    // --- core / legacy ErrorReasons ---
    public const string InvalidPaymentRequirements = "invalid_payment_requirements";
    public const string InvalidX402Version = "invalid_x402_version";
    public const string UnsupportedScheme = "unsupported_scheme";
    public const string UnexpectedVerifyError = "unexpected_verify_error";
    public const string UnexpectedSettleError = "unexpected_settle_error";
}
