using System.Numerics;
using System.Security.Cryptography;
using Sessions.Payments.Crypto;
using Sessions.Payments.Eip712;
using Sessions.Payments.X402;

namespace PaymentGate.Tests.Facilitator;

/// <summary>A payer with its own random key, signing exact-EVM (EIP-3009) payments against the real clock, as @x402/evm clients do.</summary>
public sealed class TestPayer
{
    public const string PayTo = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C";

    public TestPayer()
    {
        // A random 32-byte value is a valid secp256k1 key except with negligible probability (>= n or zero).
        Key = RandomNumberGenerator.GetBytes(32);
        Address = Secp256k1.AddressOf(Key);
    }

    public byte[] Key { get; }
    public EvmAddress Address { get; }
    public string Lower => Address.ToLowerHex();

    public static PaymentRequirements Requirements(string amount = "10000", string network = Networks.BaseSepolia, string payTo = PayTo,
        string name = "USDC", string version = "2", string scheme = "exact", string? asset = null) => new()
    {
        Scheme = scheme,
        Network = network,
        Amount = amount,
        Asset = asset ?? KnownAssets.UsdcBaseSepolia.Address.ToString(),
        PayTo = payTo,
        MaxTimeoutSeconds = 300,
        Extra = X402Json.Eip3009Extra(name, version),
    };

    public static PaymentRequirementsV1 RequirementsV1(string amount = "10000", string network = "base-sepolia") => new()
    {
        Scheme = "exact",
        Network = network,
        MaxAmountRequired = amount,
        Asset = KnownAssets.UsdcBaseSepolia.Address.ToString(),
        PayTo = PayTo,
        Resource = "http://localhost/api/content/a",
        MaxTimeoutSeconds = 300,
        Extra = X402Json.Eip3009Extra("USDC", "2"),
    };

    /// <summary>A signed authorization; every argument can be bent to make one check fail.</summary>
    public ExactEvmPayload Sign(BigInteger? value = null, string to = PayTo, long? validAfter = null, long? validBefore = null,
        string domainName = "USDC", long chainId = 84532, string? asset = null, byte[]? signingKey = null, string? nonce = null)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var message = new TransferWithAuthorization(Address, EvmAddress.Parse(to), value ?? 10000, validAfter ?? now - 60, validBefore ?? now + 300,
            nonce is null ? Bytes32.FromBytes(RandomNumberGenerator.GetBytes(32)) : Bytes32.Parse(nonce));
        var domain = TransferWithAuthorization.Domain(domainName, "2", chainId, asset is null ? KnownAssets.UsdcBaseSepolia.Address : EvmAddress.Parse(asset));
        return new ExactEvmPayload
        {
            Signature = Hex.Encode(message.Sign(domain, signingKey ?? Key)),
            Authorization = new ExactEvmAuthorization
            {
                From = Address.ToString(),
                To = to,
                Value = message.Value.ToString(),
                ValidAfter = message.ValidAfter.ToString(),
                ValidBefore = message.ValidBefore.ToString(),
                Nonce = message.Nonce.ToString(),
            },
        };
    }

    /// <summary>A v2 facilitator request whose payload accepted <paramref name="requirements"/>.</summary>
    public static VerifyRequest V2(ExactEvmPayload exact, PaymentRequirements? requirements = null, PaymentRequirements? accepted = null)
    {
        requirements ??= Requirements();
        var payload = new PaymentPayload
        {
            Resource = new ResourceInfo { Url = "http://localhost/api/content/a" },
            Accepted = accepted ?? requirements,
            Payload = exact.ToJsonElement(),
        };
        return X402Json.VerifyRequestFor(payload, requirements);
    }

    public static VerifyRequest V1(ExactEvmPayload exact, PaymentRequirementsV1? requirements = null, string network = "base-sepolia")
    {
        var payload = new PaymentPayloadV1 { Scheme = "exact", Network = network, Payload = exact.ToJsonElement() };
        return X402Json.VerifyRequestFor(payload, requirements ?? RequirementsV1());
    }

    public static SettleRequest ToSettle(VerifyRequest request) => new()
    {
        X402Version = request.X402Version,
        PaymentPayload = request.PaymentPayload,
        PaymentRequirements = request.PaymentRequirements,
    };
}
