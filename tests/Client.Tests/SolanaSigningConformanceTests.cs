using System.Text;
using System.Text.Json;
using Sessions.Client;
using Sessions.Payments.Svm;
using Sessions.Payments.X402;

namespace Client.Tests;

// The transaction the client signs is the official @x402/svm 2.27.0 client's, byte for byte (its fixture, made by
// tests/Payments.Tests/Svm/generate-official-fixture.mjs from the same seeds): only the memo is random there, so it is
// handed over in extra.memo.
public sealed class SolanaSigningConformanceTests
{
    [Fact]
    public async Task The_signed_transaction_is_the_official_clients_byte_for_byte()
    {
        using var fixture = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "Svm", "official-client-payment.json"),
            TestContext.Current.CancellationToken));
        var official = fixture.RootElement.GetProperty("payload").GetProperty("transaction").GetString()!;
        Assert.True(SolanaTransaction.TryDecodeBase64(official, out var officialTransaction, out _));
        var memo = Encoding.UTF8.GetString(officialTransaction!.Message.Instructions[^1].Data);
        var requirements = fixture.RootElement.GetProperty("requirements").Deserialize(X402JsonContext.Default.PaymentRequirements)! with
        {
            Extra = JsonSerializer.SerializeToElement(new Dictionary<string, string>
            {
                ["feePayer"] = fixture.RootElement.GetProperty("requirements").GetProperty("extra").GetProperty("feePayer").GetString()!, ["memo"] = memo,
            }),
        };
        var offer = SvmOffer.From(requirements, new ResourceInfo { Url = "http://localhost/" })!;
        var payer = new LocalSolanaKeySigner(Enumerable.Repeat((byte)1, 32).ToArray());
        var blockhash = SimpleBase.Base58.Bitcoin.Decode(fixture.RootElement.GetProperty("blockhash").GetString());

        var (name, value) = await SolanaPaymentSigning.SignAsync(offer, payer, blockhash, TestContext.Current.CancellationToken);

        Assert.Equal(X402HeaderCodec.PaymentSignatureHeader, name);
        var payload = X402HeaderCodec.Decode(value, X402JsonContext.Strict.PaymentPayload).Value!;
        Assert.Equal(official, payload.Payload.GetProperty("transaction").GetString());
    }
}
