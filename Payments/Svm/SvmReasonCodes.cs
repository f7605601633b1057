namespace Sessions.Payments.Svm;

/// <summary>
/// invalidReason / errorReason strings of the official @x402/svm 2.x facilitator
/// (src/exact/facilitator/errors.ts), verbatim. Only the ones this verifier and the local facilitator answer.
/// </summary>
public static class SvmReasonCodes
{
    public const string UnsupportedScheme = "invalid_exact_svm_unsupported_scheme";
    public const string NetworkMismatch = "invalid_exact_svm_network_mismatch";
    public const string MissingFeePayer = "invalid_exact_svm_payload_missing_fee_payer";
    public const string FeePayerNotManaged = "invalid_exact_svm_fee_payer_not_managed_by_facilitator";
    public const string TransactionCouldNotBeDecoded = "invalid_exact_svm_payload_transaction_could_not_be_decoded";
    public const string SignatureInvalid = "invalid_exact_svm_payload_signature_invalid";
    public const string FeePayerMismatch = "invalid_exact_svm_fee_payer_mismatch";
    public const string AltResolutionUnavailable = "invalid_exact_svm_smart_wallet_alt_resolution_not_available";
    public const string InstructionsLength = "invalid_exact_svm_payload_transaction_instructions_length";
    public const string ComputeLimitInstruction = "invalid_exact_svm_payload_transaction_instructions_compute_limit_instruction";
    public const string ComputeLimitInstructionTooHigh = "invalid_exact_svm_payload_transaction_instructions_compute_limit_instruction_too_high";
    public const string ComputePriceInstruction = "invalid_exact_svm_payload_transaction_instructions_compute_price_instruction";
    public const string ComputePriceInstructionTooHigh = "invalid_exact_svm_payload_transaction_instructions_compute_price_instruction_too_high";
    public const string NoTransferInstruction = "invalid_exact_svm_payload_no_transfer_instruction";
    public const string FeePayerTransferringFunds = "invalid_exact_svm_payload_transaction_fee_payer_transferring_funds";
    public const string MintMismatch = "invalid_exact_svm_payload_mint_mismatch";
    public const string RecipientMismatch = "invalid_exact_svm_payload_recipient_mismatch";
    public const string AmountMismatch = "invalid_exact_svm_payload_amount_mismatch";
    public const string UnknownFourthInstruction = "invalid_exact_svm_payload_unknown_fourth_instruction";
    public const string UnknownFifthInstruction = "invalid_exact_svm_payload_unknown_fifth_instruction";
    public const string UnknownSixthInstruction = "invalid_exact_svm_payload_unknown_sixth_instruction";
    public const string MemoCount = "invalid_exact_svm_payload_memo_count";
    public const string MemoMismatch = "invalid_exact_svm_payload_memo_mismatch";

    // --- chain state: the facilitator's ledger decides these, not the off-chain verifier ---
    /// <summary>The official facilitator reports any failed simulation (expired blockhash, missing account, balance) with this.</summary>
    public const string TransactionSimulationFailed = "invalid_exact_svm_transaction_simulation_failed";
    public const string TransactionFailed = "invalid_exact_svm_transaction_failed";
    public const string DuplicateSettlement = "duplicate_settlement";
}
