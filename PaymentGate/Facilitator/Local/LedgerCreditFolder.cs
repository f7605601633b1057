using Microsoft.Extensions.Options;
using Sessions.ServiceDefaults.Hosting;

namespace Sessions.PaymentGate.Facilitator.Local;

/// <summary>
/// Folds the local ledger's credit journal into the account rows every <c>Facilitator:Local:CreditFoldInterval</c>, so the
/// journal stays short (balances read it) and a merchant's row carries its takings. Any gate may run it: folds of one
/// account queue on its row lock and each credit is folded once (<see cref="TokenLedger.FoldCreditsAsync"/>).
/// </summary>
public sealed class LedgerCreditFolder(IServiceProvider services, IOptions<FacilitatorOptions> options, ILogger<LedgerCreditFolder> logger)
    : PeriodicWorker(logger)
{
    protected override TimeSpan Interval => options.Value.Local.CreditFoldInterval;

    protected override string PassName => "Ledger credit fold";

    protected override bool Enabled => options.Value.Local.Enabled;

    // Resolved per pass, not at start-up: the gate starts whatever state the database is in (as PaymentStore does).
    protected override Task RunPassAsync(CancellationToken cancellationToken) =>
        services.GetRequiredService<TokenLedger>().FoldCreditsAsync(cancellationToken);
}
