using System.Text.Json;
using Sessions.Payments.Svm;
using Sessions.Payments.X402;
using static Sessions.Payments.Tests.Svm.SvmTestTransactions;

namespace Sessions.Payments.Tests.Svm;

public sealed class ExactSvmVerifierTests
{
    private static readonly TestKey Stranger = TestKey.FromSeedByte(9);
    private readonly ExactSvmVerifier _verifier = new([FeePayer.Address]);

    private ExactSvmVerification Verify(string transaction, PaymentRequirements? requirements = null)
    {
        requirements ??= Requirements();
        return _verifier.Verify(Payload(transaction, requirements), requirements);
    }

    private static void AssertInvalid(ExactSvmVerification result, string reason)
    {
        Assert.False(result.IsValid, "expected invalid");
        Assert.Equal(reason, result.InvalidReason);
        Assert.False(string.IsNullOrEmpty(result.InvalidMessage));
        Assert.Null(result.Transfer);
    }

    [Fact]
    public void A_payment_built_like_the_official_client_is_valid_and_exposes_the_transfer()
    {
        var result = Verify(Build(StandardInstructions()));

        Assert.True(result.IsValid, result.InvalidMessage);
        Assert.Equal(Payer.Address.ToString(), result.Payer);
        var transfer = result.Transfer!;
        Assert.Equal(10_000UL, transfer.Amount);
        Assert.Equal(Payer.Address, transfer.Authority);
        Assert.Equal(SolanaAddress.AssociatedTokenAccount(Payer.Address, UsdcDevnet, SolanaPrograms.Token), transfer.Source);
        Assert.Equal(SolanaAddress.AssociatedTokenAccount(PayTo.Address, UsdcDevnet, SolanaPrograms.Token), transfer.Destination);
        Assert.Equal(FeePayer.Address, transfer.FeePayer);
        Assert.True(SolanaTransaction.IsUnsigned(transfer.Transaction.Signatures[0]), "the fee payer's slot stays empty until settlement");
    }

    [Fact]
    public void A_legacy_message_and_the_optional_Lighthouse_and_memo_instructions_are_accepted()
    {
        Assert.True(Verify(Build(StandardInstructions(), legacy: true)).IsValid);
        var withExtras = StandardInstructions();
        withExtras.Insert(3, new TestInstruction(SolanaPrograms.Lighthouse, [], [1, 2, 3]));
        withExtras.Add(Memo("second"));
        Assert.True(Verify(Build(withExtras)).IsValid);
    }

    [Fact]
    public void Scheme_network_and_fee_payer_of_the_requirements_are_checked_first()
    {
        var transaction = Build(StandardInstructions());
        var requirements = Requirements();
        AssertInvalid(_verifier.Verify(Payload(transaction, requirements with { Scheme = "upto" }), requirements), SvmReasonCodes.UnsupportedScheme);
        AssertInvalid(_verifier.Verify(Payload(transaction, requirements with { Network = "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp" }), requirements), SvmReasonCodes.NetworkMismatch);
        AssertInvalid(Verify(transaction, requirements with { Extra = JsonSerializer.SerializeToElement(new { }) }), SvmReasonCodes.MissingFeePayer);
        AssertInvalid(Verify(transaction, requirements with { Extra = JsonSerializer.SerializeToElement(new { feePayer = Stranger.Address.ToString() }) }), SvmReasonCodes.FeePayerNotManaged);
    }

    [Theory]
    [InlineData("not base64!")]
    [InlineData("")]
    [InlineData("AQ==")]
    public void Bytes_that_are_no_transaction_cannot_be_decoded(string transaction) =>
        AssertInvalid(Verify(transaction), SvmReasonCodes.TransactionCouldNotBeDecoded);

    [Fact]
    public void Trailing_bytes_after_the_message_are_refused()
    {
        var bytes = Convert.FromBase64String(Build(StandardInstructions()));
        AssertInvalid(Verify(Convert.ToBase64String([.. bytes, 0])), SvmReasonCodes.TransactionCouldNotBeDecoded);
    }

    [Fact]
    public void Another_fee_payer_in_the_first_slot_is_a_fee_payer_mismatch() =>
        AssertInvalid(Verify(Build(StandardInstructions(), feePayer: Stranger.Address)), SvmReasonCodes.FeePayerMismatch);

    [Fact]
    public void An_unsigned_payment_a_payment_signed_by_another_key_and_an_altered_message_have_no_valid_signature()
    {
        AssertInvalid(Verify(Build(StandardInstructions(), signers: [])), SvmReasonCodes.SignatureInvalid);

        var genuine = Convert.FromBase64String(Build(StandardInstructions()));
        var forged = Convert.FromBase64String(Build(StandardInstructions(), signers: [Stranger]));
        Assert.Equal(genuine.Length, forged.Length);
        AssertInvalid(Verify(Convert.ToBase64String(forged)), SvmReasonCodes.SignatureInvalid);

        var altered = genuine.ToArray();
        altered[^40] ^= 0x01; // inside the memo: any change of the signed message voids the payer's signature
        AssertInvalid(Verify(Convert.ToBase64String(altered)), SvmReasonCodes.SignatureInvalid);
    }

    [Fact]
    public void Address_lookup_tables_are_refused_because_this_facilitator_does_not_resolve_them()
    {
        var lookup = new AddressTableLookup(Stranger.Address, [0], []);
        AssertInvalid(Verify(Build(StandardInstructions(), lookups: [lookup])), SvmReasonCodes.AltResolutionUnavailable);
    }

