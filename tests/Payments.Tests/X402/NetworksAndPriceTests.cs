using System.Numerics;
using Sessions.Payments.Crypto;
using Sessions.Payments.X402;

namespace Sessions.Payments.Tests.X402;

public sealed class NetworksAndPriceTests
{
    [Theory]
    [InlineData("base-sepolia", 84532)]
    [InlineData("base", 8453)]
    [InlineData("avalanche-fuji", 43113)]
    [InlineData("avalanche", 43114)]
    [InlineData("polygon", 137)]
    [InlineData("polygon-amoy", 80002)]
    public void V1_names_map_to_chain_ids_and_back(string name, long chainId)
    {
        Assert.True(Networks.TryGetChainId(name, out var id));
        Assert.Equal(chainId, id);
        Assert.True(Networks.TryGetV1Name(chainId, out var back));
        Assert.Equal(name, back);
        Assert.True(Networks.TryNormalizeToCaip2(name, out var caip2));
        Assert.Equal($"eip155:{chainId}", caip2);
        Assert.True(Networks.TryGetChainId(caip2, out var fromCaip2));
        Assert.Equal(chainId, fromCaip2);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("Base")]
    [InlineData("eip155:")]
    [InlineData("eip155:0")]
    [InlineData("eip155:084532")]
    [InlineData("eip155:-1")]
    [InlineData("eip155:8453a")]
    [InlineData("solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp")]
    [InlineData("eip155:99999999999999999999")]
    public void Unknown_or_malformed_networks_are_refused(string? network) => Assert.False(Networks.TryGetChainId(network, out _));

    [Fact]
    public void Usdc_assets_carry_their_eip712_domains()
    {
        Assert.True(KnownAssets.TryGetUsdc("base-sepolia", out var sepolia));
        Assert.Equal(("eip155:84532", "USDC", "2", 6, 84532L), (sepolia.Network, sepolia.Eip712Name, sepolia.Eip712Version, sepolia.Decimals, sepolia.ChainId));
        Assert.Equal("0x036CbD53842c5426634e7929541eC2318f3dCF7e", sepolia.Address.ToString());

        Assert.True(KnownAssets.TryGetUsdc("eip155:8453", out var mainnet));
        Assert.Equal(("USD Coin", "2", 6), (mainnet.Eip712Name, mainnet.Eip712Version, mainnet.Decimals));
        Assert.Equal("0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913", mainnet.Address.ToString());

        Assert.True(KnownAssets.TryFind("base", EvmAddress.Parse("0x833589fcd6edb6e08f4c7c32d4f71b54bda02913"), out _));
        Assert.False(KnownAssets.TryFind("base", sepolia.Address, out _));
        Assert.False(KnownAssets.TryGetUsdc("polygon", out _));
    }

    [Theory]
    [InlineData("$0.01", "10000")]
    [InlineData("$0.001", "1000")]
    [InlineData("$1.00", "1000000")]
    [InlineData("$0.009", "9000")]
    [InlineData("$1", "1000000")]
    [InlineData("$0.000001", "1")]
    [InlineData("$0", "0")]
    [InlineData("$00.50", "500000")]
    [InlineData("$123456789.123456", "123456789123456")]
    [InlineData("$115792089237316195423570985008687907853269984665640564039457584007913129", "115792089237316195423570985008687907853269984665640564039457584007913129000000")]
    [InlineData("10000", "10000")]
    [InlineData("0", "0")]
    [InlineData("115792089237316195423570985008687907853269984665640564039457584007913129639935", "115792089237316195423570985008687907853269984665640564039457584007913129639935")]
    public void Prices_convert_to_atomic_units(string price, string atomic)
    {
        Assert.True(Price.TryParseAtomic(price, 6, out var amount, out var error), error);
        Assert.Equal(BigInteger.Parse(atomic), amount);
        Assert.Equal(amount, Price.ParseAtomic(price, 6));
    }

