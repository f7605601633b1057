using System.Text.Json;
using Sessions.Payments.Svm;
using Sessions.Payments.X402;

namespace Sessions.Payments.Tests.Svm;

/// <summary>A payment produced by the official @x402/svm 2.27.0 client (see generate-official-fixture.mjs).</summary>
public sealed class OfficialClientFixtureTests
{
    private static readonly JsonElement Fixture = LoadFixture();

    private static JsonElement LoadFixture()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Svm", "official-client-payment.json")));
        return document.RootElement.Clone();
    }

    private static PaymentRequirements Requirements => Fixture.GetProperty("requirements").Deserialize(X402JsonContext.Default.PaymentRequirements)!;

    private static string Transaction => Fixture.GetProperty("payload").GetProperty("transaction").GetString()!;

    private static ExactSvmVerifier Verifier => new([SvmTestTransactions.FeePayer.Address]);

    private static PaymentPayload Payload(string transaction) => SvmTestTransactions.Payload(transaction, Requirements);

    [Fact]
    public void The_official_client_builds_what_the_verifier_accepts()
    {
        var result = Verifier.Verify(Payload(Transaction), Requirements);

        Assert.True(result.IsValid, result.InvalidMessage);
        Assert.Equal(Fixture.GetProperty("payer").GetString(), result.Payer);
        Assert.Equal(SvmTestTransactions.Payer.Address.ToString(), result.Payer); // same seed-derived keys as the C# builder
        Assert.Equal(10_000UL, result.Transfer!.Amount);
        Assert.Equal(6, result.Transfer.Decimals);
        Assert.Equal(Fixture.GetProperty("blockhash").GetString(), result.Transfer.Transaction.Message.RecentBlockhashBase58);
    }

    [Fact]
    public void The_official_client_sends_a_v0_message_in_the_spec_order_and_asks_only_for_the_mint_and_a_blockhash()
    {
        Assert.True(SolanaTransaction.TryDecodeBase64(Transaction, out var transaction, out _));
        var message = transaction!.Message;
        Assert.Equal(0, message.Version);
        Assert.Empty(message.AddressTableLookups);
        Assert.Equal(2, message.RequiredSignatures);
        var programs = message.Instructions.Select(i => message.StaticAccounts[i.ProgramIndex]).ToArray();
        Assert.Equal([SolanaPrograms.ComputeBudget, SolanaPrograms.ComputeBudget, SolanaPrograms.Token, SolanaPrograms.Memo], programs);
        Assert.Equal(32, message.Instructions[3].Data.Length); // 16 random bytes, hex
        Assert.Equal(["getAccountInfo", "getLatestBlockhash"], Fixture.GetProperty("rpcCalls").EnumerateArray().Select(c => c.GetString()));
    }

    [Fact]
    public void A_re_encoded_copy_is_byte_identical_and_a_co_signature_lands_in_the_fee_payer_slot()
    {
        Assert.True(SolanaTransaction.TryDecodeBase64(Transaction, out var transaction, out _));
        Assert.Equal(Transaction, Convert.ToBase64String(SolanaTransaction.Serialize(transaction!.Signatures, transaction.Message.Serialize())));

        var coSigned = transaction.WithSignature(SvmTestTransactions.FeePayer.Address, SvmTestTransactions.FeePayer.Sign(transaction.MessageBytes));
        Assert.True(SolanaTransaction.TryDecode(coSigned, out var settled, out _));
        Assert.False(SolanaTransaction.IsUnsigned(settled!.Signatures[0]));
        Assert.Equal(transaction.Signatures[1], settled.Signatures[1]);
    }

    [Fact]
    public void Each_byte_of_the_official_message_is_covered_by_the_payer_signature()
    {
        var bytes = Convert.FromBase64String(Transaction);
        var messageStart = 1 + 2 * 64;
        for (var i = messageStart; i < bytes.Length; i += 7)
        {
            var altered = bytes.ToArray();
            altered[i] ^= 0x40;
            var result = Verifier.Verify(Payload(Convert.ToBase64String(altered)), Requirements);
            Assert.False(result.IsValid, $"byte {i} altered and still valid");
        }
    }
}
