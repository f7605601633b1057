using Sessions.Payments.Crypto;

namespace Sessions.Payments.Tests.Crypto;

public sealed class EvmAddressTests
{
    public static TheoryData<string, string> ViemChecksums()
    {
        var data = new TheoryData<string, string>();
        foreach (var entry in Fixtures.Load("viem-addresses.json").EnumerateArray())
            data.Add(entry.GetProperty("lower").GetString()!, entry.GetProperty("checksum").GetString()!);
        return data;
    }

    [Theory]
    [MemberData(nameof(ViemChecksums))]
    public void Checksum_matches_viem_getAddress(string lower, string checksum)
    {
        Assert.Equal(checksum, EvmAddress.Parse(lower).ToChecksumString());
        Assert.Equal(checksum, EvmAddress.Parse(checksum).ToString());
        Assert.Equal(lower, EvmAddress.Parse(checksum).ToLowerHex());
    }

    [Theory] // The examples of the EIP-55 specification.
    [InlineData("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed")]
    [InlineData("0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359")]
    [InlineData("0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB")]
    [InlineData("0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb")]
    public void Eip55_specification_examples_round_trip(string address) =>
        Assert.Equal(address, EvmAddress.Parse(address.ToLowerInvariant()).ToChecksumString());

    [Fact]
    public void Equality_ignores_case()
    {
        var checksummed = EvmAddress.Parse(TestVectors.FromA);
        var lower = EvmAddress.Parse(TestVectors.FromA.ToLowerInvariant());
        var upper = EvmAddress.Parse("0x" + TestVectors.FromA[2..].ToUpperInvariant());
        Assert.Equal(checksummed, lower);
        Assert.True(checksummed == upper);
        Assert.Equal(checksummed.GetHashCode(), lower.GetHashCode());
        Assert.True(EvmAddress.AreEqual(TestVectors.FromA, TestVectors.FromA.ToLowerInvariant()));
        Assert.False(EvmAddress.AreEqual(TestVectors.FromA, TestVectors.To));
        Assert.False(EvmAddress.AreEqual(TestVectors.FromA, "garbage"));
    }

    [Theory]
    [InlineData(null, "0x")]
    [InlineData("", "0x")]
    [InlineData("857b06519E91e3A54538791bDbb0E22373e36b66", "0x")]
    [InlineData("0X857b06519E91e3A54538791bDbb0E22373e36b66", "0x")]
    [InlineData("0x857b06519E91e3A54538791bDbb0E22373e36b6", "0x")]
    [InlineData("0x857b06519E91e3A54538791bDbb0E22373e36b666", "0x")]
    [InlineData("0x857b06519E91e3A54538791bDbb0E22373e36bzz", "0x")]
    [InlineData(" 0x857b06519E91e3A54538791bDbb0E22373e36b66", "0x")]
    [InlineData("0x857B06519E91e3A54538791bDbb0E22373e36b66", "checksum")] // one letter's case flipped
    public void Malformed_addresses_are_refused_with_a_reason(string? text, string reasonFragment)
    {
        Assert.False(EvmAddress.TryParse(text, out _, out var error));
        Assert.Contains(reasonFragment, error);
        Assert.False(EvmAddress.IsValid(text));
    }

    [Fact]
    public void Parse_throws_FormatException_for_garbage() => Assert.Throws<FormatException>(() => EvmAddress.Parse("0x1234"));
}
