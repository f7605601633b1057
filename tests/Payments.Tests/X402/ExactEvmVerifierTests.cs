using System.Numerics;
using System.Text.Json;
using Sessions.Payments.Crypto;
using Sessions.Payments.X402;
using static Sessions.Payments.Tests.X402.PaymentBuilder;

namespace Sessions.Payments.Tests.X402;

public sealed class ExactEvmVerifierTests
{
    private static readonly byte[] OtherKey = Keccak256.HashUtf8("someone else");
    private const string OtherAddress = "0x000000000000000000000000000000000000dEaD";

    private readonly ExactEvmVerifier _verifier = new(FixedClock.AtUnixSeconds(Now));

    private static void AssertInvalid(ExactEvmVerification result, string reason)
    {
        Assert.False(result.IsValid, "expected invalid");
        Assert.Equal(reason, result.InvalidReason);
        Assert.False(string.IsNullOrEmpty(result.InvalidMessage));
        Assert.Null(result.Authorization);
    }

    [Fact]
    public void A_correct_payment_is_valid_and_exposes_the_authorization()
    {
        var exact = Sign();
        var result = _verifier.Verify(PayloadV2(exact), Requirements());

        Assert.True(result.IsValid, result.InvalidMessage);
        Assert.Null(result.InvalidReason);
        Assert.Equal(Payer.ToString(), result.Payer);
        var authorization = Assert.IsType<VerifiedAuthorization>(result.Authorization);
        Assert.Equal(Payer, authorization.From);
        Assert.Equal(EvmAddress.Parse(PayTo), authorization.To);
        Assert.Equal(new BigInteger(10000), authorization.Value);
        Assert.Equal(Bytes32.Parse(exact.Authorization.Nonce), authorization.Nonce);
        Assert.Equal((84532L, Networks.BaseSepolia), (authorization.ChainId, authorization.Network));
        Assert.Equal(KnownAssets.UsdcBaseSepolia.Address, authorization.Asset);
        Assert.Equal(exact.Signature, authorization.Signature);
    }

    [Fact]
    public void A_payment_verified_again_to_settle_it_is_recovered_once_with_the_same_outcome()
    {
        var verifier = new ExactEvmVerifier(FixedClock.AtUnixSeconds(Now));
        var exact = Sign();
        var forged = new ExactEvmPayload { Signature = Sign(value: 20000).Signature, Authorization = exact.Authorization };

        var first = verifier.Verify(PayloadV2(exact), Requirements());
        var again = verifier.Verify(PayloadV2(exact), Requirements());
        AssertInvalid(verifier.Verify(PayloadV2(forged), Requirements()), ReasonCodes.InvalidSignature);
        AssertInvalid(verifier.Verify(PayloadV2(forged), Requirements()), ReasonCodes.InvalidSignature);

        Assert.True(first.IsValid && again.IsValid, again.InvalidMessage);
        Assert.Equal(first.Authorization, again.Authorization);
        Assert.Equal(2, verifier.RecoveriesComputed);   // one per distinct (digest, signature)
        // Another clock still decides the time window: only the recovery is remembered, never the verdict.
        Assert.False(new ExactEvmVerifier(FixedClock.AtUnixSeconds(Now + 1_000_000)).Verify(PayloadV2(exact), Requirements()).IsValid);
    }

    [Fact]
    public void Vector_A_is_valid_inside_its_window_for_v1_and_v2()
    {
        var exact = new ExactEvmPayload
        {
            Signature = TestVectors.SignatureA,
            Authorization = new ExactEvmAuthorization
            {
                From = TestVectors.FromA, To = TestVectors.To, Value = "10000",
                ValidAfter = TestVectors.ValidAfter.ToString(), ValidBefore = TestVectors.ValidBefore.ToString(), Nonce = TestVectors.Nonce,
            },
        };
        var verifier = new ExactEvmVerifier(FixedClock.AtUnixSeconds(TestVectors.ValidAfter + 10));

        var v2 = verifier.Verify(PayloadV2(exact), Requirements());
        Assert.True(v2.IsValid, v2.InvalidMessage);
        Assert.Equal(TestVectors.FromA, v2.Payer);
        Assert.Equal(TestVectors.DigestA, v2.Authorization!.Digest.ToString());
        Assert.True(verifier.Verify(PayloadV1(exact), RequirementsV1()).IsValid);

        // The same signature under Base mainnet's token name recovers someone else.
        AssertInvalid(verifier.Verify(PayloadV2(exact), Requirements(name: "USD Coin")), ReasonCodes.InvalidSignature);
    }

