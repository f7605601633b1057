using System.Numerics;
using Sessions.Payments.Crypto;
using Sessions.Payments.Eip712;

namespace Sessions.Payments.Tests;

/// <summary>Vectors A and B of shared/docs/PROTOCOLS.md §1 (the x402 spec's example authorization).</summary>
internal static class TestVectors
{
    public const string FromA = "0x857b06519E91e3A54538791bDbb0E22373e36b66";
    public const string To = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C";
    public const string Nonce = "0xf3746613c2d920b5fdabc0856f2aeb2d4f88ee6037b8cc5d04a71a4462f13480";
    public const long ValidAfter = 1740672089;
    public const long ValidBefore = 1740672154;
    public const string UsdcBaseSepolia = "0x036CbD53842c5426634e7929541eC2318f3dCF7e";
    public const string SignatureA = "0x2d6a7588d6acca505cbf0d9a4a227e0c52c6c34008c8e8986a1283259764173608a2ce6496642e377d6da8dbbf5836e9bd15092f9ecab05ded3d6293af148b571c";

    public const string TransferTypeHash = "0x7c7c6cdb67a18743f49ec6fa9b35f50d52ed05cbed4cc592e13b44501c1a2267";
    public const string DomainTypeHash = "0x8b73c3c69bb8fe3d512ecc4cf759cc79239f7b179b0ffacaa9a75d522b39400f";
    public const string StructHashA = "0x49ad644555c7bdf3ea4fc022a4940ae5589b230b1dde0065c5504fa19bbe39a4";
    public const string DomainSeparator = "0x71f17a3b2ff373b803d70a5a07c046c1a2bc8e89c09ef722fcb047abe94c9818";
    public const string DigestA = "0xf256992871671abcb27ff92885a7afa46218724e5fc0bac35d050115aa1d22e6";

    public const string HardhatKey0 = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
    public const string HardhatAddress0 = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
    public const string DigestB = "0x50708d3bf7216e1aeabe7bf22081b9f36c7c287530f92510318f13a03d89dc86";
    public const string SignatureB = "0xdc53a4a579de989368a0fae2ef2172ff2f474b4297013f865d171239f17ef4c3157b4b4030f1bebc53d55ace15c2377dff501a60e1e56c291f1000d6e78f082f1b";

    public static Eip712Domain DomainA { get; } = TransferWithAuthorization.Domain("USDC", "2", 84532, EvmAddress.Parse(UsdcBaseSepolia));

    public static TransferWithAuthorization MessageFrom(string from) => new(
        EvmAddress.Parse(from), EvmAddress.Parse(To), new BigInteger(10000), ValidAfter, ValidBefore, Bytes32.Parse(Nonce));

    public static TransferWithAuthorization MessageA => MessageFrom(FromA);

    public static TransferWithAuthorization MessageB => MessageFrom(HardhatAddress0);

    public static string ToHex(byte[] bytes) => Hex.Encode(bytes);
}
