using System.Security.Cryptography;
using System.Text;
using NSec.Cryptography;
using Sessions.Payments.Mpp;

namespace Sessions.Payments.Receipts;

/// <summary>
/// An Ed25519 key pair (RFC 8032) from a 32-byte seed; <see cref="Kid"/> is the RFC 7638 thumbprint of its public JWK,
/// so anyone holding the JWK recomputes the id. The project's one Ed25519 (receipts, checkpoints, Solana signatures):
/// libsodium through NSec: about half the CPU of BouncyCastle's managed Ed25519 per signature on the gate's charged path.
/// </summary>
public sealed class Ed25519Key
{
    public const int SeedSize = 32;
    public const int PublicKeySize = 32;
    public const int SignatureSize = 64;

    static readonly SignatureAlgorithm Algorithm = SignatureAlgorithm.Ed25519;

    // libsodium memory, freed by its SafeHandle when the key is collected (keys live as long as the gate or the signer).
    readonly Key privateKey;

    public Ed25519Key(ReadOnlySpan<byte> seed)
    {
        if (seed.Length != SeedSize)
            throw new ArgumentException("An Ed25519 seed is 32 bytes.", nameof(seed));
        privateKey = Key.Import(Algorithm, seed, KeyBlobFormat.RawPrivateKey);
        PublicKey = privateKey.PublicKey.Export(KeyBlobFormat.RawPublicKey);
        Jwk = Jwk.ForEd25519(PublicKey);
        Kid = Jwk.Kid!;
    }

    /// <summary>The key of a secret text (a configured passphrase): seed = SHA-256 of its UTF-8 bytes.</summary>
    public static Ed25519Key FromSecret(string secret) => new(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    public static Ed25519Key Generate() => new(RandomNumberGenerator.GetBytes(SeedSize));

    /// <summary>The 32-byte public key.</summary>
    public byte[] PublicKey { get; }

    /// <summary>The public JWK (kty OKP, crv Ed25519, x, kid, alg EdDSA, use sig).</summary>
    public Jwk Jwk { get; }

    public string Kid { get; }

    /// <summary>The 64-byte signature; deterministic (RFC 8032): one key and message always give the same bytes.</summary>
    public byte[] Sign(ReadOnlySpan<byte> message) => Algorithm.Sign(privateKey, message);

    /// <summary>
    /// libsodium's verification: besides the equation it rejects a non-canonical S or key and a small-order key or R
    /// (as ed25519-dalek's verify_strict does); signatures made by RFC 8032 signers are unaffected.
    /// </summary>
    public static bool Verify(ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature) =>
        publicKey.Length == PublicKeySize && signature.Length == SignatureSize
        && NSec.Cryptography.PublicKey.TryImport(Algorithm, publicKey, KeyBlobFormat.RawPublicKey, out var key)
        && Algorithm.Verify(key!, message, signature);

    internal static string Thumbprint(string x) =>
        // RFC 8037 §2 + RFC 7638 §3.2: the required members of an OKP key, sorted, no whitespace.
        Base64Url.Encode(SHA256.HashData(Encoding.UTF8.GetBytes($"{{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\"{x}\"}}")));
}
