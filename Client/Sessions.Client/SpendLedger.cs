using Sessions.Payments;
using Sessions.Payments.Crypto;
using Sessions.Payments.Svm;

namespace Sessions.Client;

/// <summary>
/// The budgets' accounting, shared by every request of one client (one instance per named HttpClient, outliving the factory's
/// handler rotation). A payment is reserved under one lock before it is signed, so racing requests cannot overspend;
/// the handler releases the reservation when the server's answer says nothing was charged.
/// </summary>
public sealed class SpendLedger(SpendPolicy policy, TimeProvider? clock = null)
{
    sealed record Entry(string Host, AtomicAmount Amount, DateTimeOffset At);

    readonly TimeProvider _clock = clock ?? TimeProvider.System;
    readonly Lock _lock = new();
    readonly List<Entry> _entries = [];

    public SpendPolicy Policy { get; } = policy;

    /// <summary>Spent and in flight within the window, on <paramref name="host"/> or (null) on every host.</summary>
    public AtomicAmount Spent(string? host = null)
    {
        lock (_lock)
        {
            Prune();
            return Sum(host);
        }
    }

    /// <summary>Checks every limit and holds the amount, or throws <see cref="PaymentRefusedException"/>.</summary>
    public SpendReservation Reserve(string host, string network, EvmAddress asset, AtomicAmount amount) =>
        TryReserve(host, network, asset, amount, out var refusal) ?? throw refusal!;

    /// <summary>The first of <paramref name="offers"/> (in preference order) every limit allows, held; else the first refusal.</summary>
    internal (PaymentOffer Offer, SpendReservation Reservation) ReserveFirst(string host, IReadOnlyList<PaymentOffer> offers)
    {
        PaymentRefusedException? first = null;
        foreach (var offer in offers)
        {
            if (TryReserve(host, offer.Network, offer.Asset, offer.Amount, out var refusal) is { } reservation)
                return (offer, reservation);
            first ??= refusal;
        }
        throw first ?? (Exception)new InvalidOperationException("No offer to reserve.");
    }

    internal SpendReservation? TryReserve(string host, string network, EvmAddress asset, AtomicAmount amount, out PaymentRefusedException? refusal) =>
        TryHold(host, amount, Policy.Check(host, network, asset, amount),
            (limit, budget, spent) => new PaymentRefusedException(limit, host, network, asset, amount, budget, spent), out refusal);

    /// <summary>The same limits for a Solana offer (asset = the mint).</summary>
    internal SpendReservation? TryReserve(string host, string network, SolanaAddress mint, AtomicAmount amount, out PaymentRefusedException? refusal) =>
        TryHold(host, amount, Policy.Check(host, network, mint, amount),
            (limit, budget, spent) => new PaymentRefusedException(limit, host, network, mint.ToString(), amount, budget, spent), out refusal);

    SpendReservation? TryHold(string host, AtomicAmount amount, PaymentRefusedException? staticRefusal,
        Func<SpendLimit, AtomicAmount, AtomicAmount, PaymentRefusedException> refuse, out PaymentRefusedException? refusal)
    {
        refusal = staticRefusal;
        if (refusal is not null)
            return null;
        lock (_lock)
        {
            Prune();
            if (Policy.MaxPerHost is { } hostBudget && Sum(host) is var onHost && onHost + amount > hostBudget)
            {
                refusal = refuse(SpendLimit.HostBudget, hostBudget, onHost);
                return null;
            }
            if (Policy.MaxPerWindow is { } windowBudget && Sum(null) is var total && total + amount > windowBudget)
            {
                refusal = refuse(SpendLimit.WindowBudget, windowBudget, total);
                return null;
            }
            var entry = new Entry(host, amount, _clock.GetUtcNow());
            _entries.Add(entry);
            return new SpendReservation(this, entry);
        }
    }

    void Release(Entry entry)
    {
        lock (_lock)
            _entries.Remove(entry);
    }

    AtomicAmount Sum(string? host)
    {
        var sum = AtomicAmount.Zero;
        foreach (var entry in _entries)
        {
            if (host is null || entry.Host == host)
                sum += entry.Amount;
        }
        return sum;
    }

    void Prune()
    {
        if (Policy.Window is { } window)
            _entries.RemoveAll(e => e.At <= _clock.GetUtcNow() - window);
    }

    /// <summary>A held amount; <see cref="Release"/> gives it back (the payment was not charged).</summary>
    public sealed class SpendReservation
    {
        readonly SpendLedger _ledger;
        readonly object _entry;
        int _released;

        internal SpendReservation(SpendLedger ledger, object entry) => (_ledger, _entry) = (ledger, entry);

        public void Release()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
                _ledger.Release((Entry)_entry);
        }
    }
}
