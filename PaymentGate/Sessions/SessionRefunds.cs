using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Sessions.PaymentGate.Facilitator;
using Sessions.PaymentGate.Facilitator.Local;
using Sessions.PaymentGate.Pricing;
using Sessions.Payments;
using Sessions.ServiceDefaults.Payers;

namespace Sessions.PaymentGate.Sessions;

/// <summary>
/// Pays a closed session's remainder back. With the gate's local facilitator the tokens really move on its ledger, from the
/// organisation's payTo to the payer (method <c>ledger</c>); a remote facilitator only settles payer → merchant, so the
/// refund is recorded in SessionApi as owed (method <c>payout_owed</c>) for the merchant to pay out.
/// </summary>
public sealed class SessionRefunds(IOptions<FacilitatorOptions> facilitator, PricingCatalog catalog, IServiceProvider services)
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

    /// <summary>
    /// A credit-back that reached a session already closed (state <c>REFUNDED</c>) adds to its refund in SessionApi; on the
    /// ledger the tokens must move too, since the close's transfer is done: once per debit (transaction derived from it).
    /// True when nothing more is owed; false when the payTo cannot cover it now. Throws when the ledger does not answer.
    /// </summary>
    public async Task<bool> PayOutLateCreditAsync(string organizationId, string payer, ServiceAnswer credit, string requestId,
        CancellationToken cancellationToken)
    {
        if (credit.Text("state") != "REFUNDED" || Method != Ledger || !AtomicAmount.TryParse(credit.Text("credited"), out var amount) || amount.IsZero)
            return true;
        var organization = catalog.FindOrganization(organizationId)
            ?? throw new InvalidOperationException($"Organisation '{organizationId}' is no longer configured; pay {amount} back to {payer} by hand.");
        return await MoveAsync(organization, payer, amount, Derived("credit-refund:" + requestId), cancellationToken) is not null;
    }

    async Task<string?> MoveAsync(Organization organization, string payer, BigInteger amount, string transaction, CancellationToken cancellationToken)
    {
        var ledger = services.GetRequiredService<TokenLedger>();
        var token = new LedgerToken(organization.Asset.Address.ToLowerHex(), organization.Asset.Network);
        return await ledger.RefundAsync(token, organization.PayTo.ToLowerHex(), payer, amount, transaction, cancellationToken) ? transaction : null;
    }

    static string Derived(string seed) => "0x" + Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(seed)));
}
