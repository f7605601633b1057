using Microsoft.AspNetCore.Http.HttpResults;
using Sessions.ServiceDefaults.Ledger;

namespace Sessions.SessionApi.Ledger;

/// <summary>
/// What SessionApi's chain covers (docs/ledger-chain.md, "What is chained"): every session_ledger row (deposit, topup,
/// debit, credit, refund) and every mandate charge and release. The content lists the columns each movement fixes.
/// </summary>
public static class SessionLedgerChain
{
    public const string Ledger = "sessions";

    static readonly LedgerChainField[] ChargeColumns =
    [
        new("id", "id::text"), new("mandate_id", "mandate_id"), new("agent", "agent"), new("idempotency_key", "idempotency_key"),
        new("organization", "organization"), new("amount", "amount::text"), new("approval_id", "approval_id"),
        new("session_id", "session_id"), new("created_at", "ledger_chain_time(created_at)"),
    ];

    public static readonly LedgerChainOptions Options = new(Ledger,
    [
        // A debit's SLA credit (offers) only where there is one, so rows chained before the column keep their hash.
        new("session_ledger", "session_ledger", "id", "bigint", "chain_xid", "kind",
        [
            new("id", "id::text"), new("session_id", "session_id"), new("kind", "kind"), new("amount", "amount::text"),
            new("idempotency_key", "idempotency_key"), new("payment_id", "payment_id"), new("request_id", "request_id"),
            new("route", "route"), new("refund_method", "refund_method"), new("balance_after", "balance_after::text"),
            new("request_count_after", "request_count_after::text"), new("created_at", "ledger_chain_time(created_at)"),
            new("sla_credit", "NULLIF(sla_credit, 0)::text", OmitWhenNull: true),
        ]),
        new("mandate_charge", "mandate_charges", "id", "bigint", "charged_xid", "'mandate-charge'", ChargeColumns, VersionXidColumn: "charged_xid"),
        new("mandate_release", "mandate_charges", "id", "bigint", "released_xid", "'mandate-release'",
            [.. ChargeColumns, new("released_at", "ledger_chain_time(released_at)")], VersionXidColumn: "charged_xid"),
    ]);
}

/// <summary><c>GET /internal/ledger/head</c>: the chain's head for the gate, which signs it as a checkpoint (it holds the key).</summary>
public static class SessionLedgerChainApi
{
    public static IEndpointRouteBuilder MapSessionLedgerChainApi(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/internal/ledger").RequirePayer()
            .MapGet("/head", async Task<Ok<LedgerChainHead>> (LedgerChainer chainer, CancellationToken cancellationToken) =>
                TypedResults.Ok(await chainer.HeadAsync(cancellationToken)));
        return app;
    }
}
