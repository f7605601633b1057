using System.Text.Json;
using Sessions.Payments.X402;
using static Sessions.Payments.Tests.X402.PaymentBuilder;

namespace Sessions.Payments.Tests.X402;

/// <summary>Exact JSON text of the wire types: camelCase names, official member order, nulls omitted.</summary>
public sealed class WireFormatTests
{
    [Fact]
    public void V1_402_body_has_the_legacy_member_order()
    {
        var body = new PaymentRequiredV1 { Error = "X-PAYMENT header is required", Accepts = [RequirementsV1()] };
        Assert.Equal(
            "{\"x402Version\":1,\"error\":\"X-PAYMENT header is required\",\"accepts\":[{\"scheme\":\"exact\",\"network\":\"base-sepolia\",\"maxAmountRequired\":\"10000\"," +
            "\"asset\":\"0x036CbD53842c5426634e7929541eC2318f3dCF7e\",\"payTo\":\"0x209693Bc6afc0C5328bA36FaF03C514EF312287C\",\"resource\":\"https://api.example.com/weather\"," +
            "\"description\":\"Weather\",\"mimeType\":\"application/json\",\"maxTimeoutSeconds\":300,\"extra\":{\"name\":\"USDC\",\"version\":\"2\"}}]}",
            X402Json.Serialize(body, X402JsonContext.Strict.PaymentRequiredV1));
    }

    [Fact]
    public void Exact_payload_uses_decimal_strings()
    {
        var exact = Sign(value: 10000, validAfter: 1, validBefore: 2, nonce: TestVectors.Nonce);
        var json = JsonSerializer.Serialize(exact.ToJsonElement());
        Assert.StartsWith("{\"signature\":\"0x", json);
        Assert.EndsWith($",\"authorization\":{{\"from\":\"{Payer}\",\"to\":\"{PayTo}\",\"value\":\"10000\",\"validAfter\":\"1\",\"validBefore\":\"2\",\"nonce\":\"{TestVectors.Nonce}\"}}}}", json);
    }

    [Fact]
    public void Settle_responses_keep_transaction_and_network_and_omit_absent_members()
    {
        var failure = new SettleResponse { Success = false, ErrorReason = ReasonCodes.NonceAlreadyUsed, Payer = TestVectors.FromA, Network = Networks.BaseSepolia };
        Assert.Equal(
            $"{{\"success\":false,\"errorReason\":\"invalid_exact_evm_nonce_already_used\",\"payer\":\"{TestVectors.FromA}\",\"transaction\":\"\",\"network\":\"eip155:84532\"}}",
            X402Json.Serialize(failure, X402JsonContext.Strict.SettleResponse));

        var success = new SettleResponse { Success = true, Transaction = "0xabc", Network = Networks.BaseSepolia, Amount = "10000" };
        Assert.Equal("{\"success\":true,\"transaction\":\"0xabc\",\"network\":\"eip155:84532\",\"amount\":\"10000\"}",
            X402Json.Serialize(success, X402JsonContext.Strict.SettleResponse));

        var decoded = X402HeaderCodec.Decode(X402HeaderCodec.Encode(failure), X402JsonContext.Strict.SettleResponse);
        Assert.Equal(failure, decoded.Value);
    }

    [Fact]
    public void Supported_response_shape()
    {
        var supported = new SupportedResponse
        {
            Kinds = [new SupportedKind { X402Version = 2, Scheme = "exact", Network = Networks.BaseSepolia }, new SupportedKind { X402Version = 1, Scheme = "exact", Network = "base-sepolia" }],
            Signers = new Dictionary<string, IReadOnlyList<string>> { ["eip155:*"] = [PayTo] },
        };
        Assert.Equal(
            "{\"kinds\":[{\"x402Version\":2,\"scheme\":\"exact\",\"network\":\"eip155:84532\"},{\"x402Version\":1,\"scheme\":\"exact\",\"network\":\"base-sepolia\"}]," +
            $"\"extensions\":[],\"signers\":{{\"eip155:*\":[\"{PayTo}\"]}}}}",
            X402Json.Serialize(supported, X402JsonContext.Strict.SupportedResponse));
    }

    [Fact]
    public void Facilitator_request_round_trips_and_reads_back_typed()
    {
        var request = X402Json.VerifyRequestFor(PayloadV2(Sign()), Requirements());
        var json = X402Json.Serialize(request, X402JsonContext.Strict.VerifyRequest);
        Assert.StartsWith("{\"x402Version\":2,\"paymentPayload\":{\"x402Version\":2,", json);
        Assert.Contains(",\"paymentRequirements\":{\"scheme\":\"exact\"", json);

        var back = JsonSerializer.Deserialize(json, X402JsonContext.Strict.SettleRequest)!;
        Assert.True(X402Json.TryReadV2(back, out var payload, out var requirements, out var error), error);
        Assert.True(RequirementsMatcher.JsonEquals(requirements!, Requirements()));
        Assert.Equal(Payer.ToString(), payload!.Payload.GetProperty("authorization").GetProperty("from").GetString());
    }

    [Fact]
    public void Non_ascii_text_is_written_as_is()
    {
        var required = new PaymentRequired { Resource = new ResourceInfo { Url = "https://x/", Description = "Météo <pro> & 'co' + 1" }, Accepts = [] };
        Assert.Contains("\"description\":\"Météo <pro> & 'co' + 1\"", X402Json.Serialize(required, X402JsonContext.Strict.PaymentRequired));
    }
}
