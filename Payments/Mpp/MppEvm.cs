using System.Globalization;
using Sessions.Payments.Crypto;

namespace Sessions.Payments.Mpp;

/// <summary>Pieces of the MPP "evm" method (draft-evm-charge) that bind an EIP-3009 authorization to a challenge.</summary>
public static class MppEvm
{
    public const string MethodName = "evm";

    /// <summary>nonce = keccak256(utf8(challenge.id + challenge.realm)): one authorization per challenge.</summary>
    public static Bytes32 AuthorizationNonce(string challengeId, string realm) =>
        Bytes32.FromBytes(Keccak256.HashUtf8(challengeId + realm));

    /// <summary>The credential's expected source, "did:pkh:eip155:&lt;chainId&gt;:&lt;address&gt;".</summary>
    public static string SourceDid(long chainId, EvmAddress payer) =>
        $"did:pkh:eip155:{chainId.ToString(CultureInfo.InvariantCulture)}:{payer.ToChecksumString()}";

    /// <summary>Parses a did:pkh:eip155 source; the address may be in any valid casing.</summary>
    public static bool TryParseSourceDid(string? did, out long chainId, out EvmAddress address)
    {
        chainId = 0;
        address = EvmAddress.Zero;
        const string prefix = "did:pkh:eip155:";
        if (did is null || !did.StartsWith(prefix, StringComparison.Ordinal))
            return false;
        var rest = did.AsSpan(prefix.Length);
        var colon = rest.IndexOf(':');
        if (colon <= 0 || rest[0] == '0' || rest[..colon].ContainsAnyExceptInRange('0', '9')
            || !long.TryParse(rest[..colon], NumberStyles.None, CultureInfo.InvariantCulture, out chainId))
            return false;
        return EvmAddress.TryParse(rest[(colon + 1)..].ToString(), out address);
    }
}
