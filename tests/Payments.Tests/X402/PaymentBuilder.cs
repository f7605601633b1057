using System.Numerics;
using System.Text.Json;
using Sessions.Payments.Crypto;
using Sessions.Payments.Eip712;
using Sessions.Payments.X402;

namespace Sessions.Payments.Tests.X402;

/// <summary>Builds signed x402 exact-EVM payments for tests, like an @x402/evm client would.</summary>
internal static class PaymentBuilder
{
    public static readonly byte[] PayerKey = Secp256k1.ParsePrivateKeyHex(TestVectors.HardhatKey0);
    public static readonly EvmAddress Payer = Secp256k1.AddressOf(PayerKey);
    public const string PayTo = TestVectors.To;
    public const long Now = 1_800_000_000;

    public static PaymentRequirements Requirements(string amount = "10000", string name = "USDC", string version = "2") => new()
    {
        Scheme = "exact",
        Network = Networks.BaseSepolia,
        Amount = amount,
        Asset = KnownAssets.UsdcBaseSepolia.Address.ToString(),
        PayTo = PayTo,
        MaxTimeoutSeconds = 300,
        Extra = X402Json.Eip3009Extra(name, version),
    };

    public static PaymentRequirementsV1 RequirementsV1(string amount = "10000") => new()
    {
        Scheme = "exact",
        Network = "base-sepolia",
        MaxAmountRequired = amount,
        Asset = KnownAssets.UsdcBaseSepolia.Address.ToString(),
        PayTo = PayTo,
        Resource = "https://api.example.com/weather",
        Description = "Weather",
        MimeType = "application/json",
        MaxTimeoutSeconds = 300,
        Extra = X402Json.Eip3009Extra("USDC", "2"),
    };

    /// <summary>An authorization signed over the base-sepolia USDC domain (or another one).</summary>
    public static ExactEvmPayload Sign(
        BigInteger? value = null, long validAfter = Now - 60, long validBefore = Now + 240, string to = PayTo,
        string domainName = "USDC", long chainId = 84532, byte[]? key = null, string? nonce = null)
    {
        key ??= PayerKey;
        var message = new TransferWithAuthorization(Secp256k1.AddressOf(key), EvmAddress.Parse(to), value ?? 10000, validAfter, validBefore,
            Bytes32.Parse(nonce ?? Hex.Encode(Keccak256.HashUtf8($"nonce {validAfter} {validBefore} {value}"))));
        var domain = TransferWithAuthorization.Domain(domainName, "2", chainId, KnownAssets.UsdcBaseSepolia.Address);
        return new ExactEvmPayload
        {
            Signature = Hex.Encode(message.Sign(domain, key)),
            Authorization = new ExactEvmAuthorization
            {
                From = message.From.ToString(),
                To = to,
                Value = message.Value.ToString(),
                ValidAfter = validAfter.ToString(),
                ValidBefore = validBefore.ToString(),
                Nonce = message.Nonce.ToString(),
            },
        };
    }

    public static PaymentPayload PayloadV2(ExactEvmPayload exact, PaymentRequirements? accepted = null) => new()
    {
        Resource = new ResourceInfo { Url = "https://api.example.com/weather" },
        Accepted = accepted ?? Requirements(),
        Payload = exact.ToJsonElement(),
    };

    public static PaymentPayloadV1 PayloadV1(ExactEvmPayload exact, string network = "base-sepolia", string scheme = "exact") => new()
    {
        Scheme = scheme,
        Network = network,
        Payload = exact.ToJsonElement(),
    };

    public static JsonElement Json(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }
}
