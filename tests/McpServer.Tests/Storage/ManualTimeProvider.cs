namespace McpServer.Tests.Storage;

/// <summary>A clock that moves only when a test says so (Microsoft.Extensions.TimeProvider.Testing is not referenced here).</summary>
public sealed class ManualTimeProvider(DateTimeOffset start) : TimeProvider
{
    readonly Lock _lock = new();
    DateTimeOffset _now = start;

    public ManualTimeProvider() : this(new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero)) { }

    public override DateTimeOffset GetUtcNow()
    {
        lock (_lock) return _now;
    }

    public void Advance(TimeSpan time)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(time, TimeSpan.Zero);
        lock (_lock) _now += time;
    }
}
