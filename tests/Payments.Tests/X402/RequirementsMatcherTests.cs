using Sessions.Payments.X402;
using static Sessions.Payments.Tests.X402.PaymentBuilder;

namespace Sessions.Payments.Tests.X402;

public sealed class RequirementsMatcherTests
{
    private static readonly PaymentRequirements Cheap = Requirements("10000");
    private static readonly PaymentRequirements Dear = Requirements("20000");

    private static PaymentPayload Accepting(string acceptedJson) => new()
    {
        Accepted = System.Text.Json.JsonSerializer.Deserialize(acceptedJson, X402JsonContext.Strict.PaymentRequirements)!,
        Payload = Json("{}"),
    };

    private const string CheapJson =
        "{\"scheme\":\"exact\",\"network\":\"eip155:84532\",\"amount\":\"10000\",\"asset\":\"0x036CbD53842c5426634e7929541eC2318f3dCF7e\"," +
        "\"payTo\":\"0x209693Bc6afc0C5328bA36FaF03C514EF312287C\",\"maxTimeoutSeconds\":300,\"extra\":{\"name\":\"USDC\",\"version\":\"2\"}}";

    [Fact]
    public void Accepted_selects_the_offer_it_deep_equals()
    {
        Assert.Same(Cheap, RequirementsMatcher.FindAccepted(Accepting(CheapJson), [Dear, Cheap]));
        Assert.Same(Dear, RequirementsMatcher.FindAccepted(PayloadV2(Sign(), Dear), [Cheap, Dear]));
    }

    [Theory]
    [InlineData("300")]
    [InlineData("300.0")]
    [InlineData("3e2")]
    [InlineData("3.00E+2")]
    [InlineData("30000e-2")]
    public void Member_order_and_number_spelling_do_not_matter(string timeout)
    {
        // A client echoes `accepted` back after its own JSON round trip; @x402/core compares it after
        // JSON.parse, where 300, 300.0 and 3e2 are the same number. Match semantically, as it does.
        var reordered = "{\"extra\":{\"version\":\"2\",\"name\":\"USDC\"},\"maxTimeoutSeconds\":" + timeout +
                        ",\"payTo\":\"0x209693Bc6afc0C5328bA36FaF03C514EF312287C\"," +
                        "\"asset\":\"0x036CbD53842c5426634e7929541eC2318f3dCF7e\",\"amount\":\"10000\",\"network\":\"eip155:84532\",\"scheme\":\"exact\"}";
        var payload = Accepting(reordered);
        Assert.Equal(300, payload.Accepted.MaxTimeoutSeconds);
        Assert.Same(Cheap, RequirementsMatcher.FindAccepted(payload, [Dear, Cheap]));
    }

    [Theory]
    [InlineData("300.5")]
    [InlineData("\"300\"")]
    [InlineData("3e10")]
    [InlineData("1e400")]
    [InlineData("null")]
    public void Timeouts_that_are_not_an_int_do_not_bind(string timeout) =>
        Assert.Throws<System.Text.Json.JsonException>(() => Accepting(CheapJson.Replace("\"maxTimeoutSeconds\":300", "\"maxTimeoutSeconds\":" + timeout)));

    [Theory]
    [InlineData("2.0", true)]
    [InlineData("2e0", true)]
    [InlineData("2.5", false)]
    [InlineData("\"2\"", false)]
    public void X402Version_is_read_by_value(string version, bool decodes)
    {
        var header = System.Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(
            "{\"x402Version\":" + version + ",\"accepted\":" + CheapJson + ",\"payload\":{}}"));
        var decoded = X402HeaderCodec.DecodePaymentPayload(header);
        Assert.Equal(decodes, decoded.Succeeded);
        if (decodes)
            Assert.Same(Cheap, RequirementsMatcher.FindAccepted(decoded.Value!.V2!, [Dear, Cheap]));
        else
            Assert.Equal(HeaderDecodeError.UnsupportedVersion, decoded.Error);
    }

    [Theory]
    [InlineData("\"amount\":\"10000\"", "\"amount\":\"1000\"")]
    [InlineData("\"extra\":{\"name\":\"USDC\",\"version\":\"2\"}", "\"extra\":{\"name\":\"USD Coin\",\"version\":\"2\"}")]
    [InlineData("\"extra\":{\"name\":\"USDC\",\"version\":\"2\"}", "\"extra\":{\"name\":\"USDC\",\"version\":\"2\",\"more\":1}")]
    [InlineData(",\"extra\":{\"name\":\"USDC\",\"version\":\"2\"}", "")]
    [InlineData("\"maxTimeoutSeconds\":300", "\"maxTimeoutSeconds\":301")]
    [InlineData("\"payTo\":\"0x209693Bc6afc0C5328bA36FaF03C514EF312287C\"", "\"payTo\":\"0x209693bc6afc0c5328ba36faf03c514ef312287c\"")]
    [InlineData("\"scheme\":\"exact\"", "\"scheme\":\"exact\",\"unexpected\":true")]
    [InlineData("\"scheme\":\"exact\"", "\"scheme\":\"exact\",\"unexpected\":null")]
    public void Any_difference_means_no_match(string original, string replacement)
    {
        var altered = CheapJson.Replace(original, replacement);
        Assert.NotEqual(CheapJson, altered);
        Assert.Null(RequirementsMatcher.FindAccepted(Accepting(altered), [Cheap, Dear]));
    }

    [Fact]
    public void V1_matches_on_scheme_and_network()
    {
        var offered = new[] { RequirementsV1() with { Network = "base" }, RequirementsV1() };
        Assert.Same(offered[1], RequirementsMatcher.FindV1(PayloadV1(Sign()), offered));
        Assert.Null(RequirementsMatcher.FindV1(PayloadV1(Sign(), network: "polygon"), offered));
        Assert.Null(RequirementsMatcher.FindV1(PayloadV1(Sign(), scheme: "upto"), offered));
    }
}
