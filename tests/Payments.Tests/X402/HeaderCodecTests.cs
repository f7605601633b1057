using System.Text;
using Sessions.Payments.X402;
using static Sessions.Payments.Tests.X402.PaymentBuilder;

namespace Sessions.Payments.Tests.X402;

public sealed class HeaderCodecTests
{
    private static string B64(string json) => Convert.ToBase64String(Encoding.UTF8.GetBytes(json));

    private static PaymentRequired Required() => new()
    {
        Error = "payment required",
        Resource = new ResourceInfo { Url = "https://api.example.com/weather", Description = "Weather", MimeType = "application/json" },
        Accepts = [Requirements()],
    };

    [Fact]
    public void PaymentRequired_round_trips_as_padded_standard_base64_of_compact_json()
    {
        var header = X402HeaderCodec.Encode(Required());
        var json = Encoding.UTF8.GetString(Convert.FromBase64String(header));
        Assert.Equal(
            "{\"x402Version\":2,\"error\":\"payment required\",\"resource\":{\"url\":\"https://api.example.com/weather\",\"description\":\"Weather\",\"mimeType\":\"application/json\"}," +
            "\"accepts\":[{\"scheme\":\"exact\",\"network\":\"eip155:84532\",\"amount\":\"10000\",\"asset\":\"0x036CbD53842c5426634e7929541eC2318f3dCF7e\"," +
            "\"payTo\":\"0x209693Bc6afc0C5328bA36FaF03C514EF312287C\",\"maxTimeoutSeconds\":300,\"extra\":{\"name\":\"USDC\",\"version\":\"2\"}}]}",
            json);

        var decoded = X402HeaderCodec.Decode(header, X402JsonContext.Strict.PaymentRequired);
        Assert.True(decoded.Succeeded, decoded.Message);
        Assert.Equal("https://api.example.com/weather", decoded.Value!.Resource.Url);
        Assert.True(RequirementsMatcher.JsonEquals(Requirements(), decoded.Value.Accepts[0]));
    }

    [Fact]
    public void Payment_headers_decode_to_the_version_they_declare()
    {
        var v2 = X402HeaderCodec.DecodePaymentPayload(X402HeaderCodec.Encode(PayloadV2(Sign())));
        Assert.True(v2.Succeeded, v2.Message);
        Assert.Equal(2, v2.Value!.X402Version);
        Assert.NotNull(v2.Value.V2);
        Assert.Null(v2.Value.V1);

        var v1 = X402HeaderCodec.DecodePaymentPayload(X402HeaderCodec.Encode(PayloadV1(Sign())));
        Assert.True(v1.Succeeded, v1.Message);
        Assert.Equal("base-sepolia", v1.Value!.V1!.Network);
        Assert.Null(v1.Value.V2);
        Assert.True(ExactEvmPayload.TryRead(v1.Value.V1.Payload, out var exact, out _));
        Assert.Equal(Payer.ToString(), exact!.Authorization.From);
    }

    [Fact]
    public void A_payload_decoded_from_a_header_still_verifies()
    {
        var header = X402HeaderCodec.Encode(PayloadV2(Sign()));
        var payload = X402HeaderCodec.DecodePaymentPayload(header).Value!.V2!;
        Assert.True(new ExactEvmVerifier(FixedClock.AtUnixSeconds(Now)).Verify(payload, Requirements()).IsValid);
    }

    /// <summary>A valid header whose base64 ends in padding and uses '+' and '/' (so the mutations below bite).</summary>
    private static string PaddedValidHeader()
    {
        for (var i = 0; ; i++)
        {
            var payload = PayloadV2(Sign()) with { Resource = new ResourceInfo { Url = "https://api.example.com/weather?q=" + new string('?', i % 3 + 1) + ">>>" + i } };
            var header = X402HeaderCodec.Encode(payload);
            if (header.EndsWith('=') && header.Contains('+') && header.Contains('/'))
                return header;
        }
    }

    [Fact]
    public void The_mutated_headers_start_from_a_valid_padded_one()
    {
        var valid = PaddedValidHeader();
        Assert.True(X402HeaderCodec.DecodePaymentPayload(valid).Succeeded);
        Assert.NotEqual(valid, valid.TrimEnd('='));
    }

