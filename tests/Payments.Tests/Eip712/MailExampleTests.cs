using Sessions.Payments.Crypto;
using Sessions.Payments.Eip712;
using static Sessions.Payments.Tests.TestVectors;

namespace Sessions.Payments.Tests.Eip712;

/// <summary>The nested-struct example of the EIP-712 specification (assets/eip-712/Example.js) and its published hashes.</summary>
public sealed class MailExampleTests
{
    private static readonly Eip712TypeSet Types = Eip712TypeSet.Create(
        ("Person", [new("name", "string"), new("wallet", "address")]),
        ("Mail", [new("from", "Person"), new("to", "Person"), new("contents", "string")]));

    private static readonly Eip712Domain Domain = new("Ether Mail", "1", 1, EvmAddress.Parse("0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC"));

    private static readonly Dictionary<string, object?> Mail = new()
    {
        ["from"] = new Dictionary<string, object?> { ["name"] = "Cow", ["wallet"] = "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826" },
        ["to"] = new Dictionary<string, object?> { ["name"] = "Bob", ["wallet"] = "0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB" },
        ["contents"] = "Hello, Bob!",
    };

    [Fact]
    public void Referenced_types_follow_the_primary_type()
    {
        Assert.Equal("Mail(Person from,Person to,string contents)Person(string name,address wallet)", Types.EncodeType("Mail"));
        Assert.Equal("Person(string name,address wallet)", Types.EncodeType("Person"));
    }

    [Fact]
    public void Hashes_match_the_specification()
    {
        Assert.Equal("0xa0cedeb2dc280ba39b857546d74f5549c3a1d7bdc2dd96bf881f76108e23dac2", ToHex(Types.TypeHash("Mail")));
        Assert.Equal("0xc52c0ee5d84264471806290a3f2c4cecfc5490626bf912d01f240d7a274b371e", ToHex(Types.HashStruct("Mail", Mail)));
        Assert.Equal("0xf2cee375fa42b42143804025fc449deafd50cc031ca257e0b194a650a912090f", ToHex(Domain.Separator()));
        Assert.Equal("0xbe609aee343fb3c4b28e1df9e632fca64fcfaede20f02e86244efddf30957bd2", ToHex(Eip712Hasher.HashTypedData(Domain, Types, "Mail", Mail)));
    }

    [Fact]
    public void Signature_by_the_cow_key_matches_the_specification()
    {
        var cowKey = Keccak256.HashUtf8("cow");
        Assert.Equal("0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826", Secp256k1.AddressOf(cowKey).ToChecksumString());

        var signature = Eip712Hasher.Sign(Domain, Types, "Mail", Mail, cowKey);
        Assert.Equal("0x4355c47d63924e8a72e509b65029052eb6c299d53a04e167c5775fd466751c9d", ToHex(signature[..32]));
        Assert.Equal("0x07299936d304c153f6443dfa05f40ff007d72911b6f72307f996231605b91562", ToHex(signature[32..64]));
        Assert.Equal(28, signature[64]);
    }
}