    [Fact]
    public void The_spec_allows_three_to_six_instructions()
    {
        AssertInvalid(Verify(Build([ComputeLimit(20_000), ComputePrice(1)])), SvmReasonCodes.InstructionsLength);
        var seven = StandardInstructions();
        seven.AddRange([Memo("b"), Memo("c"), Memo("d")]);
        AssertInvalid(Verify(Build(seven)), SvmReasonCodes.InstructionsLength);
    }

    [Fact]
    public void Compute_budget_instructions_must_come_first_in_order_and_within_bounds()
    {
        AssertInvalid(Verify(Build([ComputePrice(1), ComputeLimit(20_000), TransferChecked(), Memo("m")])), SvmReasonCodes.ComputeLimitInstruction);
        AssertInvalid(Verify(Build([ComputeLimit(1_400_001), ComputePrice(1), TransferChecked(), Memo("m")])), SvmReasonCodes.ComputeLimitInstructionTooHigh);
        AssertInvalid(Verify(Build([ComputeLimit(20_000), Memo("m"), TransferChecked(), Memo("m")])), SvmReasonCodes.ComputePriceInstruction);
        AssertInvalid(Verify(Build([ComputeLimit(20_000), ComputePrice(5_000_001), TransferChecked(), Memo("m")])), SvmReasonCodes.ComputePriceInstructionTooHigh);
        Assert.True(Verify(Build([ComputeLimit(20_000), ComputePrice(5_000_000), TransferChecked(), Memo("m")])).IsValid);
    }

    [Fact]
    public void The_third_instruction_must_be_a_TransferChecked()
    {
        AssertInvalid(Verify(Build([ComputeLimit(20_000), ComputePrice(1), TransferChecked(discriminator: 3), Memo("m")])), SvmReasonCodes.NoTransferInstruction);
        AssertInvalid(Verify(Build([ComputeLimit(20_000), ComputePrice(1), Memo("m"), TransferChecked()])), SvmReasonCodes.NoTransferInstruction);
    }

    [Fact]
    public void The_fee_payer_may_be_neither_the_authority_nor_in_any_instruction()
    {
        AssertInvalid(Verify(Build([ComputeLimit(20_000), ComputePrice(1), TransferChecked(authority: FeePayer.Address), Memo("m")], signers: [FeePayer])),
            SvmReasonCodes.FeePayerTransferringFunds);
        AssertInvalid(Verify(Build([ComputeLimit(20_000), ComputePrice(1), TransferChecked(), Memo("m", new TestAccount(FeePayer.Address, false, true))])),
            SvmReasonCodes.FeePayerTransferringFunds);
    }

    [Fact]
    public void Mint_destination_and_amount_must_match_the_requirements()
    {
        var otherMint = Stranger.Address;
        AssertInvalid(Verify(Build([ComputeLimit(20_000), ComputePrice(1), TransferChecked(mint: otherMint), Memo("m")])), SvmReasonCodes.MintMismatch);
        var payersOwnAccount = SolanaAddress.AssociatedTokenAccount(Stranger.Address, UsdcDevnet, SolanaPrograms.Token);
        AssertInvalid(Verify(Build([ComputeLimit(20_000), ComputePrice(1), TransferChecked(destination: payersOwnAccount), Memo("m")])), SvmReasonCodes.RecipientMismatch);
        AssertInvalid(Verify(Build([ComputeLimit(20_000), ComputePrice(1), TransferChecked(destination: PayTo.Address), Memo("m")])), SvmReasonCodes.RecipientMismatch);
        AssertInvalid(Verify(Build([ComputeLimit(20_000), ComputePrice(1), TransferChecked(amount: 9_999), Memo("m")])), SvmReasonCodes.AmountMismatch);
        AssertInvalid(Verify(Build(StandardInstructions()), Requirements(amount: "10001")), SvmReasonCodes.AmountMismatch);
    }

    [Fact]
    public void An_extra_instruction_after_the_transfer_is_refused_by_its_position()
    {
        var systemTransfer = new TestInstruction(SolanaPrograms.System, [new(Payer.Address, true, true), new(Stranger.Address, false, true)], [2, 0, 0, 0, 64, 66, 15, 0, 0, 0, 0, 0]);
        AssertInvalid(Verify(Build([.. StandardInstructions(), systemTransfer])), SvmReasonCodes.UnknownFifthInstruction);
        AssertInvalid(Verify(Build([ComputeLimit(20_000), ComputePrice(1), TransferChecked(), systemTransfer])), SvmReasonCodes.UnknownFourthInstruction);
        AssertInvalid(Verify(Build([.. StandardInstructions(), Memo("x"), systemTransfer])), SvmReasonCodes.UnknownSixthInstruction);
    }

    [Fact]
    public void A_seller_memo_must_be_the_one_memo()
    {
        var requirements = Requirements(memo: "pi_123");
        Assert.True(Verify(Build(StandardInstructions("pi_123")), requirements).IsValid);
        AssertInvalid(Verify(Build(StandardInstructions("pi_124")), requirements), SvmReasonCodes.MemoMismatch);
        AssertInvalid(Verify(Build([.. StandardInstructions("pi_123"), Memo("pi_123")]), requirements), SvmReasonCodes.MemoCount);
        AssertInvalid(Verify(Build([ComputeLimit(20_000), ComputePrice(1), TransferChecked()]), requirements), SvmReasonCodes.MemoCount);
    }
}