    public static TheoryData<string?, HeaderDecodeError> MalformedHeaders()
    {
        var valid = PaddedValidHeader();
        return new TheoryData<string?, HeaderDecodeError>
        {
            { null, HeaderDecodeError.Missing },
            { "", HeaderDecodeError.Missing },
            { new string('A', X402HeaderCodec.DefaultMaxHeaderLength + 4), HeaderDecodeError.TooLong },
            { valid.TrimEnd('='), HeaderDecodeError.InvalidBase64 },                         // padding dropped
            { valid.Replace('+', '-').Replace('/', '_'), HeaderDecodeError.InvalidBase64 },     // url-safe alphabet
            { valid.Replace('+', '-').Replace('/', '_').TrimEnd('='), HeaderDecodeError.InvalidBase64 }, // base64url, no padding
            { valid[..8] + " " + valid[8..^1], HeaderDecodeError.InvalidBase64 },          // whitespace inside
            { " " + valid, HeaderDecodeError.InvalidBase64 },
            { valid + "\n", HeaderDecodeError.InvalidBase64 },
            { "eyJ9=", HeaderDecodeError.InvalidBase64 },                                   // length not a multiple of 4
            { "e30===", HeaderDecodeError.InvalidBase64 },
            { "e31=", HeaderDecodeError.InvalidBase64 },                                    // non-zero unused bits ("{}" is e30=)
            { "%%%%", HeaderDecodeError.InvalidBase64 },
            { B64("{not json"), HeaderDecodeError.InvalidJson },
            { B64("{\"x402Version\":2} trailing"), HeaderDecodeError.InvalidJson },
            { B64("{\"x402Version\":2,\"x402Version\":1}"), HeaderDecodeError.InvalidJson }, // duplicate member
            { Convert.ToBase64String([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]), HeaderDecodeError.InvalidJson }, // invalid UTF-8
            { B64(new string('[', 100) + new string(']', 100)), HeaderDecodeError.InvalidJson },  // too deep
            { B64("[1,2]"), HeaderDecodeError.InvalidShape },
            { B64("\"text\""), HeaderDecodeError.InvalidShape },
            { B64("{}"), HeaderDecodeError.UnsupportedVersion },
            { B64("{\"x402Version\":3}"), HeaderDecodeError.UnsupportedVersion },
            { B64("{\"x402Version\":\"2\"}"), HeaderDecodeError.UnsupportedVersion },
            { B64("{\"x402Version\":2.5}"), HeaderDecodeError.UnsupportedVersion },
            { B64("{\"x402Version\":2}"), HeaderDecodeError.InvalidShape },                   // no accepted / payload
            { B64("{\"x402Version\":2,\"accepted\":{\"scheme\":\"exact\"},\"payload\":{}}"), HeaderDecodeError.InvalidShape },
            { B64("{\"x402Version\":1,\"scheme\":\"exact\",\"payload\":{}}"), HeaderDecodeError.InvalidShape }, // no network
            { B64("{\"x402Version\":1,\"scheme\":\"exact\",\"network\":8453,\"payload\":{}}"), HeaderDecodeError.InvalidShape },
        };
    }

    [Theory]
    [MemberData(nameof(MalformedHeaders))]
    public void Malformed_headers_fail_with_a_reason_not_an_exception(string? header, HeaderDecodeError expected)
    {
        var result = X402HeaderCodec.DecodePaymentPayload(header);
        Assert.False(result.Succeeded);
        Assert.Null(result.Value);
        Assert.Equal(expected, result.Error);
        Assert.False(string.IsNullOrEmpty(result.Message));
    }

    [Fact]
    public void The_length_limit_is_configurable()
    {
        var header = X402HeaderCodec.Encode(PayloadV2(Sign()));
        Assert.Equal(HeaderDecodeError.TooLong, X402HeaderCodec.DecodePaymentPayload(header, maxLength: header.Length - 1).Error);
        Assert.True(X402HeaderCodec.DecodePaymentPayload(header, maxLength: header.Length).Succeeded);
    }

    [Fact]
    public void Property_names_are_case_sensitive()
    {
        var header = B64("{\"X402Version\":2,\"Accepted\":{},\"Payload\":{}}");
        Assert.Equal(HeaderDecodeError.UnsupportedVersion, X402HeaderCodec.DecodePaymentPayload(header).Error);
    }

    [Fact]
    public void Unknown_members_of_the_accepted_requirement_are_kept()
    {
        var json = "{\"x402Version\":2,\"accepted\":{\"scheme\":\"exact\",\"network\":\"eip155:84532\",\"amount\":\"1\",\"asset\":\"0x036CbD53842c5426634e7929541eC2318f3dCF7e\"," +
                   "\"payTo\":\"0x209693Bc6afc0C5328bA36FaF03C514EF312287C\",\"maxTimeoutSeconds\":60,\"extra\":{},\"futureField\":[1]},\"payload\":{}}";
        var decoded = X402HeaderCodec.DecodePaymentPayload(B64(json));
        Assert.True(decoded.Succeeded, decoded.Message);
        Assert.Contains("futureField", decoded.Value!.V2!.Accepted.AdditionalProperties!.Keys);
        Assert.Contains("\"futureField\":[1]", X402Json.Serialize(decoded.Value.V2, X402JsonContext.Strict.PaymentPayload));
    }

    [Fact]
    public void Strict_base64_accepts_canonical_text_only()
    {
        Assert.True(X402HeaderCodec.TryDecodeStrictBase64("e30=", out var bytes));
        Assert.Equal("{}", Encoding.UTF8.GetString(bytes));
        Assert.True(X402HeaderCodec.TryDecodeStrictBase64("YWJj", out _));
        Assert.False(X402HeaderCodec.TryDecodeStrictBase64("e30", out _));
        Assert.False(X402HeaderCodec.TryDecodeStrictBase64("=e30", out _));
        Assert.False(X402HeaderCodec.TryDecodeStrictBase64("e=30", out _));
    }
}
