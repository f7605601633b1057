using System.Security.Cryptography;
using System.Text;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using Sessions.Payments.Mpp;

namespace Sessions.Payments.Receipts;

/// <summary>
/// An Ed25519 key pair (RFC 8032) from a 32-byte seed; <see cref="Kid"/> is the RFC 7638 thumbprint of its public JWK,
/// so anyone holding the JWK recomputes the id.
/// </summary>
public sealed class Ed25519Key
{
    readonly Ed25519PrivateKeyParameters privateKey;

    public Ed25519Key(ReadOnlySpan<byte> seed)
    {
        if (seed.Length != Ed25519PrivateKeyParameters.KeySize)
            throw new ArgumentException("An Ed25519 seed is 32 bytes.", nameof(seed));
        privateKey = new Ed25519PrivateKeyParameters(seed.ToArray());
        PublicKey = privateKey.GeneratePublicKey().GetEncoded();
        Jwk = Jwk.ForEd25519(PublicKey);
        Kid = Jwk.Kid!;
    }

    /// <summary>The key of a secret text (a configured passphrase): seed = SHA-256 of its UTF-8 bytes.</summary>
    public static Ed25519Key FromSecret(string secret) => new(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    public static Ed25519Key Generate() => new(RandomNumberGenerator.GetBytes(32));

    /// <summary>The 32-byte public key.</summary>
    public byte[] PublicKey { get; }

    /// <summary>The public JWK (kty OKP, crv Ed25519, x, kid, alg EdDSA, use sig).</summary>
    public Jwk Jwk { get; }

    public string Kid { get; }

    public byte[] Sign(ReadOnlySpan<byte> message)
    {
        var signer = new Ed25519Signer();
        signer.Init(true, privateKey);
        signer.BlockUpdate(message);
        return signer.GenerateSignature();
    }

    public static bool Verify(ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature)
    {
        if (publicKey.Length != Ed25519PublicKeyParameters.KeySize || signature.Length != 64)
            return false;
        var verifier = new Ed25519Signer();
        verifier.Init(false, new Ed25519PublicKeyParameters(publicKey));
        verifier.BlockUpdate(message);
        return verifier.VerifySignature(signature.ToArray());
    }

    internal static string Thumbprint(string x) =>
        // RFC 8037 §2 + RFC 7638 §3.2: the required members of an OKP key, sorted, no whitespace.
        Base64Url.Encode(SHA256.HashData(Encoding.UTF8.GetBytes($"{{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\"{x}\"}}")));
}
