using System.Globalization;
using System.Net;
using System.Numerics;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Sessions.PaymentGate.Pricing;
using Sessions.ServiceDefaults.Hosting;

namespace Sessions.PaymentGate.Sessions;

/// <summary>
/// Writes the session debits every gate decided in Redis to SessionApi's ledger (docs/design/session-debits.md): a pass
/// takes up to <see cref="BatchSize"/> entries of the stream through the consumer group, posts them per payer in one call
/// each (SessionApi writes a call in one transaction, and a call sent again writes nothing twice), then acknowledges them.
/// Entries another gate took and never acknowledged (it died) are claimed after <see cref="ClaimIdle"/>. Each pass also
/// releases holds older than <c>Gate:Sessions:HoldTimeout</c>: requests of a gate that died mid-request, never charged.
/// </summary>
public sealed partial class SessionDebitFolder(SessionBalances balances, SessionApiClient api, IConfiguration configuration,
    IOptions<GateOptions> options, TimeProvider time, ILogger<SessionDebitFolder> logger) : PeriodicWorker(logger)
{
    public const int BatchSize = 500;
    static readonly TimeSpan ClaimIdle = TimeSpan.FromSeconds(10);

    readonly string _consumer = $"{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid():N}";
    // One batch at a time per gate: the background pass and a close or read waiting for the ledger would otherwise post the
    // same pending entries twice (harmless, SessionApi replays them, but wasted).
    readonly SemaphoreSlim _oneAtATime = new(1, 1);

    protected override TimeSpan Interval => options.Value.Sessions.FoldInterval;
    protected override string PassName => "Session debit fold";
    protected override bool RunsAtStart => true;
    protected override bool Enabled => configuration.GetSection("services:sessionapi").Exists()
        && !string.IsNullOrWhiteSpace(configuration.GetConnectionString("redis"));

    protected override async Task RunPassAsync(CancellationToken cancellationToken)
    {
        await SweepAsync();
        while (await FoldAsync(cancellationToken) == BatchSize && !cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Releases the holds older than <c>Gate:Sessions:HoldTimeout</c>; returns how many.</summary>
    public async Task<int> SweepAsync()
    {
        var released = await balances.SweepAsync(time.GetUtcNow() - options.Value.Sessions.HoldTimeout);
        if (released > 0)
            LogSwept(released);
        return released;
    }

    /// <summary>One batch; returns how many debits it read (what SessionApi could not take stays for the next pass).</summary>
    public async Task<int> FoldAsync(CancellationToken cancellationToken)
    {
        await _oneAtATime.WaitAsync(cancellationToken);
        try
        {
            return await FoldBatchAsync(cancellationToken);
        }
        finally
        {
            _oneAtATime.Release();
        }
    }

    async Task<int> FoldBatchAsync(CancellationToken cancellationToken)
    {
        var debits = await balances.ReadForFoldAsync(_consumer, BatchSize, ClaimIdle);
        if (debits.Count == 0)
            return 0;
        using var activity = Paywall.PaywallTelemetry.ActivitySource.StartActivity("gate.session_debits.fold");
        activity?.SetTag("gate.session_debits.count", debits.Count);
        foreach (var payer in debits.GroupBy(d => (d.Organization, d.Payer)))
        {
            var batch = payer.ToList();
            var answer = await api.FoldDebitsAsync(payer.Key.Organization, payer.Key.Payer,
                batch.Select(d => new { sessionId = d.SessionId, key = d.Key, amount = d.Amount.ToString(), route = d.Route, at = d.At,
                    slaCredit = d.SlaCredit.IsZero ? null : d.SlaCredit.ToString(), @void = d.Void ? true : (bool?)null }).ToArray(),
                cancellationToken);
            if (answer.Status != HttpStatusCode.OK)
            {
                // Not a transient failure (those throw): a batch SessionApi will never take is a defect; set aside for an operator
                // rather than blocking every debit behind it.
                LogRefusedBatch(payer.Key.Payer, batch.Count, (int)answer.Status, answer.Code);
                await balances.SetAsideAsync(batch, $"SessionApi answered {(int)answer.Status} {answer.Code}");
                continue;
            }
            if (answer.Body.TryGetProperty("refused", out var refused) && refused.GetArrayLength() > 0)
                LogRefusedDebits(payer.Key.Payer, string.Join(", ", refused.EnumerateArray().Select(k => k.GetString())));
            var voids = VoidsOf(answer.Body);
            foreach (var (key, back) in voids.Credited)
                LogVoided(payer.Key.Payer, key, back.ToString());
            await balances.AckFoldedAsync(batch, voids);
        }
        return debits.Count;
    }

    /// <summary>SessionApi's answer for the voids of a batch (fields absent or empty, as nearly always: none).</summary>
    static FoldedVoids VoidsOf(JsonElement answer)
    {
        var credited = answer.TryGetProperty("credited", out var c) && c.ValueKind == JsonValueKind.Object && c.EnumerateObject().Any();
        var voided = answer.TryGetProperty("voided", out var v) && v.ValueKind == JsonValueKind.Array && v.GetArrayLength() > 0;
        return !credited && !voided ? FoldedVoids.None : new(
            credited ? c.EnumerateObject().ToDictionary(p => p.Name, p => BigInteger.Parse(p.Value.GetString()!, CultureInfo.InvariantCulture)) : [],
            voided ? v.EnumerateArray().Select(k => k.GetString()!).ToHashSet() : []);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Void of session debit {Key} of {Payer} folded: {Credited} atomic units credited back (0: it was never debited)")]
    partial void LogVoided(string payer, string key, string credited);

    [LoggerMessage(Level = LogLevel.Error, Message = "SessionApi refused a batch of {Count} session debits of {Payer}: {Status} {Code}; set aside on gate:session-debits-refused")]
    partial void LogRefusedBatch(string payer, int count, int status, string? code);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Released {Count} session hold(s) nobody settled within Gate:Sessions:HoldTimeout (a gate stopped mid-request)")]
    partial void LogSwept(int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "SessionApi could not apply session debits of {Payer}: {Keys} (see its log)")]
    partial void LogRefusedDebits(string payer, string keys);
}
