using Sessions.Payments;
using Sessions.Payments.Crypto;
using Sessions.Payments.Mpp;
using Sessions.Payments.Svm;
using Sessions.Payments.X402;

namespace Sessions.Client;

/// <summary>
/// What the handler paid for one request and what the server said about it: the x402 settlement
/// (<c>PAYMENT-RESPONSE</c> / <c>X-PAYMENT-RESPONSE</c>) or the MPP <c>Payment-Receipt</c>. Read it with
/// <see cref="PaymentResults.GetPaymentResult"/>.
/// </summary>
public sealed record PaymentResult
{
    public required PaymentProtocol Protocol { get; init; }
    public required string Network { get; init; }
    /// <summary>The EVM token; <see cref="EvmAddress.Zero"/> for a Solana payment (see <see cref="Solana"/>).</summary>
    public required EvmAddress Asset { get; init; }
    public required AtomicAmount Amount { get; init; }
    public required EvmAddress PayTo { get; init; }
    public required EvmAddress Payer { get; init; }
    /// <summary>The mint, payee and payer of a Solana payment; null for EVM.</summary>
    public SolanaPaymentParties? Solana { get; init; }
    /// <summary>The decoded x402 settlement header, when the answer had one.</summary>
    public SettleResponse? Settlement { get; init; }
    /// <summary>The decoded MPP receipt, when the answer had one.</summary>
    public PaymentReceipt? Receipt { get; init; }

    /// <summary>The server settled: a successful settlement, or an MPP receipt (sent on 2xx only).</summary>
    public bool Settled => Settlement?.Success ?? Receipt is not null;

    /// <summary>The settlement's transaction or the receipt's reference.</summary>
    public string? Transaction => Settlement is { Transaction: { Length: > 0 } transaction } ? transaction : Receipt?.Reference;
}

/// <summary>Who paid whom in which SPL token, for a payment on a <c>solana:*</c> network.</summary>
public sealed record SolanaPaymentParties(SolanaAddress Mint, SolanaAddress PayTo, SolanaAddress Payer);

public static class PaymentResults
{
    static readonly HttpRequestOptionsKey<PaymentResult> Key = new("Sessions.Client.PaymentResult");

    /// <summary>The payment the handler made for this response's request, or null when it paid nothing.</summary>
    public static PaymentResult? GetPaymentResult(this HttpResponseMessage response) =>
        response.RequestMessage is { } request && request.Options.TryGetValue(Key, out var result) ? result : null;

    internal static void SetPaymentResult(this HttpRequestMessage request, PaymentResult result) => request.Options.Set(Key, result);

    internal static PaymentResult Read(PaymentOffer offer, EvmAddress payer, HttpResponseMessage response) => new()
    {
        Protocol = offer.Protocol, Network = offer.Network, Asset = offer.Asset, Amount = offer.Amount, PayTo = offer.PayTo, Payer = payer,
        Settlement = Settlement(response, X402HeaderCodec.PaymentResponseHeader) ?? Settlement(response, X402HeaderCodec.PaymentResponseHeaderV1),
        Receipt = response.Headers.TryGetValues("Payment-Receipt", out var receipts) ? PaymentReceipt.TryParseHeader(receipts.FirstOrDefault()) : null,
    };

    internal static PaymentResult Read(SvmOffer offer, SolanaAddress payer, HttpResponseMessage response) => new()
    {
        Protocol = PaymentProtocol.X402V2, Network = offer.V2.Network, Asset = EvmAddress.Zero, Amount = offer.Amount, PayTo = EvmAddress.Zero,
        Payer = EvmAddress.Zero, Solana = new SolanaPaymentParties(offer.Asset.Mint, offer.PayTo, payer),
        Settlement = Settlement(response, X402HeaderCodec.PaymentResponseHeader),
    };

    static SettleResponse? Settlement(HttpResponseMessage response, string header) =>
        response.Headers.TryGetValues(header, out var values)
        && X402HeaderCodec.Decode(values.FirstOrDefault(), X402JsonContext.Strict.SettleResponse) is { Succeeded: true, Value: { } settlement }
            ? settlement
            : null;
}
