using System.Text;
using System.Text.Json;
using Sessions.Payments.Mpp;
using Sessions.Payments.Tests.X402;
using Sessions.Payments.X402;

namespace Sessions.Payments.Tests.Fuzz;

// Inputs the header fuzzers found (HeaderDecoderFuzzTests), kept as plain tests: each threw before its fix.
public sealed class FuzzRegressionTests
{
    // Seed 13003 case 73 / seed 13005 case 10: base64url text whose last character carries non-zero unused bits made
    // System.Buffers.Text.Base64Url.TryDecodeFromChars throw FormatException instead of answering false.
    [Theory]
    [InlineData("ab")]
    [InlineData("abd")]
    public void Base64url_with_non_canonical_trailing_bits_is_refused_not_thrown(string text)
    {
        Assert.False(Base64Url.TryDecode(text, out _));
        Assert.Equal(CredentialError.InvalidBase64Url, PaymentCredentials.Decode("Payment " + text).Error);
        Assert.False(ChallengeId.TryCanonicalRequest(text, out _));
        Assert.Null(PaymentReceipt.TryParseHeader(text));
    }

    // Seed 13001 case 110: "\ud800" (a lone surrogate escape) is well-formed JSON syntax but no string; the header decoded and
    // the first re-serialization (the gate's requirement matching) threw.
    [Fact]
    public void Payment_header_with_a_lone_surrogate_escape_is_invalid_json()
    {
        var json = JsonSerializer.Serialize(PaymentBuilder.PayloadV2(PaymentBuilder.Sign()), X402JsonContext.Strict.PaymentPayload)
            .Replace("\"extra\":{", "\"extra\":{\"EXTRA\":\"\\ud800\",");
        var decoded = X402HeaderCodec.DecodePaymentPayload(Convert.ToBase64String(Encoding.UTF8.GetBytes(json)));

        Assert.Equal(HeaderDecodeError.InvalidJson, decoded.Error);
        var v1 = JsonSerializer.Serialize(PaymentBuilder.PayloadV1(PaymentBuilder.Sign()), X402JsonContext.Strict.PaymentPayloadV1)
            .Replace("\"signature\":", "\"\\udfff\":1,\"signature\":");
        Assert.Equal(HeaderDecodeError.InvalidJson, X402HeaderCodec.DecodePaymentPayload(Convert.ToBase64String(Encoding.UTF8.GetBytes(v1))).Error);
    }

    [Fact]
    public void Mpp_credential_with_a_lone_surrogate_escape_is_invalid_json()
    {
        const string json = "{\"challenge\":{\"id\":\"a\",\"realm\":\"r\",\"method\":\"evm\",\"intent\":\"charge\",\"request\":\"e30\"},\"payload\":{\"type\":\"\\ud800\"}}";

        Assert.Equal(CredentialError.InvalidJson, PaymentCredentials.Decode("Payment " + Base64Url.Encode(Encoding.UTF8.GetBytes(json))).Error);
    }

    // Seed 13006 case 6: a .NET string with a lone surrogate made TryCanonicalize throw ArgumentException, not answer false.
    [Fact]
    public void Jcs_refuses_text_with_a_lone_surrogate()
    {
        Assert.False(Jcs.TryCanonicalize("\"\ud800\"", out _, out var error));
        Assert.NotNull(error);
    }

    // Seed 13001 case 1973 ("accepted":null), seed 13002 case 3808 ("authorization":null), seed 13003 case 672 ("id":null): a JSON
    // null in a member the type requires decoded, and the verifier or the challenge check threw NullReferenceException on it.
    [Fact]
    public void A_null_where_a_value_is_required_is_the_wrong_shape()
    {
        string V2(string replace, string with) => Convert.ToBase64String(Encoding.UTF8.GetBytes(
            JsonSerializer.Serialize(PaymentBuilder.PayloadV2(PaymentBuilder.Sign()), X402JsonContext.Strict.PaymentPayload).Replace(replace, with)));

        Assert.Equal(HeaderDecodeError.InvalidShape, X402HeaderCodec.DecodePaymentPayload(V2("\"scheme\":\"exact\"", "\"scheme\":null")).Error);
        // The payload stays raw JSON in the header's type: its reader refuses the null.
        Assert.False(ExactEvmPayload.TryRead(PaymentBuilder.Json("{\"signature\":\"0x\",\"authorization\":null}"), out _, out _));
        var accepted = Encoding.UTF8.GetBytes("{\"x402Version\":2,\"accepted\":null,\"payload\":{}}");
        Assert.Equal(HeaderDecodeError.InvalidShape, X402HeaderCodec.DecodePaymentPayload(Convert.ToBase64String(accepted)).Error);

        const string credential = "{\"challenge\":{\"id\":null,\"realm\":\"r\",\"method\":\"evm\",\"intent\":\"charge\",\"request\":\"e30\"},\"payload\":{}}";
        Assert.Equal(CredentialError.InvalidShape, PaymentCredentials.Decode("Payment " + Base64Url.Encode(Encoding.UTF8.GetBytes(credential))).Error);
    }
}
