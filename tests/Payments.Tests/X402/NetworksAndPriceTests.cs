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
}

public sealed class ExactEvmRequirementsTests
{
    [Fact]
    public void Builds_what_the_verifier_and_matcher_expect()
    {
        var requirements = ExactEvmRequirements.For(KnownAssets.UsdcBaseSepolia, "$0.01", PaymentBuilder.PayTo.ToLowerInvariant());
        Assert.True(RequirementsMatcher.JsonEquals(PaymentBuilder.Requirements(), requirements));
        var payload = PaymentBuilder.PayloadV2(PaymentBuilder.Sign(), requirements);
        Assert.True(new ExactEvmVerifier(FixedClock.AtUnixSeconds(PaymentBuilder.Now)).Verify(payload, requirements).IsValid);
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
