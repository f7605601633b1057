namespace Sessions.Client;

/// <summary>How a <see cref="PaymentHandler"/> pays: who signs, within which limits, and which protocols in which order.</summary>
public sealed class PaymentClientOptions
{
    /// <summary>The payer. Required.</summary>
    public IPaymentSigner? Signer { get; set; }

    public SpendPolicy SpendPolicy { get; set; } = SpendPolicy.Unlimited;

    /// <summary>
    /// The protocols to answer with, most preferred first. Within one protocol the server's first payable offer wins. The
    /// default is the official clients' order: the x402 v2 header, then the v1 body, then the MPP challenge.
    /// </summary>
    public IList<PaymentProtocol> Protocols { get; set; } = [PaymentProtocol.X402V2, PaymentProtocol.X402V1, PaymentProtocol.Mpp];

    /// <summary>Opt-in prepaid sessions: null (the default) pays every request.</summary>
    public SessionOptions? Sessions { get; set; }

    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;
}
