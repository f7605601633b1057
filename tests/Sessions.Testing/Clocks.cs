namespace Sessions.Testing;

/// <summary>
/// A clock that moves only when a test says so. Timers stay on wall-clock time (the base class's): only "now" is manual.
/// (Microsoft.Extensions.TimeProvider.Testing is not referenced.)
/// </summary>
public sealed class ManualTimeProvider(DateTimeOffset start) : TimeProvider
{
    readonly Lock _lock = new();
    DateTimeOffset _now = start;

    public ManualTimeProvider() : this(new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero)) { }

    public override DateTimeOffset GetUtcNow()
    {
        lock (_lock) return _now;
    }

    public void Advance(TimeSpan by)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(by, TimeSpan.Zero);
        lock (_lock) _now += by;
    }
}

/// <summary>
/// Real time plus an offset the test moves: expiry can jump ahead while back-off delays and signatures made against the
/// real clock still work.
/// </summary>
public sealed class ShiftedClock : TimeProvider
{
    long _offsetTicks;

    public override DateTimeOffset GetUtcNow() => base.GetUtcNow().AddTicks(Interlocked.Read(ref _offsetTicks));

    public void Advance(TimeSpan by) => Interlocked.Add(ref _offsetTicks, by.Ticks);
}
