using System.Numerics;
using Sessions.Payments.Crypto;
using Sessions.Payments.Eip712;
using Sessions.SessionApi.Mandates;

namespace SessionApi.Tests.Mandates;

// Cross-check with viem 2.57.20 (tests/Interop/node_modules): hashTypedData / signTypedData of the documented types, for keys
// 0x11…11 (user) and 0x22…22 (agent). Generated once with a Node script (see the test names); viem signatures are
// deterministic (RFC 6979), so ours must be byte-identical.
public sealed class MandateTypedDataTests
{
    static readonly byte[] UserKey = Hex.TryDecode("0x" + string.Concat(Enumerable.Repeat("11", 32)), out var k) ? k : [];

    static MandateTerms Terms(params string[] merchants) => new(EvmAddress.Parse("0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A"),
        EvmAddress.Parse("0x1563915e194D8CfBA1943570603F7606A3115508"), new BigInteger(50000), new BigInteger(1000000), null, null,
        new BigInteger(100000), merchants, 1796126400, Bytes32.Parse("0x" + string.Concat(Enumerable.Repeat("ab", 32))));

    [Fact]
    public void Mandate_digest_and_signature_match_viem_including_the_string_array()
    {
        var digest = MandateTypedData.Digest(Terms("demo", "acme"));
        Assert.Equal("0xf4b6fb642cab8da8394f19eb9bc9884ceeaf13d62ebf4b39bc0f7ac4ff61e65a", Hex.Encode(digest));
        Assert.Equal("0x043bf213a85179aeb9cb861bf3cf3e8de0ba156d541d50c75fd27ed52d408ad4", Hex.Encode(MandateTypedData.Digest(Terms())));
        const string viemSignature = "0x4f484bd394457f82049d16527e22b398e8ee404b12405449e75673d6f2adc4160420e1a48b04f688cda87689f9fc37856d77c0a54d8cb04b3fa60e235b1b550c1c";
        Assert.Equal(viemSignature, Hex.Encode(Secp256k1.Sign(digest, UserKey)));
        Assert.Equal(SignatureCheck.Valid, MandateTypedData.Check(digest, viemSignature, Terms().User));
        Assert.Equal(SignatureCheck.WrongSigner, MandateTypedData.Check(digest, viemSignature, Terms().Agent));
        // Merchant order is part of the signed terms.
        Assert.NotEqual(digest, MandateTypedData.Digest(Terms("acme", "demo")));
    }

    [Fact]
    public void Revoke_and_decision_signatures_from_viem_verify()
    {
        var user = Terms().User;
        Assert.Equal(SignatureCheck.Valid, MandateTypedData.Check(MandateTypedData.RevokeDigest("man_0123456789abcdef0123456789abcdef", 1796040000),
            "0x15f97c62ffbe1cad43efc5f457956c6664b3fb62d9e170499fd59d88492d093233bf19a7bd5d4e900eb9e843da4bc51216857701996c4647c679d9795306d4d71b", user));
        var decision = "0x221fd65b7e227b486f640b8e47ca50d518c323dd2e8b18debba8e0d1ed0a4861792b344ca312a1cfd177680b15c5b0dd1b2e9d8b21e94becc2fce11fdbb3723e1c";
        Assert.Equal(SignatureCheck.Valid,
            MandateTypedData.Check(MandateTypedData.DecisionDigest("apr_0123456789abcdef0123456789abcdef", "approve", 1796040000), decision, user));
        Assert.Equal(SignatureCheck.WrongSigner,
            MandateTypedData.Check(MandateTypedData.DecisionDigest("apr_0123456789abcdef0123456789abcdef", "deny", 1796040000), decision, user));
    }

    [Fact]
    public void Read_signature_from_viem_verifies()
    {
        // node tests/Interop/mandate-sign.mjs 0x11…11 ReadMandates '{"user":"0x19E7…","timestamp":1796040000}'
        const string viemSignature = "0xba7a0eed0b2f57f398fc1b35b69c902c43c4b1b9be7443b21006ad6d2d9b7c6f19421f8be13d002346c84cc0d65ffd1eb03b8619d216a0637d9fceec4a26cbfa1b";
        var user = Terms().User;
        Assert.Equal(viemSignature, Hex.Encode(Secp256k1.Sign(MandateTypedData.ReadDigest(user, 1796040000), UserKey)));
        Assert.Equal(SignatureCheck.Valid, MandateTypedData.Check(MandateTypedData.ReadDigest(user, 1796040000), viemSignature, user));
        Assert.Equal(SignatureCheck.WrongSigner, MandateTypedData.Check(MandateTypedData.ReadDigest(user, 1796040001), viemSignature, user));
    }
}
