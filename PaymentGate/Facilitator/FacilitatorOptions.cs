using System.Numerics;
using Sessions.Payments;

namespace Sessions.PaymentGate.Facilitator;

/// <summary>Configuration section <c>Facilitator</c>.</summary>
public sealed class FacilitatorOptions
{
    public const string Section = "Facilitator";

    /// <summary>
    /// Base URL of the standard facilitator API (e.g. <c>https://x402.org/facilitator</c>); the client calls
    /// <c>{Url}/verify</c>, <c>{Url}/settle</c>, <c>{Url}/supported</c>. Empty: the gate's own local facilitator.
    /// </summary>
    public string? Url { get; set; }

    /// <summary>
    /// <c>local</c> chooses the gate's own facilitator (a simulated chain in gatedb: test money) explicitly. Outside Development
    /// either this or <see cref="Url"/> is required, so a deployment never settles on the simulated chain by default.
    /// </summary>
    public string? Mode { get; set; }

    public const string LocalMode = "local";

    /// <summary>
    /// No <see cref="Url"/>: the gate settles on its local ledger, in gatedb, the database of its payment journal too.
    /// </summary>
    public bool SettlesInGateDatabase => string.IsNullOrWhiteSpace(Url);

    public bool LocalChosen => string.Equals(Mode, LocalMode, StringComparison.OrdinalIgnoreCase);

    /// <summary>Sent as <c>Authorization: Bearer &lt;ApiKey&gt;</c> when set (hosted facilitators that need a key).</summary>
    public string? ApiKey { get; set; }

    public LocalFacilitatorOptions Local { get; set; } = new();
}

/// <summary>Configuration section <c>Facilitator:Local</c>.</summary>
public sealed class LocalFacilitatorOptions
{
    /// <summary>
    /// The gate's own facilitator (simulated chain in gatedb) exists: used when <c>Url</c> is empty, its <c>/facilitator/*</c>
    /// served where <see cref="Faucet"/> says. On by default.
    /// </summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Serve the simulated chain's HTTP endpoints (<c>/dev/faucet</c>, <c>/dev/accounts</c>, <c>/facilitator/*</c>) outside
    /// Development too (demo deployments); in Development they are always served.
    /// </summary>
    public bool Faucet { get; set; }

    /// <summary>
    /// Longest an in-process verify or settle may take (the HTTP client's attempt timeout for a remote facilitator); past
    /// it the call is "facilitator unavailable", which for settle means outcome unknown (pending, reconciled).
    /// </summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How often settlements' credits (appended to a journal, so no merchant row is locked per settlement) are folded into
    /// the account rows. Balances include unfolded credits whenever they are read; this only keeps the journal short.
    /// </summary>
    public TimeSpan CreditFoldInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Largest amount one faucet call mints, atomic units (default 1,000 USDC).</summary>
    public string FaucetMaxAmount { get; set; } = "1000000000";

    internal BigInteger FaucetMax => AtomicAmount.TryParse(FaucetMaxAmount, out var max) && !max.IsZero ? max.Value : 1_000_000_000;
}
