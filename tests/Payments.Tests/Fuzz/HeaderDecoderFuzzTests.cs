using System.Text;
using System.Text.Json;
using Sessions.Payments.Crypto;
using Sessions.Payments.Mpp;
using Sessions.Payments.Tests.X402;
using Sessions.Payments.X402;
using Sessions.Testing.Fuzz;

namespace Sessions.Payments.Tests.Fuzz;

// Seeded fuzzing of every decoder of the payment headers a client sends (Sessions.Testing/Fuzz): 10,000 random and mutated-valid
// cases each. Oracle: nothing throws but the documented refusal values, and what decodes can be read on by the code that uses it
// (the gate's matching, the facilitator's verification, the challenge binding) without throwing either.
public sealed class HeaderDecoderFuzzTests
{
    const int Cases = 10_000;
    static readonly TimeProvider Clock = FixedClock.AtUnixSeconds(PaymentBuilder.Now);
    static readonly ExactEvmVerifier Verifier = new(Clock);
    static readonly JsonElement MppFixtures = Fixtures.Load("mppx-challenges.json");

    static string Json<T>(T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> typeInfo) => JsonSerializer.Serialize(value, typeInfo);

    static readonly string[] V2Payloads =
    [
        Json(PaymentBuilder.PayloadV2(PaymentBuilder.Sign()), X402JsonContext.Strict.PaymentPayload),
        Json(PaymentBuilder.PayloadV2(PaymentBuilder.Sign(value: 1, validBefore: PaymentBuilder.Now + 10)), X402JsonContext.Strict.PaymentPayload),
    ];

    static readonly string[] V1Payloads =
    [
        Json(PaymentBuilder.PayloadV1(PaymentBuilder.Sign()), X402JsonContext.Strict.PaymentPayloadV1),
        Json(PaymentBuilder.PayloadV1(PaymentBuilder.Sign(value: 5)), X402JsonContext.Strict.PaymentPayloadV1),
    ];

    [Theory]
    [InlineData(13001, "v2")]
    [InlineData(13002, "v1")]
    public void Payment_headers_decode_or_refuse_and_never_throw(int seed, string version) =>
        HeaderFuzz.Run(seed, Cases, version == "v2" ? V2Payloads : V1Payloads, HeaderFuzz.Base64, header =>
        {
            var decoded = X402HeaderCodec.DecodePaymentPayload(header);
            Assert.Equal(decoded.Succeeded, decoded.Error is null);
            if (!decoded.Succeeded)
            {
                Assert.NotNull(decoded.Message);
                return;
            }
            // What the gate and the facilitator do next with a decoded header.
            var value = decoded.Value!;
            if (value.V2 is { } v2)
            {
                RequirementsMatcher.FindAccepted(v2, [PaymentBuilder.Requirements()]);
                Verifier.Verify(v2, PaymentBuilder.Requirements());
                ReadAuthorization(v2.Payload);
            }
            else
            {
                RequirementsMatcher.FindV1(value.V1!, [PaymentBuilder.RequirementsV1()]);
                Verifier.Verify(value.V1!, PaymentBuilder.RequirementsV1());
                ReadAuthorization(value.V1!.Payload);
            }
        });

    static void ReadAuthorization(JsonElement payload)
    {
        if (!ExactEvmPayload.TryRead(payload, out var exact, out _))
            return;
        EvmAddress.TryParse(exact!.Authorization.From, out _, out _);
        Bytes32.TryParse(exact.Authorization.Nonce, out _);
        AtomicAmount.TryParseUInt256(exact.Authorization.ValidBefore, out _);
        AtomicAmount.TryParseUInt256(exact.Authorization.Value, out _);
    }

    static IEnumerable<JsonElement> MppVariants => MppFixtures.EnumerateArray();

    static readonly string[] CredentialJson = MppVariants
        .Select(f => Base64Url.TryDecode(f.GetProperty("credential").GetString()!["Payment ".Length..], out var bytes) ? Encoding.UTF8.GetString(bytes) : throw new InvalidOperationException())
        .ToArray();

