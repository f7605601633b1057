using System.Text.RegularExpressions;
using Microsoft.Extensions.Hosting;
using Sessions.ServiceDefaults.Payers;

namespace Sessions.McpServer.Storage;

/// <summary>The storage id of the current request's payer, shared by every <see cref="IPayerStore"/>.</summary>
public static partial class PayerKey
{
    // The gate signs lowercase EVM addresses or base58 Solana addresses; anything else must not become part of a storage key.
    [GeneratedRegex("^(0x[0-9a-f]{40}|[1-9A-HJ-NP-Za-km-z]{32,44})$")]
    private static partial Regex AddressPattern();

    /// <summary>
    /// The address of <see cref="IPayerContextAccessor.Current"/>: EVM lowercase (checksummed and lowercase spellings are one
    /// payer), Solana base58 as written. Read on every call, never cached: the accessor follows the request (an AsyncLocal), so an unpaid request,
    /// a new request or work started with the execution context suppressed sees no payer.
    /// </summary>
    /// <exception cref="PayerRequiredException">The current request has no payer.</exception>
    public static string Resolve(IPayerContextAccessor payers)
    {
        var payer = payers.Current?.Payer ?? throw new PayerRequiredException();
        payer = PayerContext.NormalizeAddress(payer);
        return AddressPattern().IsMatch(payer)
            ? payer
            : throw new InvalidOperationException($"The payer '{payer}' is not an EVM address (0x + 40 hex digits) or a Solana address (base58).");
    }
}