    [Fact]
    public void Scheme_must_be_exact_on_both_sides()
    {
        var exact = Sign();
        AssertInvalid(_verifier.Verify(PayloadV2(exact, Requirements() with { Scheme = "upto" }), Requirements()), ReasonCodes.InvalidScheme);
        AssertInvalid(_verifier.Verify(PayloadV2(exact), Requirements() with { Scheme = "upto" }), ReasonCodes.InvalidScheme);
        AssertInvalid(_verifier.Verify(PayloadV1(exact, scheme: "Exact"), RequirementsV1()), ReasonCodes.InvalidScheme);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("\"USDC\"")]
    [InlineData("{}")]
    [InlineData("{\"name\":\"USDC\"}")]
    [InlineData("{\"version\":\"2\"}")]
    [InlineData("{\"name\":\"\",\"version\":\"2\"}")]
    [InlineData("{\"name\":\"USDC\",\"version\":2}")]
    public void Extra_must_carry_the_eip712_name_and_version(string? extraJson)
    {
        var requirements = Requirements() with { Extra = extraJson is null ? null : Json(extraJson) };
        var result = _verifier.Verify(PayloadV2(Sign()), requirements);
        AssertInvalid(result, ReasonCodes.MissingEip712Domain);
        Assert.Equal(Payer.ToString(), result.Payer); // payer is reported whatever failed
    }

    [Fact]
    public void Network_must_match_and_be_known()
    {
        var exact = Sign();
        AssertInvalid(_verifier.Verify(PayloadV2(exact, Requirements() with { Network = Networks.Base }), Requirements()), ReasonCodes.NetworkMismatch);
        AssertInvalid(_verifier.Verify(PayloadV1(exact, network: "base"), RequirementsV1()), ReasonCodes.NetworkMismatch);
        var unknown = Requirements() with { Network = "eip155:abc" };
        AssertInvalid(_verifier.Verify(PayloadV2(exact, unknown), unknown), ReasonCodes.NetworkMismatch);
    }

    [Fact]
    public void Malformed_requirements_are_reported_as_such()
    {
        var badAsset = Requirements() with { Asset = "USDC" };
        AssertInvalid(_verifier.Verify(PayloadV2(Sign(), badAsset), badAsset), ReasonCodes.InvalidPaymentRequirements);
        AssertInvalid(_verifier.Verify(PayloadV2(Sign()), Requirements() with { PayTo = "0x123" }), ReasonCodes.InvalidPaymentRequirements);
        AssertInvalid(_verifier.Verify(PayloadV2(Sign()), Requirements(amount: "1e4")), ReasonCodes.InvalidRequiredAmount);
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("{}")]
    [InlineData("{\"signature\":\"0x00\"}")]
    [InlineData("{\"signature\":\"0x00\",\"authorization\":{\"from\":\"0x857b06519E91e3A54538791bDbb0E22373e36b66\"}}")]
    public void Payloads_of_the_wrong_shape_are_invalid_payloads(string payloadJson)
    {
        var payload = PayloadV2(Sign()) with { Payload = Json(payloadJson) };
        AssertInvalid(_verifier.Verify(payload, Requirements()), ReasonCodes.InvalidPayload);
    }