    [Fact]
    public void Mpp_credentials_decode_or_refuse_and_never_throw()
    {
        var secret = Encoding.UTF8.GetBytes(MppVariants.First().GetProperty("secret").GetString()!);
        var valid = MppVariants.First().GetProperty("credential").GetString()!;
        var random = new Random(13003);
        HeaderFuzz.Run(13003, Cases, CredentialJson, HeaderFuzz.Base64Url, token =>
        {
            // One Authorization value, or several (another scheme, a second credential) as a client may send them.
            IEnumerable<string?> values = random.Next(4) switch
            {
                0 => ["Payment " + token],
                1 => ["Bearer vat_x, Payment " + token],
                2 => ["Payment " + token, random.Next(2) == 0 ? valid : "Payment , Basic x"],
                _ => ["Payment  " + token + " ", null, ""],
            };
            var decoded = PaymentCredentials.Decode(values);
            Assert.Equal(decoded.Succeeded, decoded.Error is null);
            if (!decoded.Succeeded)
                return;
            // What the gate does next with a decoded credential: the challenge binding, the request, the nonce and the source.
            var challenge = decoded.Credential!.Challenge;
            if (ChallengeId.Verify(secret, challenge))
                MppEvm.AuthorizationNonce(challenge.Id, challenge.Realm);
            ChallengeId.TryCanonicalRequest(challenge.Request, out _);
            MppEvm.TryParseSourceDid(decoded.Credential.Source, out _, out _);
        });
    }

    [Fact]
    public void Payment_challenges_and_auth_params_parse_or_refuse_and_never_throw()
    {
        string[] headers = [.. MppVariants.Select(f => f.GetProperty("header").GetString()!), .. MppVariants.Select(f => f.GetProperty("credential").GetString()!),
            "Bearer abc, Payment id=\"a\\\"b\", realm=x, method=evm, intent=charge, request=e30", "Basic dXNlcjpwYXNz"];
        HeaderFuzz.RunText(13004, Cases, headers, header =>
        {
            if (AuthParams.TryParse(header, out var parsed, out var error))
                Assert.All(parsed, challenge => PaymentChallenge.TryFrom(challenge, out _, out _));
            else
                Assert.NotNull(error);
            PaymentChallenge.TryParseHeader(header, out _, out _);
        });
    }

    [Fact]
    public void Base64_decoders_accept_only_canonical_text_and_never_throw()
    {
        string[] texts = [.. CredentialJson.Select(j => HeaderFuzz.Base64Url(Encoding.UTF8.GetBytes(j))), .. V2Payloads.Select(j => HeaderFuzz.Base64(Encoding.UTF8.GetBytes(j)))];
        HeaderFuzz.RunText(13005, Cases, texts, text =>
        {
            if (Base64Url.TryDecode(text, out var bytes))
                Assert.Equal(text.TrimEnd('='), Base64Url.Encode(bytes));
            if (X402HeaderCodec.TryDecodeStrictBase64(text, out var strict))
                Assert.Equal(text, Convert.ToBase64String(strict));
            PaymentReceipt.TryParseHeader(text);
        });
    }

    [Fact]
    public void Jcs_canonicalizes_or_refuses_and_is_idempotent()
    {
        string[] documents = [.. CredentialJson, .. MppVariants.Select(f => f.GetProperty("challenge").GetProperty("request").GetRawText()),
            "{\"b\":1e21,\"a\":[1.5,-0,\"\\u00e9\"]}"];
        HeaderFuzz.Run(13006, Cases, documents, bytes => Encoding.UTF8.GetString(bytes), json =>
        {
            if (!Jcs.TryCanonicalize(json, out var canonical, out var error))
            {
                Assert.NotNull(error);
                return;
            }
            Assert.True(Jcs.TryCanonicalize(canonical, out var again, out error), error);
            Assert.Equal(canonical, again);
        });
    }
}
