namespace Sessions.Client;

/// <summary>How a <see cref="PaymentHandler"/> pays: who signs, within which limits, and which protocols in which order.</summary>
public sealed class PaymentClientOptions
{
    /// <summary>The EVM payer. This or <see cref="SolanaSigner"/> is required.</summary>
    public IPaymentSigner? Signer { get; set; }

    /// <summary>The Solana payer: x402 v2 "exact" offers on <c>solana:*</c> networks are paid when it is set.</summary>
    public ISolanaPaymentSigner? SolanaSigner { get; set; }

    /// <summary>
    /// The Solana JSON-RPC the recent blockhash comes from (<c>getLatestBlockhash</c>); required with <see cref="SolanaSigner"/>.
    /// The gate's local facilitator serves one at <c>/dev/solana-rpc</c> in Development.
    /// </summary>
    public Uri? SolanaRpcUrl { get; set; }

    /// <summary>When the server offers both and both signers are set: pay on Solana first (default false: EVM first).</summary>
    public bool PreferSolana { get; set; }

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
