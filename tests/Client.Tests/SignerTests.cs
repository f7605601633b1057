using Sessions.Client;
using Sessions.Payments.Crypto;
using Sessions.Payments.Eip712;

namespace Client.Tests;

// PROTOCOLS.md §1, test vectors A (message, domain) and B (Hardhat key #0): the signature viem makes for the same message.
public sealed class SignerTests
{
    const string HardhatKey0 = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

    static readonly TransferWithAuthorization VectorMessage = new(
        EvmAddress.Parse("0x857b06519E91e3A54538791bDbb0E22373e36b66"), EvmAddress.Parse("0x209693Bc6afc0C5328bA36FaF03C514EF312287C"),
        10000, 1740672089, 1740672154, Bytes32.Parse("0xf3746613c2d920b5fdabc0856f2aeb2d4f88ee6037b8cc5d04a71a4462f13480"));

    static readonly Eip712Domain VectorDomain =
        TransferWithAuthorization.Domain("USDC", "2", 84532, EvmAddress.Parse("0x036CbD53842c5426634e7929541eC2318f3dCF7e"));

    [Fact]
    public async Task LocalKeySigner_signs_test_vector_B_exactly()
    {
        IPaymentSigner signer = new LocalKeySigner(HardhatKey0);
        // Vector B is vector A's message signed by key #0 for itself: from = key #0's address.
        var message = VectorMessage with { From = signer.Address };
        var digest = message.Digest(VectorDomain);

        var signature = await signer.SignDigestAsync(digest, TestContext.Current.CancellationToken);

        Assert.Equal("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", signer.Address.ToChecksumString());
        Assert.Equal("0x50708d3bf7216e1aeabe7bf22081b9f36c7c287530f92510318f13a03d89dc86", Hex.Encode(digest));
        Assert.Equal("0xdc53a4a579de989368a0fae2ef2172ff2f474b4297013f865d171239f17ef4c3157b4b4030f1bebc53d55ace15c2377dff501a60e1e56c291f1000d6e78f082f1b",
            Hex.Encode(signature));
        Assert.Equal(signer.Address, message.RecoverSigner(VectorDomain, Hex.Encode(signature)).Signer);
    }

    [Fact]
    public void Vector_A_message_hashes_to_the_shared_digest()
    {
        Assert.Equal("0xf256992871671abcb27ff92885a7afa46218724e5fc0bac35d050115aa1d22e6", Hex.Encode(VectorMessage.Digest(VectorDomain)));
    }

    [Fact]
    public void LocalKeySigner_refuses_a_key_that_is_not_32_bytes_of_hex()
    {
        Assert.Throws<FormatException>(() => new LocalKeySigner("0x1234"));
        Assert.Throws<FormatException>(() => new LocalKeySigner(HardhatKey0[2..]));
    }
}
