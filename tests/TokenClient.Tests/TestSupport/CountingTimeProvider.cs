using Microsoft.Extensions.Time.Testing;

namespace TokenClient.Tests.TestSupport;

/// <summary>A <see cref="FakeTimeProvider"/> that counts the timers created on it and not yet disposed, and the reads of its clock.</summary>
internal sealed class CountingTimeProvider : TimeProvider
{
    private int _live;
    private int _reads;

    public FakeTimeProvider Fake { get; } = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    public int LiveTimers => Volatile.Read(ref _live);

    /// <summary>How many times the clock (the wall clock or the monotonic one) was read.</summary>
    public int Reads => Volatile.Read(ref _reads);

    public override DateTimeOffset GetUtcNow()
    {
        Interlocked.Increment(ref _reads);
        return Fake.GetUtcNow();
    }

    public override long GetTimestamp()
    {
        Interlocked.Increment(ref _reads);
        return Fake.GetTimestamp();
    }

    public override long TimestampFrequency => Fake.TimestampFrequency;

    public override TimeZoneInfo LocalTimeZone => Fake.LocalTimeZone;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        Interlocked.Increment(ref _live);
        return new Counted(this, Fake.CreateTimer(callback, state, dueTime, period));
    }

    private sealed class Counted(CountingTimeProvider owner, ITimer inner) : ITimer
    {
        private int _disposed;

        public bool Change(TimeSpan dueTime, TimeSpan period) => inner.Change(dueTime, period);

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                Interlocked.Decrement(ref owner._live);
            }

            inner.Dispose();
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return default;
        }
    }
}
