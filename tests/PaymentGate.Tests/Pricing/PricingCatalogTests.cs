using System.Numerics;
using Microsoft.Extensions.Options;
using Sessions.PaymentGate.Pricing;
using Sessions.Testing;

namespace PaymentGate.Tests.Pricing;

// Gate configuration is validated once at start-up: every mistake is named with its configuration key.
public sealed class PricingCatalogTests(InfrastructureFixture infrastructure)
{
    const string PayTo = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C";

    static PricingCatalog Build(Action<GateOptions> configure)
    {
        var options = new GateOptions { Organizations = { ["demo"] = new OrganizationOptions { Name = "Demo", PayTo = PayTo } } };
        configure(options);
        return new PricingCatalog(Options.Create(options));
    }

    [Theory]
    [InlineData("$0.001", "1000")]
    [InlineData("$0.01", "10000")]
    [InlineData("$1", "1000000")]
    [InlineData("2500", "2500")]
    public void Prices_are_parsed_once_into_atomic_units(string price, string atomic)
    {
        var catalog = Build(o => o.Routes.Add(new RouteOptions { Organization = "demo", Method = "get", Path = "/api/x", Price = price }));

        var route = catalog.Routes.Single(r => r.Path == "/api/x");
        Assert.Equal(BigInteger.Parse(atomic), route.Amount);
        Assert.Equal("GET", route.Method);
        Assert.Equal(atomic, route.Requirements!.Amount);
        Assert.Equal("eip155:84532", route.Requirements.Network);
        Assert.Equal("base-sepolia", route.RequirementsV1("http://x/api/x")!.Network);
    }

    [Theory]
    [InlineData("$0.0000001", "Gate:Routes:0:Price")]
    [InlineData("$abc", "Gate:Routes:0:Price")]
    [InlineData("-5", "Gate:Routes:0:Price")]
    [InlineData("0", "is zero")]
    public void Bad_price_is_a_startup_error(string price, string expected)
    {
        var error = Assert.Throws<GateConfigurationException>(() =>
            Build(o => o.Routes.Add(new RouteOptions { Organization = "demo", Method = "GET", Path = "/api/x", Price = price })));
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void A_solana_offer_adds_the_same_price_on_devnet_with_the_local_fee_payer()
    {
        var catalog = Build(o =>
        {
            o.Organizations["demo"].Solana = new SolanaOfferOptions { PayTo = "9hSR6S7WPtxmTojgo6GG3k4yDPecgJY292j7xrsUGWBu" };
            o.Routes.Add(new RouteOptions { Organization = "demo", Method = "GET", Path = "/api/x", Price = "$0.01" });
        });

        var route = catalog.Routes.Single(r => r.Path == "/api/x");
        Assert.Equal(["eip155:84532", "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1"], route.Offers.Select(r => r.Network));
        var svm = route.SvmRequirements!;
        Assert.Equal(("10000", "4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU", "9hSR6S7WPtxmTojgo6GG3k4yDPecgJY292j7xrsUGWBu"), (svm.Amount, svm.Asset, svm.PayTo));
        Assert.Equal(global::Sessions.PaymentGate.Facilitator.Local.Svm.LocalSvmFacilitator.FeePayer, svm.Extra!.Value.GetProperty("feePayer").GetString());
        Assert.Equal("9hSR6S7WPtxmTojgo6GG3k4yDPecgJY292j7xrsUGWBu", PricingApi.Describe(catalog).Organizations[0].Solana!.PayTo);
    }

    [Fact]
    public void A_bad_solana_offer_is_a_startup_error_naming_its_keys()
    {
        var error = Assert.Throws<GateConfigurationException>(() => Build(o => o.Organizations["demo"].Solana = new SolanaOfferOptions
        {
            PayTo = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C", Network = "eip155:84532", FeePayer = "not-base58!",
        }));

        Assert.Contains("Gate:Organizations:demo:Solana:PayTo", error.Message);
        Assert.Contains("Gate:Organizations:demo:Solana:FeePayer", error.Message);
        Assert.Contains("Gate:Organizations:demo:Solana:Network", error.Message);
    }

    [Fact]
    public void Unknown_organisation_bad_pay_to_and_bad_network_are_startup_errors()
    {
        var error = Assert.Throws<GateConfigurationException>(() => Build(o =>
        {
            o.Organizations["broke"] = new OrganizationOptions { PayTo = "0x1234" };
            o.Organizations["nowhere"] = new OrganizationOptions { PayTo = PayTo, Network = "solana:mainnet" };
            o.Organizations["zero"] = new OrganizationOptions { PayTo = "0x0000000000000000000000000000000000000000" };
            o.Organizations["token"] = new OrganizationOptions { PayTo = PayTo, Asset = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266" };
            o.Routes.Add(new RouteOptions { Organization = "ghost", Method = "GET", Path = "/api/x", Price = "$0.01" });
            o.Routes.Add(new RouteOptions { Method = "GET", Path = "/api/y", Price = "$0.01" });
            o.Routes.Add(new RouteOptions { Method = "GET", Path = "no-slash" });
        }));
        Assert.Contains("Gate:Organizations:broke:PayTo", error.Message);
        Assert.Contains("Gate:Organizations:nowhere:Network", error.Message);
        Assert.Contains("Gate:Organizations:zero:PayTo", error.Message);
        Assert.Contains("Gate:Organizations:token:Asset", error.Message);
        Assert.Contains("Gate:Routes:0:Organization 'ghost'", error.Message);
        Assert.Contains("Gate:Routes:1: a priced route needs an Organization", error.Message);
        Assert.Contains("Gate:Routes:2:Path", error.Message);
    }

    [Fact]
    public void Network_defaults_to_base_sepolia_usdc_and_v1_names_are_accepted()
    {
        var catalog = Build(o => o.Organizations["main"] = new OrganizationOptions { PayTo = PayTo, Network = "base" });

        Assert.Equal("0x036CbD53842c5426634e7929541eC2318f3dCF7e", catalog.Organizations.Single(x => x.Id == "demo").Asset.Address.ToString());
        var main = catalog.Organizations.Single(x => x.Id == "main");
        Assert.Equal(("eip155:8453", "USD Coin"), (main.Asset.Network, main.Asset.Eip712Name));
    }

    [Fact]
    public async Task Gate_does_not_start_with_a_bad_price()
    {
        await using var factory = new ServiceFactory<Program>(new Dictionary<string, string?>
        {
            ["ConnectionStrings:gatedb"] = await infrastructure.CreateDatabaseAsync("gatedb"),
            ["Gate:Routes:1:Price"] = "$0.0000001",
        });

        var error = Assert.ThrowsAny<Exception>(() => factory.Server);
        Assert.Contains("Gate:Routes:1:Price", error.ToString());
    }
}
