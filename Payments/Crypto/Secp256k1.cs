using Org.BouncyCastle.Asn1.X9;
using Org.BouncyCastle.Crypto.Digests;
using Org.BouncyCastle.Crypto.EC;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using Org.BouncyCastle.Math.EC;
using BcBigInteger = Org.BouncyCastle.Math.BigInteger;
using BcECPoint = Org.BouncyCastle.Math.EC.ECPoint;

namespace Sessions.Payments.Crypto;

/// <summary>Why a 65-byte r||s||v signature could not be turned into a signer address.</summary>
public enum SignatureError
{
    None = 0,
    /// <summary>Not "0x"-prefixed hex.</summary>
    MalformedHex,
    /// <summary>Not exactly 65 bytes (smart-wallet signatures are not supported).</summary>
    WrongLength,
    /// <summary>v is not 27, 28, 0 or 1.</summary>
    InvalidRecoveryId,
    /// <summary>r or s is zero or not below the curve order.</summary>
    ScalarOutOfRange,
    /// <summary>s is above n/2: malleable, rejected as by EIP-2 and OpenZeppelin ECDSA.</summary>
    HighS,
    /// <summary>No curve point has x = r, or the recovered key is the point at infinity.</summary>
    RecoveryFailed,
}

/// <summary>Outcome of public-key recovery: the signer, or the reason there is none.</summary>
public sealed record SignatureRecovery(EvmAddress? Signer, SignatureError Error, string? Message)
{
    public bool Succeeded => Error == SignatureError.None && Signer is not null;

    internal static SignatureRecovery Fail(SignatureError error, string message) => new(null, error, message);
}

/// <summary>secp256k1 operations Ethereum needs: ecrecover-style recovery and RFC 6979 signing.</summary>
public static class Secp256k1
{
    public const int SignatureLength = 65;
    public const int PrivateKeyLength = 32;

    // The custom curve (specialised field arithmetic and the GLV endomorphism), not SecNamedCurves' generic one: the same
    // points, about five times faster per recovery, and every paid request recovers a signature (docs/benchmarks.md).
    private static readonly X9ECParameters Curve = CustomNamedCurves.GetByName("secp256k1");
    private static readonly ECDomainParameters Domain = new(Curve.Curve, Curve.G, Curve.N, Curve.H);
    private static readonly BcBigInteger HalfN = Curve.N.ShiftRight(1);

    /// <summary>Recovers the signer of a 32-byte digest from a "0x"-prefixed 65-byte r||s||v signature.</summary>
    public static SignatureRecovery Recover(ReadOnlySpan<byte> digest, string? signatureHex)
    {
        if (!Hex.TryDecode(signatureHex, out var signature))
            return SignatureRecovery.Fail(SignatureError.MalformedHex, "signature is not 0x-prefixed hex");
        return Recover(digest, signature);
    }

    /// <summary>
    /// Recovers the signer of a 32-byte digest from r||s||v. v may be 27/28 or 0/1. High-s signatures are
    /// refused (the token contracts refuse them too, so accepting one would promise an unsettleable payment).
    /// </summary>
    public static SignatureRecovery Recover(ReadOnlySpan<byte> digest, ReadOnlySpan<byte> signature)
    {
        if (digest.Length != 32)
            throw new ArgumentException("The digest must be 32 bytes.", nameof(digest));
        if (signature.Length != SignatureLength)
            return SignatureRecovery.Fail(SignatureError.WrongLength, $"signature must be {SignatureLength} bytes, got {signature.Length}");

        int recoveryId = signature[64] switch
        {
            27 or 0 => 0,
            28 or 1 => 1,
            _ => -1,
        };
        if (recoveryId < 0)
            return SignatureRecovery.Fail(SignatureError.InvalidRecoveryId, $"signature v must be 27 or 28 (or 0/1), got {signature[64]}");

        var r = new BcBigInteger(1, signature[..32]);
        var s = new BcBigInteger(1, signature[32..64]);
        if (r.SignValue == 0 || s.SignValue == 0 || r.CompareTo(Curve.N) >= 0 || s.CompareTo(Curve.N) >= 0)
            return SignatureRecovery.Fail(SignatureError.ScalarOutOfRange, "signature r or s is outside [1, n-1]");
        if (s.CompareTo(HalfN) > 0)
            return SignatureRecovery.Fail(SignatureError.HighS, "signature s is in the upper half of the curve order (EIP-2 high-s)");

        BcECPoint rPoint;
        try
        {
            // r < n < p, so r is always a valid x; the recovery id picks the y parity.
            var compressed = new byte[33];
            compressed[0] = (byte)(0x02 | recoveryId);
            ToFixed32(r).CopyTo(compressed, 1);
            rPoint = Curve.Curve.DecodePoint(compressed);
        }
        catch (ArgumentException)
        {
            return SignatureRecovery.Fail(SignatureError.RecoveryFailed, "no curve point has x = r");
        }

        // Q = r^-1 (s*R - e*G)
        var e = new BcBigInteger(1, digest);
        var rInverse = r.ModInverse(Curve.N);
        var u1 = e.Negate().Multiply(rInverse).Mod(Curve.N);
        var u2 = s.Multiply(rInverse).Mod(Curve.N);
        var q = ECAlgorithms.SumOfTwoMultiplies(Curve.G, u1, rPoint, u2).Normalize();
        if (q.IsInfinity)
            return SignatureRecovery.Fail(SignatureError.RecoveryFailed, "recovered public key is the point at infinity");

        return new SignatureRecovery(EvmAddress.FromPublicKey(EncodeXY(q)), SignatureError.None, null);
    }

