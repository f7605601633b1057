using Sessions.ServiceDefaults.Ledger;

namespace Sessions.PaymentGate.Ledger;

/// <summary>
/// What the gate's chain covers (docs/ledger-chain.md, "What is chained"): every token_transfers row of the local
/// facilitator (transfer = a settlement on the local chain, faucet, refund), every transaction landed on its simulated
/// Solana chain (svm_transactions: the same three kinds), and each payment's settlement and refund.
/// The merchant credit journal (token_credits) is not chained: its rows are folded away by design, and each one is the
/// payee side of a chained transfer.
/// </summary>
public static class GateLedgerChain
{
    public const string Ledger = "gate";

    static readonly LedgerChainField[] PaymentColumns =
    [
        new("id", "id"), new("payer", "payer"), new("nonce", "nonce"), new("organization", "organization"), new("route", "route"),
        new("resource", "resource"), new("amount", "amount::text"), new("network", "network"), new("asset", "asset"),
        new("pay_to", "pay_to"), new("settled_at", "ledger_chain_time(settled_at)"),
    ];

    public static readonly LedgerChainOptions Options = new(Ledger,
    [
        new("token_transfers", "token_transfers", "id", "bigint", "chain_xid", "kind",
        [
            new("id", "id::text"), new("kind", "kind"), new("asset", "asset"), new("network", "network"),
            new("from_address", "from_address"), new("to_address", "to_address"), new("value", "value::text"), new("nonce", "nonce"),
            new("transaction", "transaction"), new("created_at", "ledger_chain_time(created_at)"),
        ]),
        new("svm_transactions", "svm_transactions", "signature", "text", "chain_xid", "kind",
        [
            new("signature", "signature"), new("network", "network"), new("kind", "kind"), new("mint", "mint"), new("source", "source"),
            new("authority", "authority"), new("destination", "destination"), new("owner", "owner"), new("amount", "amount::text"),
            new("fee_payer", "fee_payer"), new("created_at", "ledger_chain_time(created_at)"),
        ]),
        new("payment_settlement", "payments", "id", "text", "settled_xid", "'settlement'", PaymentColumns),
        new("payment_refund", "payments", "id", "text", "refunded_xid", "status", [.. PaymentColumns, new("status", "status")]),
    ]);
}
