using System.Numerics;
using Sessions.Payments.Crypto;
using static Sessions.Payments.Tests.TestVectors;

namespace Sessions.Payments.Tests.Crypto;

public sealed class Secp256k1Tests
{
    private static readonly BigInteger N = BigInteger.Parse("0FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141", System.Globalization.NumberStyles.HexNumber);

    private static byte[] DigestA => Hex.TryDecode(TestVectors.DigestA, out var d) ? d : throw new InvalidOperationException();

    private static byte[] SigA => Hex.TryDecode(SignatureA, out var s) ? s : throw new InvalidOperationException();

    private static byte[] Word(BigInteger value)
    {
        var word = new byte[32];
        value.TryWriteBytes(word.AsSpan(32 - value.GetByteCount(true)), out _, isUnsigned: true, isBigEndian: true);
        return word;
    }

    [Fact]
    public void Recovery_ids_0_and_1_are_accepted_like_27_and_28()
    {
        var signature = SigA;
        signature[64] -= 27;
        Assert.InRange(signature[64], 0, 1);
        var recovery = Secp256k1.Recover(DigestA, signature);
        Assert.True(recovery.Succeeded);
        Assert.Equal(EvmAddress.Parse(FromA), recovery.Signer);
    }

    [Fact]
    public void Flipping_the_recovery_id_yields_another_address()
    {
        var signature = SigA;
        signature[64] = (byte)(signature[64] == 27 ? 28 : 27);
        var recovery = Secp256k1.Recover(DigestA, signature);
        Assert.True(recovery.Succeeded);
        Assert.NotEqual(EvmAddress.Parse(FromA), recovery.Signer);
    }

    [Fact]
    public void High_s_twin_of_a_valid_signature_is_refused_with_its_own_error()
    {
        // (r, n - s, flipped v) is the malleable twin: mathematically valid, refused by EIP-2 and by the token.
        var signature = SigA;
        var s = new BigInteger(signature.AsSpan(32, 32), isUnsigned: true, isBigEndian: true);
        Word(N - s).CopyTo(signature, 32);
        signature[64] = (byte)(signature[64] == 27 ? 28 : 27);

        var recovery = Secp256k1.Recover(DigestA, signature);
        Assert.False(recovery.Succeeded);
        Assert.Equal(SignatureError.HighS, recovery.Error);
        Assert.Null(recovery.Signer);
        Assert.Contains("high-s", recovery.Message);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(26)]
    [InlineData(29)]
    [InlineData(35)]
    public void Other_v_values_are_refused(byte v)
    {
        var signature = SigA;
        signature[64] = v;
        Assert.Equal(SignatureError.InvalidRecoveryId, Secp256k1.Recover(DigestA, signature).Error);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(64)]
    [InlineData(66)]
    [InlineData(130)]
    public void Lengths_other_than_65_are_refused(int length) =>
        Assert.Equal(SignatureError.WrongLength, Secp256k1.Recover(DigestA, new byte[length]).Error);

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("2d6a7588")]
    [InlineData("0x2d6a758")]
    [InlineData("0xzz")]
    public void Malformed_hex_is_refused(string? hex) =>
        Assert.Equal(SignatureError.MalformedHex, Secp256k1.Recover(DigestA, hex).Error);

    [Fact]
    public void Hex_of_the_wrong_length_is_a_length_error() =>
        Assert.Equal(SignatureError.WrongLength, Secp256k1.Recover(DigestA, SignatureA[..^2]).Error);

    [Fact]
    public void Zero_or_out_of_range_scalars_are_refused()
    {
        var zeroR = SigA;
        Array.Clear(zeroR, 0, 32);
        Assert.Equal(SignatureError.ScalarOutOfRange, Secp256k1.Recover(DigestA, zeroR).Error);

        var zeroS = SigA;
        Array.Clear(zeroS, 32, 32);
        Assert.Equal(SignatureError.ScalarOutOfRange, Secp256k1.Recover(DigestA, zeroS).Error);

        var rIsN = SigA;
        Word(N).CopyTo(rIsN, 0);
        Assert.Equal(SignatureError.ScalarOutOfRange, Secp256k1.Recover(DigestA, rIsN).Error);
    }

    [Fact]
    public void An_r_that_is_no_point_x_coordinate_fails_recovery()
    {
        // About half of all x have no point on the curve; find a small one.
        var found = false;
        for (var r = 1; r < 64 && !found; r++)
        {
            var signature = SigA;
            Word(r).CopyTo(signature, 0);
            found = Secp256k1.Recover(DigestA, signature).Error == SignatureError.RecoveryFailed;
        }
        Assert.True(found);
    }

    [Fact]
    public void Signing_is_deterministic_low_s_and_recoverable()
    {
        var key = Secp256k1.ParsePrivateKeyHex(HardhatKey0);
        var address = Secp256k1.AddressOf(key);
        for (var i = 0; i < 40; i++)
        {
            var digest = Keccak256.HashUtf8($"message {i}");
            var signature = Secp256k1.Sign(digest, key);
            Assert.Equal(signature, Secp256k1.Sign(digest, key));
            Assert.InRange(signature[64], 27, 28);
            Assert.True(new BigInteger(signature.AsSpan(32, 32), isUnsigned: true, isBigEndian: true) <= N / 2);
            Assert.Equal(address, Secp256k1.Recover(digest, signature).Signer);
        }
    }

    [Fact]
    public void Private_key_to_address()
    {
        Assert.Equal(HardhatAddress0, Secp256k1.AddressOf(Secp256k1.ParsePrivateKeyHex(HardhatKey0)).ToChecksumString());
        // Hardhat/Anvil account #1.
        Assert.Equal("0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
            Secp256k1.AddressOf(Secp256k1.ParsePrivateKeyHex("0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d")).ToChecksumString());
    }

    [Fact]
    public void Invalid_private_keys_are_refused()
    {
        Assert.Throws<FormatException>(() => Secp256k1.ParsePrivateKeyHex("0x1234"));
        Assert.Throws<ArgumentException>(() => Secp256k1.AddressOf(new byte[32]));
        Assert.Throws<ArgumentException>(() => Secp256k1.AddressOf(Word(N)));
        Assert.Throws<ArgumentException>(() => Secp256k1.Sign(new byte[31], Secp256k1.ParsePrivateKeyHex(HardhatKey0)));
    }
}
