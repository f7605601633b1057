namespace Sessions.Testing;

/// <summary>
/// Real time plus an offset the test moves: expiry can jump ahead while back-off delays and signatures made against the
/// real clock still work. (Where only "now" matters and nothing needs real time, tests use FakeTimeProvider from
/// Microsoft.Extensions.TimeProvider.Testing instead; it stands still until advanced.)
/// </summary>
public sealed class ShiftedClock : TimeProvider
{
    long _offsetTicks;

    public override DateTimeOffset GetUtcNow() => base.GetUtcNow().AddTicks(Interlocked.Read(ref _offsetTicks));

    public void Advance(TimeSpan by) => Interlocked.Add(ref _offsetTicks, by.Ticks);
}
