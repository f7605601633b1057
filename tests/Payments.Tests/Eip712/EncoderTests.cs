using System.Numerics;
using Sessions.Payments.Crypto;
using Sessions.Payments.Eip712;

namespace Sessions.Payments.Tests.Eip712;

public sealed class EncoderTests
{
    private static Eip712TypeSet Single(string type) => Eip712TypeSet.Create(("T", [new("v", type)]));

    private static byte[] Encode(string type, object? value) => Single(type).EncodeData("T", new Dictionary<string, object?> { ["v"] = value })[32..];

    [Fact]
    public void Referenced_types_are_sorted_by_name_after_the_primary_type()
    {
        var types = Eip712TypeSet.Create(
            ("Transaction", [new("from", "Person"), new("to", "Person"), new("tx", "Asset")]),
            ("Person", [new("wallet", "address"), new("name", "string")]),
            ("Asset", [new("token", "address"), new("amount", "uint256")]));
        Assert.Equal("Transaction(Person from,Person to,Asset tx)Asset(address token,uint256 amount)Person(address wallet,string name)",
            types.EncodeType("Transaction"));
    }

    [Fact]
    public void Types_reached_only_through_arrays_and_nesting_are_included_once()
    {
        var types = Eip712TypeSet.Create(
            ("A", [new("bs", "B[]"), new("c", "C")]),
            ("B", [new("c", "C[2]")]),
            ("C", [new("x", "uint8")]));
        Assert.Equal("A(B[] bs,C c)B(C[2] c)C(uint8 x)", types.EncodeType("A"));
        Assert.Equal("B(C[2] c)C(uint8 x)", types.EncodeType("B"));
    }

    [Fact]
    public void Domain_encodes_only_present_fields_in_canonical_order()
    {
        Assert.Equal("EIP712Domain()", new Eip712Domain().EncodeType());
        Assert.Equal("EIP712Domain(string name)", new Eip712Domain(Name: "x").EncodeType());
        Assert.Equal("EIP712Domain(uint256 chainId,bytes32 salt)", new Eip712Domain(ChainId: 1, Salt: Bytes32.Zero).EncodeType());
        Assert.Equal("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract,bytes32 salt)",
            new Eip712Domain("n", "1", 1, EvmAddress.Zero, Bytes32.Zero).EncodeType());
        Assert.Equal("Voucher(bytes32 channelId,uint128 cumulativeAmount)", MppVoucher.Types.EncodeType(MppVoucher.PrimaryType));
    }

    [Fact]
    public void Atomic_values_encode_to_their_32_byte_slots()
    {
        Assert.Equal(Hex.Encode(Keccak256.HashUtf8("hi")), Hex.Encode(Encode("string", "hi")));
        Assert.Equal(Hex.Encode(Keccak256.Hash([1, 2])), Hex.Encode(Encode("bytes", "0x0102")));
        Assert.Equal(31, Array.LastIndexOf(Encode("bool", true), (byte)1));
        Assert.Equal("0x" + new string('f', 64), Hex.Encode(Encode("int256", -1)));
        Assert.Equal("0x" + new string('f', 62) + "80", Hex.Encode(Encode("int8", -128)));
        Assert.Equal("0xab" + new string('0', 62), Hex.Encode(Encode("bytes1", new byte[] { 0xab })));
        Assert.Equal("0x" + new string('0', 24) + TestVectors.FromA[2..].ToLowerInvariant(), Hex.Encode(Encode("address", TestVectors.FromA)));
        Assert.Equal(Encode("uint256", "255"), Encode("uint256", "0xff"));
        Assert.Equal(Encode("uint256", (byte)255), Encode("uint256", UInt128.Parse("255")));
    }

    [Theory]
    [InlineData("uint8", "256")]
    [InlineData("uint8", "-1")]
    [InlineData("int8", "128")]
    [InlineData("int8", "-129")]
    [InlineData("uint128", "340282366920938463463374607431768211456")]
    [InlineData("uint256", "115792089237316195423570985008687907853269984665640564039457584007913129639936")]
    public void Integers_out_of_range_are_refused(string type, string value) =>
        Assert.Throws<ArgumentException>(() => Encode(type, BigInteger.Parse(value)));

    [Theory]
    [InlineData("bytes8", "0x01")]
    [InlineData("bytes32", "0x00")]
    [InlineData("address", "0x1234")]
    [InlineData("uint256", "12a")]
    [InlineData("uint256", "")]
    [InlineData("bool", "true")]
    public void Values_of_the_wrong_shape_are_refused(string type, string value) =>
        Assert.Throws<ArgumentException>(() => Encode(type, value));

    [Theory]
    [InlineData("uint")]
    [InlineData("int")]
    [InlineData("uint7")]
    [InlineData("uint264")]
    [InlineData("bytes0")]
    [InlineData("bytes33")]
    [InlineData("Missing")]
    [InlineData("uint8[0]")]
    public void Unknown_or_alias_types_are_refused(string type) =>
        Assert.Throws<ArgumentException>(() => Single(type));

    [Fact]
    public void Missing_fields_and_unknown_primary_types_are_refused()
    {
        var types = TransferWithAuthorization.Types;
        Assert.Throws<ArgumentException>(() => types.HashStruct(TransferWithAuthorization.PrimaryType, new Dictionary<string, object?>()));
        Assert.Throws<ArgumentException>(() => types.TypeHash("Nope"));
        Assert.Throws<ArgumentException>(() => Eip712TypeSet.Create(("T", [new("a", "uint8"), new("a", "uint8")])));
    }

    [Fact]
    public void Fixed_arrays_must_have_their_declared_length() =>
        Assert.Throws<ArgumentException>(() => Encode("uint8[2]", new[] { 1 }));

    [Fact]
    public void Voucher_amount_is_limited_to_uint128() =>
        Assert.Throws<ArgumentException>(() => new MppVoucher(Bytes32.Zero, BigInteger.One << 128).HashStruct());
}
