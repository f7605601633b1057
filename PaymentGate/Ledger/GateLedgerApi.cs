using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Sessions.PaymentGate.Pricing;
using Sessions.Payments.Ledger;
using Sessions.ServiceDefaults.Admin;
using Sessions.ServiceDefaults.Ledger;

namespace Sessions.PaymentGate.Ledger;

/// <summary>
/// The tamper-evident ledger at the gate (docs/ledger-chain.md): the chain of gatedb, the checkpoints of both chains
/// (public, <c>GET /.well-known/ledger-checkpoints</c>) and the operators' <c>/admin/ledger/verify</c> and <c>/export</c>.
/// </summary>
public static class GateLedgerApi
{
    public const string CheckpointsPath = "/.well-known/ledger-checkpoints";

    public static IHostApplicationBuilder AddGateLedger(this IHostApplicationBuilder builder)
    {
        builder.AddLedgerChain(GateLedgerChain.Options);
        builder.Services.AddOptions<LedgerGateOptions>().BindConfiguration("Gate:Ledger")
            .Validate(o => o.CheckpointInterval > TimeSpan.Zero, "Gate:Ledger:CheckpointInterval must be positive.").ValidateOnStart();
        builder.Services.AddSingleton<GateLedgerCheckpoints>();
        builder.Services.AddSingleton<ILedgerCheckpointSource>(services => services.GetRequiredService<GateLedgerCheckpoints>());
        builder.Services.AddSingleton<LedgerCheckpointer>();
        builder.Services.AddHostedService(services => services.GetRequiredService<LedgerCheckpointer>());
        return builder;
    }

    public static IEndpointRouteBuilder MapGateLedger(this IEndpointRouteBuilder app)
    {
        app.MapGet(CheckpointsPath, async Task<Ok<PublishedCheckpoints>> (GateLedgerCheckpoints checkpoints, string? ledger, CancellationToken cancellationToken) =>
                TypedResults.Ok(new PublishedCheckpoints(await checkpoints.ListAsync(ledger, cancellationToken))))
            .WithName("GetLedgerCheckpoints")
            .WithSummary("Signed checkpoints (JWS, keys at /.well-known/jwks.json) of the ledger chains: ledger=sessions or gate");
        var admin = app.MapGroup("/admin").ExcludeFromDescription();
        admin.AddEndpointFilter(AdminKey.Filter(services => services.GetRequiredService<IOptions<GateOptions>>().Value.AdminKey));
        admin.MapLedgerChainApi();
        return app;
    }
}
