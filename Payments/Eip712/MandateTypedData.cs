using System.Numerics;
using Sessions.Payments.Crypto;

namespace Sessions.Payments.Eip712;

/// <summary>The signed terms of a mandate, as they are hashed (absent limits are 0 here, "no limit").</summary>
public sealed record MandateTerms(EvmAddress User, EvmAddress Agent, BigInteger? MaxPerTransaction, BigInteger? MaxPerDay,
    BigInteger? MaxPerWeek, BigInteger? MaxPerMonth, BigInteger? RequireApprovalAbove, IReadOnlyList<string> AllowedMerchants,
    long ExpiresAt, Bytes32 Nonce);

/// <summary>
/// The EIP-712 messages users sign (docs/mandates.md has the exact definitions and a viem example):
/// domain <c>{name: "Sessions Mandate", version: "1", chainId: 84532}</c> (no verifying contract: nothing is on chain),
/// <c>Mandate(...)</c> for consent (signed by the user and by the agent), <c>Revoke(string mandateId,uint256 timestamp)</c>
/// and <c>ApprovalDecision(string approvalId,string decision,uint256 timestamp)</c> by the user, and
/// <c>ReadMandates(address user,uint256 timestamp)</c> for the user's reads through the gate.
/// </summary>
public static class MandateTypedData
{
    public const string DomainName = "Sessions Mandate";
    public const string DomainVersion = "1";
    public const long ChainId = 84532;   // Base Sepolia, the network the gate's USDC lives on

    public static readonly Eip712Domain Domain = new(DomainName, DomainVersion, ChainId);

    public static readonly Eip712TypeSet Types = Eip712TypeSet.Create(
        ("Mandate",
        [
            new("user", "address"), new("agent", "address"),
            new("maxPerTransaction", "uint256"), new("maxPerDay", "uint256"), new("maxPerWeek", "uint256"), new("maxPerMonth", "uint256"),
            new("requireApprovalAbove", "uint256"), new("allowedMerchants", "string[]"), new("expiresAt", "uint256"), new("nonce", "bytes32"),
        ]),
        ("Revoke", [new("mandateId", "string"), new("timestamp", "uint256")]),
        ("ApprovalDecision", [new("approvalId", "string"), new("decision", "string"), new("timestamp", "uint256")]),
        ("ReadMandates", [new("user", "address"), new("timestamp", "uint256")]));

    public static IReadOnlyDictionary<string, object?> Message(MandateTerms terms) => new Dictionary<string, object?>(StringComparer.Ordinal)
    {
        ["user"] = terms.User,
        ["agent"] = terms.Agent,
        ["maxPerTransaction"] = terms.MaxPerTransaction ?? BigInteger.Zero,
        ["maxPerDay"] = terms.MaxPerDay ?? BigInteger.Zero,
        ["maxPerWeek"] = terms.MaxPerWeek ?? BigInteger.Zero,
        ["maxPerMonth"] = terms.MaxPerMonth ?? BigInteger.Zero,
        ["requireApprovalAbove"] = terms.RequireApprovalAbove ?? BigInteger.Zero,
        ["allowedMerchants"] = terms.AllowedMerchants,
        ["expiresAt"] = new BigInteger(terms.ExpiresAt),
        ["nonce"] = terms.Nonce,
    };

    public static byte[] Digest(MandateTerms terms) => Eip712Hasher.HashTypedData(Domain, Types, "Mandate", Message(terms));

    public static byte[] RevokeDigest(string mandateId, long timestamp) => Eip712Hasher.HashTypedData(Domain, Types, "Revoke",
        new Dictionary<string, object?> { ["mandateId"] = mandateId, ["timestamp"] = new BigInteger(timestamp) });

    public static byte[] DecisionDigest(string approvalId, string decision, long timestamp) => Eip712Hasher.HashTypedData(Domain, Types,
        "ApprovalDecision",
        new Dictionary<string, object?> { ["approvalId"] = approvalId, ["decision"] = decision, ["timestamp"] = new BigInteger(timestamp) });

    /// <summary>A user's reads through the gate (its mandates, their approvals) for 5 minutes around <paramref name="timestamp"/>.</summary>
    public static byte[] ReadDigest(EvmAddress user, long timestamp) => Eip712Hasher.HashTypedData(Domain, Types, "ReadMandates",
        new Dictionary<string, object?> { ["user"] = user, ["timestamp"] = new BigInteger(timestamp) });

    /// <summary>True when <paramref name="signature"/> over <paramref name="digest"/> recovers to <paramref name="expected"/>.</summary>
    public static SignatureCheck Check(byte[] digest, string? signature, EvmAddress expected)
    {
        var recovery = Secp256k1.Recover(digest, signature);
        // Not a 65-byte hex signature at all is a malformed request; anything else that does not recover to the signer is forged.
        if (recovery.Error is SignatureError.MalformedHex or SignatureError.WrongLength) return SignatureCheck.Malformed;
        if (!recovery.Succeeded) return SignatureCheck.WrongSigner;
        return recovery.Signer == expected ? SignatureCheck.Valid : SignatureCheck.WrongSigner;
    }
}

public enum SignatureCheck { Valid, Malformed, WrongSigner }
