using System.Security.Cryptography;
using Sessions.Payments.Crypto;

namespace Sessions.Payments.Tests.Crypto;

public sealed class KeccakAndHexTests
{
    [Theory]
    [InlineData("", "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470")]
    [InlineData("abc", "0x4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45")]
    [InlineData("The quick brown fox jumps over the lazy dog", "0x4d741b6f1eb29cb2a9b9911c82f56fa8d73b04959d3d9d222895df6c0b28aa15")]
    public void Keccak256_matches_known_digests(string input, string expected) =>
        Assert.Equal(expected, Hex.Encode(Keccak256.HashUtf8(input)));

    [Fact]
    public void Keccak256_is_not_SHA3_256()
    {
        Assert.SkipUnless(SHA3_256.IsSupported, "SHA3-256 is not available on this platform");
        Assert.NotEqual(Hex.Encode(SHA3_256.HashData(""u8)), Hex.Encode(Keccak256.Hash(""u8)));
    }

    [Fact]
    public void HashConcat_equals_hash_of_the_concatenation() =>
        Assert.Equal(Keccak256.Hash([1, 2, 3, 4]), Keccak256.HashConcat([1, 2], [3], [4]));

    [Theory]
    [InlineData("0x", 0)]
    [InlineData("0x00ff", 2)]
    [InlineData("0XABcd", 2)]
    public void Hex_decodes_prefixed_even_length(string text, int length)
    {
        Assert.True(Hex.TryDecode(text, out var bytes));
        Assert.Equal(length, bytes.Length);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("00ff")]
    [InlineData("0x0")]
    [InlineData("0xgg")]
    [InlineData("0x 00")]
    [InlineData("0x00 ")]
    public void Hex_refuses_malformed_text(string? text) => Assert.False(Hex.TryDecode(text, out _));

    [Fact]
    public void Bytes32_parses_exactly_32_bytes_and_compares_by_value()
    {
        var lower = Bytes32.Parse(TestVectors.Nonce);
        var upper = Bytes32.Parse("0x" + TestVectors.Nonce[2..].ToUpperInvariant());
        Assert.Equal(lower, upper);
        Assert.Equal(TestVectors.Nonce, lower.ToString());
        Assert.False(Bytes32.TryParse(TestVectors.Nonce[..^2], out _));
        Assert.False(Bytes32.TryParse(TestVectors.Nonce + "00", out _));
        Assert.Equal(new byte[32], default(Bytes32).ToArray());
    }
}
