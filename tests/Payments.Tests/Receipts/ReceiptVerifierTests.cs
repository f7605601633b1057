using System.Text;
using Sessions.Payments.Mpp;
using Sessions.Payments.Receipts;

namespace Sessions.Payments.Tests.Receipts;

public sealed class ReceiptVerifierTests
{
    // RFC 8037 appendix A.1–A.5: the Ed25519 key, its thumbprint and the signature of "Example of Ed25519 signing".
    const string RfcSeed = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";

    static Ed25519Key RfcKey()
    {
        Assert.True(Base64Url.TryDecode(RfcSeed, out var seed));
        return new Ed25519Key(seed);
    }

    static readonly Ed25519Key Key = Ed25519Key.FromSecret("receipt-test-secret");
    static readonly byte[] Body = Encoding.UTF8.GetBytes("{\"value\":\"buy milk\"}");

    static Receipt Sample() => new()
    {
        Id = "rcpt_01",
        Method = "x402-v2",
        Timestamp = "2026-12-06T12:00:00Z",
        Reference = "0xabc",
        Payer = "0xf39fd6e51aad88f6f4ce6ab8827279cffb92266",
        Organization = "demo",
        Route = "GET /api/content/{**key}",
        Amount = "1000",
        Asset = "0x036CbD53842c5426634e7929541eC2318f3dCF7e",
        Network = "eip155:84532",
        PaymentId = "pay_1",
        RequestSha256 = ReceiptHashes.Request("GET", "/api/content/notes/a", []),
        ResponseSha256 = ReceiptHashes.Body(Body),
        LatencyMs = 12,
    };

    static string Signed() => Jws.Sign(Key, Receipt.JwsType, Sample().ToJsonBytes());

    static ReceiptVerifier Verifier(params Ed25519Key[] keys) => new(new JwkSet { Keys = keys.Select(k => k.Jwk).ToList() });

    [Fact]
    public void Rfc8037_key_has_the_rfc_thumbprint_and_signature()
    {
        var key = RfcKey();
        Assert.Equal("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", key.Jwk.X);
        Assert.Equal("kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k", key.Kid);
        var signature = key.Sign(Encoding.ASCII.GetBytes("eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc"));
        Assert.Equal("hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg", Base64Url.Encode(signature));
    }

    [Fact]
    public void A_receipt_verifies_with_the_published_key_and_its_response_body()
    {
        var check = Verifier(Ed25519Key.Generate(), Key).Verify(Signed(), Body, checkResponseBody: true);
        Assert.True(check.IsValid, check.Error);
        Assert.Equal(Sample(), check.Receipt);
    }

    [Fact]
    public void Changing_any_byte_of_the_jws_fails()
    {
        var jws = Signed();
        var verifier = Verifier(Key);
        for (var i = 0; i < jws.Length; i++)
        {
            var changed = jws[..i] + (jws[i] == 'A' ? 'B' : 'A') + jws[(i + 1)..];
            var check = verifier.Verify(changed);
            Assert.False(check.IsValid, $"byte {i} changed, still valid");
        }
    }

    [Fact]
    public void A_changed_response_body_fails_with_a_hash_mismatch()
    {
        var changed = Body.ToArray();
        changed[3] ^= 1;
        var check = Verifier(Key).Verify(Signed(), changed, checkResponseBody: true);
        Assert.Equal("ResponseHashMismatch", check.Error);
    }

    [Fact]
    public void Another_key_fails_even_under_the_same_kid()
    {
        Assert.Equal("UnknownKey", Verifier(Ed25519Key.Generate()).Verify(Signed()).Error);
        var impostor = Ed25519Key.Generate().Jwk with { Kid = Key.Kid };
        Assert.Equal("BadSignature", new ReceiptVerifier(new JwkSet { Keys = [impostor] }).Verify(Signed()).Error);
    }

    [Fact]
    public void Another_jws_type_or_algorithm_is_not_a_receipt()
    {
        Assert.Equal("NotAReceipt", Verifier(Key).Verify(Jws.Sign(Key, "checkpoint+jws", Sample().ToJsonBytes())).Error);
        var none = Base64Url.Encode("{\"alg\":\"none\"}"u8) + "." + Base64Url.Encode(Sample().ToJsonBytes()) + ".";
        Assert.False(Verifier(Key).Verify(none).IsValid);
    }

    [Fact]
    public void The_jwk_set_round_trips_as_json()
    {
        var set = new JwkSet { Keys = [Key.Jwk] };
        var parsed = JwkSet.TryParse(set.ToJson());
        Assert.NotNull(parsed);
        Assert.Equal(Key.Jwk, parsed.Keys.Single());
        Assert.Contains("\"kty\":\"OKP\"", set.ToJson());
    }
}