    [Theory]
    [InlineData("from", "0x857B06519E91e3A54538791bDbb0E22373e36b66")] // bad checksum
    [InlineData("to", "0xdead")]
    [InlineData("value", "10000.0")]
    [InlineData("value", "-10000")]
    [InlineData("validAfter", "")]
    [InlineData("validBefore", "0x10")]
    [InlineData("nonce", "0x1234")]
    public void Malformed_authorization_fields_are_invalid_payloads(string field, string value)
    {
        var exact = Sign();
        var a = exact.Authorization;
        var broken = exact with
        {
            Authorization = field switch
            {
                "from" => a with { From = value },
                "to" => a with { To = value },
                "value" => a with { Value = value },
                "validAfter" => a with { ValidAfter = value },
                "validBefore" => a with { ValidBefore = value },
                _ => a with { Nonce = value },
            },
        };
        var result = _verifier.Verify(PayloadV2(broken), Requirements());
        AssertInvalid(result, ReasonCodes.InvalidPayload);
        Assert.Contains(field, result.InvalidMessage);
    }

    [Fact]
    public void Numbers_sent_as_JSON_numbers_are_invalid_payloads()
    {
        var json = JsonSerializer.Serialize(Sign().ToJsonElement()).Replace("\"10000\"", "10000");
        AssertInvalid(_verifier.Verify(PayloadV2(Sign()) with { Payload = Json(json) }, Requirements()), ReasonCodes.InvalidPayload);
    }

    [Theory]
    [InlineData(null, "invalid_exact_evm_payload_missing_signature")]
    [InlineData("", "invalid_exact_evm_payload_missing_signature")]
    [InlineData("2d6a75", "invalid_exact_evm_signature_format")]
    [InlineData("0xzz", "invalid_exact_evm_signature_format")]
    [InlineData("0x1234", "invalid_exact_evm_signature_format")]
    public void Missing_or_malformed_signatures(string? signature, string reason) =>
        AssertInvalid(_verifier.Verify(PayloadV2(Sign() with { Signature = signature }), Requirements()), reason);

    [Fact]
    public void A_smart_wallet_length_signature_is_a_format_error()
    {
        var exact = Sign();
        AssertInvalid(_verifier.Verify(PayloadV2(exact with { Signature = exact.Signature + "00" }), Requirements()), ReasonCodes.InvalidSignatureFormat);
    }

    [Fact]
    public void Signatures_by_someone_else_or_over_another_domain_are_invalid()
    {
        var forged = Sign(key: OtherKey);
        forged = forged with { Authorization = forged.Authorization with { From = Payer.ToString() } };
        var result = _verifier.Verify(PayloadV2(forged), Requirements());
        AssertInvalid(result, ReasonCodes.InvalidSignature);
        Assert.Contains("recovers", result.InvalidMessage);

        AssertInvalid(_verifier.Verify(PayloadV2(Sign(chainId: 8453)), Requirements()), ReasonCodes.InvalidSignature);
        AssertInvalid(_verifier.Verify(PayloadV2(Sign(domainName: "USD Coin")), Requirements()), ReasonCodes.InvalidSignature);

        var tampered = Sign();
        tampered = tampered with { Authorization = tampered.Authorization with { ValidBefore = (Now + 999).ToString() } };
        AssertInvalid(_verifier.Verify(PayloadV2(tampered), Requirements()), ReasonCodes.InvalidSignature);
    }

    [Fact]
    public void High_s_signatures_are_invalid_with_a_distinct_message()
    {
        var exact = Sign();
        Hex.TryDecode(exact.Signature, out var signature);
        var n = BigInteger.Parse("0FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141", System.Globalization.NumberStyles.HexNumber);
        var highS = n - new BigInteger(signature.AsSpan(32, 32), isUnsigned: true, isBigEndian: true);
        highS.TryWriteBytes(signature.AsSpan(32, 32), out _, isUnsigned: true, isBigEndian: true);
        signature[64] = (byte)(signature[64] == 27 ? 28 : 27);

        var result = _verifier.Verify(PayloadV2(exact with { Signature = Hex.Encode(signature) }), Requirements());
        AssertInvalid(result, ReasonCodes.InvalidSignature);
        Assert.Contains("high-s", result.InvalidMessage);
    }

