namespace SessionApi.Tests.Webhooks;

/// <summary>Real time plus an offset the test moves: expiry can jump ahead while back-off delays still pass on their own.</summary>
public sealed class ShiftedClock : TimeProvider
{
    long _offsetTicks;

    public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + TimeSpan.FromTicks(Interlocked.Read(ref _offsetTicks));

    public void Advance(TimeSpan by) => Interlocked.Add(ref _offsetTicks, by.Ticks);
}
