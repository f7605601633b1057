using Sessions.Payments.Crypto;
using Sessions.Payments.Eip712;
using static Sessions.Payments.Tests.TestVectors;

namespace Sessions.Payments.Tests.Eip712;

public sealed class TransferWithAuthorizationVectorTests
{
    [Fact]
    public void Transfer_type_encodes_and_hashes_as_in_EIP_3009()
    {
        Assert.Equal(
            "TransferWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)",
            TransferWithAuthorization.Types.EncodeType(TransferWithAuthorization.PrimaryType));
        Assert.Equal(TransferTypeHash, ToHex(TransferWithAuthorization.Types.TypeHash(TransferWithAuthorization.PrimaryType)));
    }

    [Fact]
    public void Domain_type_hash_matches_vector_A()
    {
        Assert.Equal("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)", DomainA.EncodeType());
        Assert.Equal(DomainTypeHash, ToHex(DomainA.TypeHash()));
    }

    [Fact]
    public void Vector_A_struct_hash_domain_separator_and_digest()
    {
        Assert.Equal(StructHashA, ToHex(MessageA.HashStruct()));
        Assert.Equal(DomainSeparator, ToHex(DomainA.Separator()));
        Assert.Equal(DigestA, ToHex(MessageA.Digest(DomainA)));
    }

    [Fact]
    public void Vector_A_signature_recovers_the_payer()
    {
        var recovery = MessageA.RecoverSigner(DomainA, SignatureA);
        Assert.True(recovery.Succeeded, recovery.Message);
        Assert.Equal(EvmAddress.Parse(FromA), recovery.Signer);
        Assert.Equal(FromA, recovery.Signer!.ToChecksumString());
    }

    [Fact]
    public void Vector_A_signature_under_the_mainnet_token_name_recovers_someone_else()
    {
        var wrongDomain = DomainA with { Name = "USD Coin" };
        var recovery = MessageA.RecoverSigner(wrongDomain, SignatureA);
        Assert.True(recovery.Succeeded);
        Assert.NotEqual(EvmAddress.Parse(FromA), recovery.Signer);
    }

    [Fact]
    public void Vector_B_digest_and_deterministic_signature_from_hardhat_key_0()
    {
        var key = Secp256k1.ParsePrivateKeyHex(HardhatKey0);
        Assert.Equal(HardhatAddress0, Secp256k1.AddressOf(key).ToChecksumString());
        Assert.Equal(DigestB, ToHex(MessageB.Digest(DomainA)));

        var signature = MessageB.Sign(DomainA, key);
        Assert.Equal(SignatureB, ToHex(signature));
        Assert.Equal(EvmAddress.Parse(HardhatAddress0), MessageB.RecoverSigner(DomainA, ToHex(signature)).Signer);
    }

    [Fact]
    public void Vector_A_through_the_general_encoder_matches_the_record()
    {
        var digest = Eip712Hasher.HashTypedData(DomainA, TransferWithAuthorization.Types, TransferWithAuthorization.PrimaryType,
            new Dictionary<string, object?>
            {
                ["from"] = FromA.ToLowerInvariant(),
                ["to"] = To,
                ["value"] = "10000",
                ["validAfter"] = ValidAfter,
                ["validBefore"] = (ulong)ValidBefore,
                ["nonce"] = Nonce,
            });
        Assert.Equal(DigestA, ToHex(digest));
    }
}
