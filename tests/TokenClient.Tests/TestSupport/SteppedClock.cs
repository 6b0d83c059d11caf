using Microsoft.Extensions.Time.Testing;

namespace TokenClient.Tests.TestSupport;

/// <summary>
/// A clock as a real machine's is: timers and timestamps (the monotonic clock) move only forward, with the fake
/// time, while the wall clock (<see cref="GetUtcNow"/>) can be stepped either way, as NTP or a resumed VM steps it.
/// </summary>
internal sealed class SteppedClock : TimeProvider
{
    private long _offsetTicks;

    public FakeTimeProvider Fake { get; } = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    /// <summary>Steps the wall clock alone, by <paramref name="step"/> (negative: back).</summary>
    public void StepWallClock(TimeSpan step) => Interlocked.Add(ref _offsetTicks, step.Ticks);

    public override DateTimeOffset GetUtcNow() => Fake.GetUtcNow() + TimeSpan.FromTicks(Interlocked.Read(ref _offsetTicks));

    public override long GetTimestamp() => Fake.GetTimestamp();

    public override long TimestampFrequency => Fake.TimestampFrequency;

    public override TimeZoneInfo LocalTimeZone => Fake.LocalTimeZone;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
        Fake.CreateTimer(callback, state, dueTime, period);
}
