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

    const string PaymentColumns = """
        'id', id, 'payer', payer, 'nonce', nonce, 'organization', organization, 'route', route, 'resource', resource,
        'amount', amount::text, 'network', network, 'asset', asset, 'pay_to', pay_to, 'settled_at', ledger_chain_time(settled_at)
        """;

    public static readonly LedgerChainOptions Options = new(Ledger,
    [
        new("token_transfers", "token_transfers", "id", "bigint", "chain_xid", "kind", """
            jsonb_build_object('id', id::text, 'kind', kind, 'asset', asset, 'network', network, 'from_address', from_address,
                'to_address', to_address, 'value', value::text, 'nonce', nonce, 'transaction', transaction,
                'created_at', ledger_chain_time(created_at))::text
            """),
        new("svm_transactions", "svm_transactions", "signature", "text", "chain_xid", "kind", """
            jsonb_build_object('signature', signature, 'network', network, 'kind', kind, 'mint', mint, 'source', source,
                'authority', authority, 'destination', destination, 'owner', owner, 'amount', amount::text, 'fee_payer', fee_payer,
                'created_at', ledger_chain_time(created_at))::text
            """),
        new("payment_settlement", "payments", "id", "text", "settled_xid", "'settlement'", $"jsonb_build_object({PaymentColumns})::text"),
        new("payment_refund", "payments", "id", "text", "refunded_xid", "status",
            $"jsonb_build_object({PaymentColumns}, 'status', status)::text"),
    ]);
}
