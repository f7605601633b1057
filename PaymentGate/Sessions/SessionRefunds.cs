using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Sessions.PaymentGate.Facilitator;
using Sessions.PaymentGate.Facilitator.Local;
using Sessions.PaymentGate.Facilitator.Local.Svm;
using Sessions.Payments.Svm;
using Sessions.PaymentGate.Pricing;
using Sessions.Payments;

namespace Sessions.PaymentGate.Sessions;

/// <summary>
/// Pays a closed session's remainder back. With the gate's local facilitator the tokens really move on its ledger, from the
/// organisation's payTo to the payer (method <c>ledger</c>); a remote facilitator only settles payer → merchant, so the
/// refund is recorded in SessionApi as owed (method <c>payout_owed</c>) for the merchant to pay out. A session paid on
/// Solana (its payer a base58 address) is refunded on the simulated Solana ledger, from the organisation's Solana payTo.
/// </summary>
public sealed class SessionRefunds(IOptions<FacilitatorOptions> facilitator, IServiceProvider services)
{
    public const string Ledger = "ledger";
    public const string PayoutOwed = "payout_owed";

    public string Method => string.IsNullOrWhiteSpace(facilitator.Value.Url) && facilitator.Value.Local.Enabled ? Ledger : PayoutOwed;

    /// <summary>The refund's transaction id on the ledger: derived from the session, so a repeated close refunds once.</summary>
    public static string TransactionOf(string sessionId) => Derived("session-refund:" + sessionId);

    /// <summary>The ledger transaction that pays back a refused top-up: derived from its payment, so it happens once.</summary>
    public static string TopUpTransactionOf(string paymentId) => Derived("topup-refund:" + paymentId);

    /// <summary>The transaction id, or null when the organisation's payTo cannot cover it (nothing moved).</summary>
    public Task<string?> TransferAsync(Organization organization, string payer, BigInteger amount, string sessionId, CancellationToken cancellationToken) =>
        MoveAsync(organization, payer, amount, TransactionOf(sessionId), cancellationToken);

    /// <summary>Pays back a top-up SessionApi refused after settlement; null when the payTo cannot cover it (nothing moved).</summary>
    public Task<string?> TransferTopUpAsync(Organization organization, string payer, BigInteger amount, string paymentId, CancellationToken cancellationToken) =>
        MoveAsync(organization, payer, amount, TopUpTransactionOf(paymentId), cancellationToken);

    async Task<string?> MoveAsync(Organization organization, string payer, BigInteger amount, string transaction, CancellationToken cancellationToken)
    {
        // A Solana payer paid on Solana: the refund goes back there, from the organisation's Solana payTo.
        if (organization.Svm is { } svm && SolanaAddress.TryParse(payer, out var solanaPayer))
        {
            var svmLedger = services.GetRequiredService<SvmLedger>();
            return await svmLedger.RefundAsync(svm.Asset, svm.PayTo, solanaPayer, (ulong)amount, transaction, cancellationToken) ? transaction : null;
        }
        var ledger = services.GetRequiredService<TokenLedger>();
        var token = new LedgerToken(organization.Asset.Address.ToLowerHex(), organization.Asset.Network);
        return await ledger.RefundAsync(token, organization.PayTo.ToLowerHex(), payer, amount, transaction, cancellationToken) ? transaction : null;
    }

    static string Derived(string seed) => "0x" + Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(seed)));
}
