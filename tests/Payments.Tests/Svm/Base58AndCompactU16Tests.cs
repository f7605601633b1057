using Sessions.Payments.Svm;

namespace Sessions.Payments.Tests.Svm;

public sealed class Base58AndCompactU16Tests
{
    [Theory]
    [InlineData("", "")]
    [InlineData("00", "1")]
    [InlineData("0000", "11")]
    [InlineData("61", "2g")]
    [InlineData("626262", "a3gV")]
    [InlineData("00000000000000000000000000000000000000000000000000000000000000ff", "11111111111111111111111111111115Q")]
    public void Base58_matches_the_bitcoin_alphabet_vectors(string hex, string base58)
    {
        Assert.Equal(base58, Base58.Encode(Convert.FromHexString(hex)));
        if (base58.Length > 0)
        {
            Assert.True(Base58.TryDecode(base58, out var bytes));
            Assert.Equal(hex, Convert.ToHexStringLower(bytes));
        }
    }

    [Theory]
    [InlineData("0OIl")]
    [InlineData("abc+")]
    [InlineData("")]
    public void Base58_refuses_characters_outside_the_alphabet(string text) => Assert.False(Base58.TryDecode(text, out _));

    [Fact]
    public void Well_known_program_ids_round_trip()
    {
        Assert.Equal("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA", SolanaPrograms.Token.ToString());
        Assert.Equal("11111111111111111111111111111111", SolanaPrograms.System.ToString());
        Assert.False(SolanaAddress.TryParse("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5D", out _)); // 31 bytes
    }

    [Theory]
    [InlineData(0, "00")]
    [InlineData(0x7f, "7f")]
    [InlineData(0x80, "8001")]
    [InlineData(0x3fff, "ff7f")]
    [InlineData(0x4000, "808001")]
    [InlineData(0xffff, "ffff03")]
    public void Compact_u16_matches_solana_short_vec(int value, string hex)
    {
        var output = new List<byte>();
        CompactU16.Write(output, value);
        Assert.Equal(hex, Convert.ToHexStringLower(output.ToArray()));
        Assert.True(CompactU16.TryRead(Convert.FromHexString(hex), out var read, out var length));
        Assert.Equal((value, hex.Length / 2), (read, length));
    }

    [Theory]
    [InlineData("8000")] // alias of 0
    [InlineData("ffff04")] // past u16
    [InlineData("80")] // cut off
    public void Compact_u16_refuses_aliases_overflow_and_truncation(string hex) =>
        Assert.False(CompactU16.TryRead(Convert.FromHexString(hex), out _, out _));

    [Fact]
    public void Program_derived_addresses_lie_off_the_curve_and_keys_on_it()
    {
        Assert.True(SvmTestTransactions.Payer.Address.IsOnCurve);
        var ata = SolanaAddress.AssociatedTokenAccount(SvmTestTransactions.Payer.Address, SvmTestTransactions.UsdcDevnet, SolanaPrograms.Token);
        Assert.False(ata.IsOnCurve);
    }
}
