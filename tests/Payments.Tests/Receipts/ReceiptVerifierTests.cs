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
    public void Rfc8032_test_2_signs_and_verifies_byte_for_byte()
    {
        // RFC 8032 §7.1 TEST 2: a one-byte message (0x72).
        var key = new Ed25519Key(Convert.FromHexString("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb"));
        Assert.Equal("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", Convert.ToHexStringLower(key.PublicKey));
        var signature = key.Sign([0x72]);
        Assert.Equal("92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
            Convert.ToHexStringLower(signature));
        Assert.True(Ed25519Key.Verify(key.PublicKey, [0x72], signature));
        Assert.False(Ed25519Key.Verify(key.PublicKey, [0x73], signature));
    }

    [Fact]
    public void A_receipt_signed_with_a_fixed_key_is_byte_identical_to_the_bouncycastle_signature()
    {
        // Signed by the BouncyCastle implementation before the move to libsodium (NSec): Ed25519 is deterministic, so a change of
        // implementation, header or receipt serialisation that alters a single byte fails here.
        const string pinned =
            "eyJhbGciOiJFZERTQSIsImtpZCI6ImZxMC15ZEgteS1JR1A1VHc1b3gwdkQ1TFhGX2JpUUMtQ0N1WTRaLTNMSjAiLCJ0eXAiOiJzZXNzaW9ucy1yZWNlaXB0XHUwMDJCandzIn0." +
            "eyJpZCI6InJjcHRfMDEiLCJzdGF0dXMiOiJzdWNjZXNzIiwibWV0aG9kIjoieDQwMi12MiIsInRpbWVzdGFtcCI6IjIwMjYtMTItMDZUMTI6MDA6MDBaIiwicmVmZXJlbmNlIjoiMHhhYmMiLCJwYXllciI6IjB4ZjM5ZmQ2ZTUxYWFkODhmNmY0Y2U2YWI4ODI3Mjc5Y2ZmYjkyMjY2Iiwib3JnYW5pemF0aW9uIjoiZGVtbyIsInJvdXRlIjoiR0VUIC9hcGkvY29udGVudC97KiprZXl9IiwiYW1vdW50IjoiMTAwMCIsImFzc2V0IjoiMHgwMzZDYkQ1Mzg0MmM1NDI2NjM0ZTc5Mjk1NDFlQzIzMThmM2RDRjdlIiwibmV0d29yayI6ImVpcDE1NTo4NDUzMiIsInBheW1lbnRJZCI6InBheV8xIiwicmVxdWVzdFNoYTI1NiI6IjIwODdmMDhhNGIxOWNhZjcxMDJiMzIzM2Y1MTU3ZTFlMmYzNWE3MTc4MGM2Yzk3MzkyODJkN2VkNDcyNTlhNzYiLCJyZXNwb25zZVNoYTI1NiI6IjdmMTVjYmFjODBhNGVkMjA1ZGU1M2FjOGY5YmQ4NDI4ODdjZDM2ZTQ5MzA1MTNkNzNmYzZkZjY1YWZhY2ExNjgiLCJsYXRlbmN5TXMiOjEyfQ." +
            "XxQqhyfILRpXf2Y2CKdIj53yNsdsg_Yfj-QK5gOkPLlW6xLk5LRwQ360GBfmrpnZ-evVjzFkQZG7Kp9g7ipODA";
        Assert.Equal(pinned, Signed());
        Assert.True(Verifier(Key).Verify(pinned, Body, checkResponseBody: true).IsValid);
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
