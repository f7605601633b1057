namespace Sessions.Client;

// Solana (x402 v2 "exact" on solana:*): the same reserve, sign, send, release as the EVM path, with the Solana signer.
public sealed partial class PaymentHandler
{
    /// <summary>The first Solana offer the spend policy allows, held; else null with the first refusal kept.</summary>
    (SvmOffer Offer, SpendLedger.SpendReservation Reservation)? TryReserveSolana(string host, IReadOnlyList<SvmOffer> offers,
        ref PaymentRefusedException? firstRefusal)
    {
        foreach (var offer in offers)
        {
            if (Ledger.TryReserve(host, offer.V2.Network, offer.Asset.Mint, offer.Amount, out var refusal) is { } reservation)
                return (offer, reservation);
            firstRefusal ??= refusal;
        }
        return null;
    }

    Task<HttpResponseMessage> PaySolanaAsync(HttpRequestMessage request, HttpResponseMessage response, SvmOffer offer,
        SpendLedger.SpendReservation reservation, CancellationToken cancellationToken)
    {
        var signer = _options.SolanaSigner!;
        return SendPaidAsync(request, response, reservation, async () =>
            {
                var blockhash = await SolanaPaymentSigning.LatestBlockhashAsync(_options.SolanaRpcUrl!, base.SendAsync, cancellationToken);
                return await SolanaPaymentSigning.SignAsync(offer, signer, blockhash, cancellationToken);
            },
            paid => PaymentResults.Read(offer, signer.Address, paid), cancellationToken);
    }
}