    /// <summary>
    /// Signs a 32-byte digest: RFC 6979 deterministic k (HMAC-SHA256), low-s normalised, v = 27/28.
    /// For tests and dev tooling; production keys do not live in this process.
    /// </summary>
    public static byte[] Sign(ReadOnlySpan<byte> digest, ReadOnlySpan<byte> privateKey)
    {
        if (digest.Length != 32)
            throw new ArgumentException("The digest must be 32 bytes.", nameof(digest));
        var d = ParsePrivateKey(privateKey);
        var signer = new ECDsaSigner(new HMacDsaKCalculator(new Sha256Digest()));
        signer.Init(true, new ECPrivateKeyParameters(d, Domain));
        var rs = signer.GenerateSignature(digest.ToArray());
        var r = rs[0];
        var s = rs[1];
        if (s.CompareTo(HalfN) > 0)
            s = Curve.N.Subtract(s);

        var signature = new byte[SignatureLength];
        ToFixed32(r).CopyTo(signature, 0);
        ToFixed32(s).CopyTo(signature, 32);

        // The recovery id is whichever parity gives back our own key.
        var expected = AddressOf(privateKey);
        for (byte v = 27; v <= 28; v++)
        {
            signature[64] = v;
            if (Recover(digest, signature).Signer == expected)
                return signature;
        }
        throw new InvalidOperationException("Could not determine the recovery id of a fresh signature.");
    }

    /// <summary>The 64-byte uncompressed public key X||Y of a private key.</summary>
    public static byte[] PublicKeyOf(ReadOnlySpan<byte> privateKey)
    {
        var d = ParsePrivateKey(privateKey);
        return EncodeXY(Curve.G.Multiply(d).Normalize());
    }

    public static EvmAddress AddressOf(ReadOnlySpan<byte> privateKey) => EvmAddress.FromPublicKey(PublicKeyOf(privateKey));

    /// <summary>Parses a "0x"-prefixed 32-byte private key.</summary>
    public static byte[] ParsePrivateKeyHex(string hex)
    {
        if (!Hex.TryDecodeFixed(hex, PrivateKeyLength, out var bytes))
            throw new FormatException("A private key is \"0x\" followed by 64 hex digits.");
        ParsePrivateKey(bytes);
        return bytes;
    }

    private static BcBigInteger ParsePrivateKey(ReadOnlySpan<byte> privateKey)
    {
        if (privateKey.Length != PrivateKeyLength)
            throw new ArgumentException($"A private key is {PrivateKeyLength} bytes.", nameof(privateKey));
        var d = new BcBigInteger(1, privateKey);
        if (d.SignValue == 0 || d.CompareTo(Curve.N) >= 0)
            throw new ArgumentException("The private key is outside [1, n-1].", nameof(privateKey));
        return d;
    }

    private static byte[] EncodeXY(BcECPoint point)
    {
        var xy = new byte[64];
        point.AffineXCoord.GetEncoded().CopyTo(xy, 0);
        point.AffineYCoord.GetEncoded().CopyTo(xy, 32);
        return xy;
    }

    private static byte[] ToFixed32(BcBigInteger value)
    {
        var raw = value.ToByteArrayUnsigned();
        if (raw.Length == 32)
            return raw;
        var padded = new byte[32];
        raw.CopyTo(padded, 32 - raw.Length);
        return padded;
    }
}