    [Fact]
    public void Recovery_ids_0_and_1_are_accepted()
    {
        var exact = Sign();
        Hex.TryDecode(exact.Signature, out var signature);
        signature[64] -= 27;
        Assert.True(_verifier.Verify(PayloadV2(exact with { Signature = Hex.Encode(signature) }), Requirements()).IsValid);
    }

    [Fact]
    public void Recipient_must_be_payTo_in_any_casing()
    {
        AssertInvalid(_verifier.Verify(PayloadV2(Sign(to: OtherAddress)), Requirements()), ReasonCodes.RecipientMismatch);
        Assert.True(_verifier.Verify(PayloadV2(Sign()), Requirements() with { PayTo = PayTo.ToLowerInvariant() }).IsValid);
    }

    [Fact]
    public void ValidBefore_needs_six_seconds_of_margin()
    {
        Assert.True(_verifier.Verify(PayloadV2(Sign(validBefore: Now + 6)), Requirements()).IsValid);
        AssertInvalid(_verifier.Verify(PayloadV2(Sign(validBefore: Now + 5)), Requirements()), ReasonCodes.ValidBeforeExpired);
        AssertInvalid(_verifier.Verify(PayloadV2(Sign(validBefore: Now - 100)), Requirements()), ReasonCodes.ValidBeforeExpired);
    }

    [Fact]
    public void ValidAfter_may_not_be_in_the_future()
    {
        Assert.True(_verifier.Verify(PayloadV2(Sign(validAfter: Now)), Requirements()).IsValid);
        AssertInvalid(_verifier.Verify(PayloadV2(Sign(validAfter: Now + 1)), Requirements()), ReasonCodes.ValidAfterInFuture);
    }

    [Fact]
    public void The_clock_comes_from_the_time_provider()
    {
        var clock = FixedClock.AtUnixSeconds(Now);
        var verifier = new ExactEvmVerifier(clock);
        var payload = PayloadV2(Sign(validBefore: Now + 60));
        Assert.True(verifier.Verify(payload, Requirements()).IsValid);
        clock.Advance(TimeSpan.FromSeconds(55));
        AssertInvalid(verifier.Verify(payload, Requirements()), ReasonCodes.ValidBeforeExpired);
    }

    [Theory]
    [InlineData(9999)]
    [InlineData(10001)]
    [InlineData(0)]
    public void Value_must_equal_the_amount_exactly(long value)
    {
        AssertInvalid(_verifier.Verify(PayloadV2(Sign(value: value)), Requirements()), ReasonCodes.AuthorizationValueMismatch);
        AssertInvalid(_verifier.Verify(PayloadV1(Sign(value: value)), RequirementsV1()), ReasonCodes.AuthorizationValueMismatch);
    }

    // The signature covers the number, but the wire form is one spelling: "010000" is not the amount "10000".
    [Theory]
    [InlineData("010000")]
    [InlineData("+10000")]
    [InlineData(" 10000")]
    public void Authorization_value_must_be_the_plain_decimal_form(string value)
    {
        var exact = Sign();
        exact = exact with { Authorization = exact.Authorization with { Value = value } };
        AssertInvalid(_verifier.Verify(PayloadV2(exact), Requirements()), ReasonCodes.InvalidPayload);
    }

    [Fact]
    public void Huge_values_compare_without_overflow()
    {
        var max = AtomicAmount.MaxUInt256;
        Assert.True(_verifier.Verify(PayloadV2(Sign(value: max)), Requirements(amount: max.ToString())).IsValid);
    }

    public enum Fault { Scheme, Domain, Network, Signature, Recipient, ValidBefore, ValidAfter, Value }

