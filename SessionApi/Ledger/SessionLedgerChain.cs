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

    const string ChargeColumns = """
        'id', id::text, 'mandate_id', mandate_id, 'agent', agent, 'idempotency_key', idempotency_key, 'organization', organization,
        'amount', amount::text, 'approval_id', approval_id, 'session_id', session_id, 'created_at', ledger_chain_time(created_at)
        """;

    public static readonly LedgerChainOptions Options = new(Ledger,
    [
        // A debit's SLA credit (offers) only where there is one, so rows chained before the column keep their hash.
        new("session_ledger", "session_ledger", "id", "bigint", "chain_xid", "kind", """
            (jsonb_build_object('id', id::text, 'session_id', session_id, 'kind', kind, 'amount', amount::text,
                'idempotency_key', idempotency_key, 'payment_id', payment_id, 'request_id', request_id, 'route', route,
                'refund_method', refund_method, 'balance_after', balance_after::text, 'request_count_after', request_count_after::text,
                'created_at', ledger_chain_time(created_at))
            || CASE WHEN sla_credit = 0 THEN '{}'::jsonb ELSE jsonb_build_object('sla_credit', sla_credit::text) END)::text
            """),
        new("mandate_charge", "mandate_charges", "id", "bigint", "charged_xid", "'mandate-charge'",
            $"jsonb_build_object({ChargeColumns})::text", VersionXidColumn: "charged_xid"),
        new("mandate_release", "mandate_charges", "id", "bigint", "released_xid", "'mandate-release'",
            $"jsonb_build_object({ChargeColumns}, 'released_at', ledger_chain_time(released_at))::text", VersionXidColumn: "charged_xid"),
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
