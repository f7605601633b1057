using System.Net;
using Sessions.Payments.Mpp;
using Sessions.Payments.X402;

namespace Sessions.Client;

/// <summary>
/// Answers HTTP 402 by itself: reads the offers (x402 v2 header, x402 v1 body, MPP challenge), reserves the price against the
/// <see cref="SpendLedger"/> (a refusal throws <see cref="PaymentRefusedException"/> before anything is signed), signs, and
/// sends the request again with the proof. The answer's settlement or receipt is on <c>response.GetPaymentResult()</c>.
/// </summary>
public sealed partial class PaymentHandler : DelegatingHandler
{
    readonly PaymentClientOptions _options;
    readonly IPaymentSigner? _signer;
    readonly PaymentSessions? _sessions;

    public PaymentHandler(PaymentClientOptions options, SpendLedger? ledger = null, PaymentSessions? sessions = null)
    {
        _options = options;
        _signer = options.Signer;
        if (_signer is null && options.SolanaSigner is null)
            throw new ArgumentException("PaymentClientOptions.Signer or SolanaSigner is required.", nameof(options));
        if (options.SolanaSigner is not null && options.SolanaRpcUrl is null)
            throw new ArgumentException("PaymentClientOptions.SolanaRpcUrl is required with SolanaSigner.", nameof(options));
        Ledger = ledger ?? new SpendLedger(options.SpendPolicy, options.TimeProvider);
        if (options.Sessions is { Kind: SessionKind.Prepaid, Deposit.IsZero: true })
            throw new ArgumentException("SessionOptions.Deposit is required for prepaid sessions.", nameof(options));
        _sessions = options.Sessions is null ? null : sessions ?? new PaymentSessions();
    }

    public SpendLedger Ledger { get; }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        // The request goes out twice when it must be paid: its content has to be readable again.
        if (request.Content is not null)
            await request.Content.LoadIntoBufferAsync(cancellationToken);
        if (_options.Sessions is not null && _sessions is not null && !request.Options.TryGetValue(SessionHeaders.Internal, out _)
            && !CarriesPayment(request) && !request.Headers.Contains(SessionHeaders.Token))
            return await SendWithSessionAsync(request, cancellationToken);
        return await PayPerRequestAsync(request, cancellationToken);
    }

    async Task<HttpResponseMessage> PayPerRequestAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken);
        if (response.StatusCode != HttpStatusCode.PaymentRequired || CarriesPayment(request))
            return response;
        return await PayAsync(request, response, cancellationToken);
    }

    /// <summary>Answers <paramref name="response"/> (a 402 to <paramref name="request"/>) with a payment, or returns it.</summary>
    async Task<HttpResponseMessage> PayAsync(HttpRequestMessage request, HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var offers = _signer is null ? [] : await PaymentOffer.ReadAsync(response, [.. _options.Protocols], cancellationToken);
        var solanaOffers = _options.SolanaSigner is null || !_options.Protocols.Contains(PaymentProtocol.X402V2) ? [] : SvmOffer.Read(response);
        if (offers.Count == 0 && solanaOffers.Count == 0)
            return response;   // nothing this client can pay: the caller sees the 402
        // The preferred family first (EVM unless PreferSolana), the other when the spend policy refuses all of it.
        var host = HostOf(request);
        PaymentRefusedException? firstRefusal = null;
        bool[] order = _options.PreferSolana ? [true, false] : [false, true];
        foreach (var solanaTurn in order)
        {
            if (solanaTurn && TryReserveSolana(host, solanaOffers, ref firstRefusal) is { } solana)
                return await PaySolanaAsync(request, response, solana.Offer, solana.Reservation, cancellationToken);
            if (!solanaTurn && TryReserveEvm(host, offers, ref firstRefusal) is { } evm)
                return await PayEvmAsync(request, response, evm.Offer, evm.Reservation, cancellationToken);
        }
        response.Dispose();
        throw firstRefusal!;
    }

    Task<HttpResponseMessage> PayEvmAsync(HttpRequestMessage request, HttpResponseMessage response, PaymentOffer offer,
        SpendLedger.SpendReservation reservation, CancellationToken cancellationToken) =>
        SendPaidAsync(request, response, reservation,
            () => PaymentSigning.SignAsync(offer, _signer!, _options.TimeProvider.GetUtcNow(), cancellationToken),
            paid => PaymentResults.Read(offer, _signer!.Address, paid), cancellationToken);

    /// <summary>Signs (giving the reservation back if that fails), sends the request again with the proof, records the result.</summary>
    async Task<HttpResponseMessage> SendPaidAsync(HttpRequestMessage request, HttpResponseMessage response, SpendLedger.SpendReservation reservation,
        Func<Task<(string Name, string Value)>> sign, Func<HttpResponseMessage, PaymentResult> read, CancellationToken cancellationToken)
    {
        try
        {
            var (name, value) = await sign();
            response.Dispose();
            request.Headers.Remove(name);
            request.Headers.TryAddWithoutValidation(name, value);
        }
        catch
        {
            reservation.Release();   // nothing was sent
            throw;
        }
        // A failure while sending keeps the reservation: the server may have charged.
        var paid = await base.SendAsync(request, cancellationToken);
        var result = read(paid);
        request.SetPaymentResult(result);
        if (!MayHaveCharged(paid, result))
            reservation.Release();
        return paid;
    }

    static string HostOf(HttpRequestMessage request) => request.RequestUri!.Authority.ToLowerInvariant();

    (PaymentOffer Offer, SpendLedger.SpendReservation Reservation)? TryReserveEvm(string host, IReadOnlyList<PaymentOffer> offers,
        ref PaymentRefusedException? firstRefusal)
    {
        if (offers.Count == 0)
            return null;
        try
        {
            return Ledger.ReserveFirst(host, offers);
        }
        catch (PaymentRefusedException refusal)
        {
            firstRefusal ??= refusal;
            return null;
        }
    }

    /// <summary>True when the request carries a payment (x402 v2, v1 or an MPP credential): the handler never pays it again.</summary>
    public static bool CarriesPayment(HttpRequestMessage request) =>
        request.Headers.Contains(X402HeaderCodec.PaymentSignatureHeader) || request.Headers.Contains(X402HeaderCodec.PaymentHeaderV1)
        || request.Headers.Authorization?.Scheme.Equals(PaymentChallenge.Scheme, StringComparison.OrdinalIgnoreCase) == true;

    /// <summary>
    /// x402 servers settle only answers below 400 and MPP receipts come on 2xx only; a 503 may be a settlement still pending
    /// (outcome unknown), so it keeps the budget held like a success.
    /// </summary>
    static bool MayHaveCharged(HttpResponseMessage response, PaymentResult result) =>
        result.Settled || (int)response.StatusCode < 400 || response.StatusCode == HttpStatusCode.ServiceUnavailable;
}
