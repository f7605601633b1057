using Sessions.Payments.Svm;
using SimpleBase;

namespace Sessions.Payments.Tests.Svm;

public sealed class Base58AndCompactU16Tests
{
    // SimpleBase's Bitcoin flavour is Solana's alphabet; leading zero bytes are '1' characters both ways.
    [Theory]
    [InlineData("", "")]
    [InlineData("00", "1")]
    [InlineData("0000", "11")]
    [InlineData("61", "2g")]
    [InlineData("626262", "a3gV")]
    [InlineData("00000000000000000000000000000000000000000000000000000000000000ff", "11111111111111111111111111111115Q")]
    public void Base58_matches_the_bitcoin_alphabet_vectors(string hex, string base58)
    {
        Assert.Equal(base58, Base58.Bitcoin.Encode(Convert.FromHexString(hex)));
        Assert.Equal(hex, Convert.ToHexStringLower(Base58.Bitcoin.Decode(base58)));
    }

    [Theory]
    [InlineData("0OIl")]
    [InlineData("abc+")]
    [InlineData("ab\u00e9")] // SimpleBase throws IndexOutOfRangeException on non-ASCII; untrusted text must get false
    [InlineData("")]
    [InlineData(null)]
    public void Base58_refuses_characters_outside_the_alphabet(string? text) => Assert.False(SolanaBase58.TryDecode(text, out _));

    [Theory]
    [InlineData("0OIl111111111111111111111111111111")] // outside the alphabet
    [InlineData("abc+111111111111111111111111111111")]
    [InlineData("é1111111111111111111111111111111111")] // not ASCII
    [InlineData("")]
    [InlineData(null)]
    [InlineData("1111111111111111111111111111111")] // 31 zero bytes
    [InlineData("111111111111111111111111111111111")] // 33 zero bytes
    [InlineData("4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDUU")] // 45 characters
    [InlineData("zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz")] // 44 characters, more than 32 bytes
    public void An_address_refuses_bad_base58_and_wrong_lengths(string? text)
    {
        Assert.False(SolanaAddress.TryParse(text, out _));
        if (text is not null)
            Assert.Equal($"'{text}' is not a base58 Solana address.", Assert.Throws<FormatException>(() => SolanaAddress.Parse(text)).Message);
    }

    [Fact]
    public void Leading_zero_bytes_of_an_address_round_trip_as_ones()
    {
        var bytes = new byte[SolanaAddress.Length];
        bytes[2] = 7;
        bytes[31] = 1;
        var text = SolanaAddress.FromBytes(bytes).ToString();
        Assert.StartsWith("11", text);
        Assert.False(text.StartsWith("111", StringComparison.Ordinal));
        Assert.Equal(bytes, SolanaAddress.Parse(text).Bytes.ToArray());
    }

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