    private static readonly Dictionary<Fault, string> ReasonOf = new()
    {
        [Fault.Scheme] = ReasonCodes.InvalidScheme,
        [Fault.Domain] = ReasonCodes.MissingEip712Domain,
        [Fault.Network] = ReasonCodes.NetworkMismatch,
        [Fault.Signature] = ReasonCodes.InvalidSignature,
        [Fault.Recipient] = ReasonCodes.RecipientMismatch,
        [Fault.ValidBefore] = ReasonCodes.ValidBeforeExpired,
        [Fault.ValidAfter] = ReasonCodes.ValidAfterInFuture,
        [Fault.Value] = ReasonCodes.AuthorizationValueMismatch,
    };

    public static TheoryData<Fault, Fault> FaultPairs()
    {
        var data = new TheoryData<Fault, Fault>();
        foreach (var first in Enum.GetValues<Fault>())
            foreach (var second in Enum.GetValues<Fault>().Where(f => f > first))
                data.Add(first, second);
        return data;
    }

    [Theory]
    [MemberData(nameof(FaultPairs))]
    public void A_payment_wrong_in_two_ways_reports_the_earlier_check(Fault first, Fault second)
    {
        var faults = new HashSet<Fault> { first, second };
        var exact = Sign(
            value: faults.Contains(Fault.Value) ? 9999 : 10000,
            validAfter: faults.Contains(Fault.ValidAfter) ? Now + 10 : Now - 60,
            validBefore: faults.Contains(Fault.ValidBefore) ? Now + 3 : Now + 240,
            to: faults.Contains(Fault.Recipient) ? OtherAddress : PayTo,
            key: faults.Contains(Fault.Signature) ? OtherKey : null);
        if (faults.Contains(Fault.Signature))
            exact = exact with { Authorization = exact.Authorization with { From = Payer.ToString() } };

        var requirements = Requirements() with { Extra = faults.Contains(Fault.Domain) ? null : Requirements().Extra };
        var accepted = requirements with
        {
            Scheme = faults.Contains(Fault.Scheme) ? "upto" : "exact",
            Network = faults.Contains(Fault.Network) ? Networks.Base : Networks.BaseSepolia,
        };

        AssertInvalid(_verifier.Verify(PayloadV2(exact, accepted), requirements), ReasonOf[first]);
    }

    [Fact]
    public void Facilitator_requests_of_either_version_are_verified()
    {
        var exact = Sign();
        Assert.True(_verifier.Verify(X402Json.VerifyRequestFor(PayloadV2(exact), Requirements())).IsValid);
        Assert.True(_verifier.Verify(X402Json.VerifyRequestFor(PayloadV1(exact), RequirementsV1())).IsValid);

        var v3 = X402Json.VerifyRequestFor(PayloadV2(exact), Requirements()) with { X402Version = 3 };
        AssertInvalid(_verifier.Verify(v3), ReasonCodes.InvalidX402Version);

        var broken = X402Json.VerifyRequestFor(PayloadV2(exact), Requirements()) with { PaymentRequirements = Json("{\"scheme\":\"exact\"}") };
        AssertInvalid(_verifier.Verify(broken), ReasonCodes.InvalidPaymentRequirements);
    }

    [Fact]
    public void Verify_responses_serialize_as_the_facilitator_api_does()
    {
        var valid = _verifier.Verify(PayloadV2(Sign()), Requirements()).ToVerifyResponse();
        Assert.Equal($"{{\"isValid\":true,\"payer\":\"{Payer}\"}}", X402Json.Serialize(valid, X402JsonContext.Strict.VerifyResponse));

        var invalid = _verifier.Verify(PayloadV2(Sign(value: 1)), Requirements()).ToVerifyResponse();
        var json = X402Json.Serialize(invalid, X402JsonContext.Strict.VerifyResponse);
        Assert.StartsWith("{\"isValid\":false,\"invalidReason\":\"invalid_exact_evm_authorization_value\",\"invalidMessage\":\"", json);
        Assert.EndsWith($"\"payer\":\"{Payer}\"}}", json);
    }
}