    [Theory]
    [InlineData("-$0.01", "negative")]
    [InlineData("$-0.01", "negative")]
    [InlineData("-10000", "negative")]
    [InlineData("$0.0000001", "decimals")]
    [InlineData("$0.0100000", "decimals")]
    [InlineData("100.5", "whole number")]
    [InlineData("", "empty")]
    [InlineData(null, "empty")]
    [InlineData("$", "not a number")]
    [InlineData("$.5", "not a number")]
    [InlineData("$1.", "not a number")]
    [InlineData("$1e3", "not a number")]
    [InlineData("1e3", "not a number")]
    [InlineData("$1,000", "not a number")]
    [InlineData(" $1", "not a number")]
    [InlineData("$ 1", "not a number")]
    [InlineData("+5", "not a number")]
    [InlineData("0x10", "not a number")]
    [InlineData("USD 1", "not a number")]
    [InlineData("$٣", "not a number")] // non-ASCII digit
    [InlineData("115792089237316195423570985008687907853269984665640564039457584007913129639936", "overflows")]
    [InlineData("$115792089237316195423570985008687907853269984665640564039457584007913130", "overflows")] // just above 2^256-1 once scaled
    [InlineData("$1157920892373161954235709850086879078532699846656405640394575840079131299", "overflows")]
    [InlineData("1000000000000000000000000000000000000000000000000000000000000000000000000000000", "overflows")]
    public void Bad_prices_are_refused_with_a_clear_message(string? price, string messageFragment)
    {
        Assert.False(Price.TryParseAtomic(price, 6, out _, out var error));
        Assert.Contains(messageFragment, error);
    }

    [Fact]
    public void Decimals_follow_the_asset()
    {
        Assert.Equal(new BigInteger(10_000_000_000_000_000), Price.ParseAtomic("$0.01", 18));
        Assert.Equal(new BigInteger(1), Price.ParseAtomic("$1", 0));
        Assert.Throws<FormatException>(() => Price.ParseAtomic("$0.1", 0));
    }

    [Theory]
    [InlineData("0", true)]
    [InlineData("10000", true)]
    [InlineData("", false)]
    [InlineData("-1", false)]
    [InlineData("+1", false)]
    [InlineData("1.0", false)]
    [InlineData(" 1", false)]
    [InlineData("0x1", false)]
    public void Uint256_strings_are_strict_decimal(string text, bool valid) => Assert.Equal(valid, Price.TryParseUInt256(text, out _));
}

public sealed class ExactEvmRequirementsTests
{
    [Fact]
    public void Builds_what_the_verifier_and_matcher_expect()
    {
        var requirements = ExactEvmRequirements.For(KnownAssets.UsdcBaseSepolia, "$0.01", PaymentBuilder.PayTo.ToLowerInvariant());
        Assert.True(RequirementsMatcher.JsonEquals(PaymentBuilder.Requirements(), requirements));
        var payload = PaymentBuilder.PayloadV2(PaymentBuilder.Sign(), requirements);
        Assert.True(new ExactEvmVerifier(FixedTimeProvider.AtUnixSeconds(PaymentBuilder.Now)).Verify(payload, requirements).IsValid);
    }

    [Fact]
    public void Mainnet_usdc_gets_its_own_eip712_name_and_v1_gets_v1_names()
    {
        var v2 = ExactEvmRequirements.For(KnownAssets.UsdcBase, "10000", PaymentBuilder.PayTo, maxTimeoutSeconds: 60);
        Assert.Equal("eip155:8453", v2.Network);
        Assert.Equal("USD Coin", v2.Extra!.Value.GetProperty("name").GetString());
        Assert.Equal(60, v2.MaxTimeoutSeconds);

        var v1 = ExactEvmRequirements.ForV1(KnownAssets.UsdcBaseSepolia, "$1.00", PaymentBuilder.PayTo, "https://api.example.com/x");
        var expected = PaymentBuilder.RequirementsV1("1000000") with { Description = "", MimeType = "", Resource = "https://api.example.com/x" };
        Assert.Equal(X402Json.Serialize(expected, X402JsonContext.Strict.PaymentRequirementsV1), X402Json.Serialize(v1, X402JsonContext.Strict.PaymentRequirementsV1));
        Assert.Equal("base-sepolia", v1.Network);
    }

    [Theory]
    [InlineData("$0.0000001", "0x209693Bc6afc0C5328bA36FaF03C514EF312287C")]
    [InlineData("0.01", "0x209693Bc6afc0C5328bA36FaF03C514EF312287C")]
    [InlineData("$0.01", "0x209693bC6afc0C5328bA36FaF03C514EF312287C")] // bad checksum
    [InlineData("$0.01", "0x1234")]
    public void Bad_prices_and_addresses_throw(string price, string payTo) =>
        Assert.ThrowsAny<ArgumentException>(() => ExactEvmRequirements.For(KnownAssets.UsdcBaseSepolia, price, payTo));
}
