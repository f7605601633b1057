using System.Security.Cryptography;
using Sessions.Payments.Crypto;

namespace Interop.Tests;

/// <summary>A throw-away EVM key pair: the Node scripts sign with the key, the ledger is checked for the address.</summary>
public sealed record Wallet(string PrivateKey, string Address)
{
    public string AddressLower => Address.ToLowerInvariant();

    public static Wallet Create()
    {
        while (true)
        {
            var key = RandomNumberGenerator.GetBytes(Secp256k1.PrivateKeyLength);
            try
            {
                return new Wallet(Hex.Encode(key), Secp256k1.AddressOf(key).ToChecksumString());
            }
            catch (ArgumentException)
            {
                // Zero or >= the curve order: astronomically unlikely, draw again.
            }
        }
    }
}
