using Microsoft.Extensions.Time.Testing;

namespace TokenClient.Tests.Simulation;

/// <summary>
/// The simulation's clock. Timers and timestamps run on a <see cref="FakeTimeProvider"/> that only moves forward
/// (the machine's monotonic clock); the wall clock (<see cref="GetUtcNow"/>) is that plus an offset that can be
/// stepped either way, as NTP steps a real one. It knows when each of its timers is due next, so that the driver
/// moves time from one event to the next and lets each event's work settle before the next.
/// </summary>
internal sealed class SimulationClock : TimeProvider
{
    public static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly object _gate = new();
    private readonly HashSet<SimulatedTimer> _timers = [];
    private long _offsetTicks;

    /// <summary>The monotonic clock: what the simulation measures true time by.</summary>
    public FakeTimeProvider Monotonic { get; } = new(Start);

    public DateTimeOffset MonotonicNow => Monotonic.GetUtcNow();

    /// <summary>How far the wall clock is from the monotonic one (positive: ahead).</summary>
    public TimeSpan WallOffset => TimeSpan.FromTicks(Interlocked.Read(ref _offsetTicks));

    /// <summary>The time since the simulation started, for traces.</summary>
    public TimeSpan Elapsed => MonotonicNow - Start;

    public override DateTimeOffset GetUtcNow() => Monotonic.GetUtcNow() + WallOffset;

    public override long GetTimestamp() => Monotonic.GetTimestamp();

    public override long TimestampFrequency => Monotonic.TimestampFrequency;

    public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;

    /// <summary>Steps the wall clock alone: timers and timestamps go on as before.</summary>
    public void StepWallClock(TimeSpan by) => Interlocked.Add(ref _offsetTicks, by.Ticks);

    /// <summary>Moves the monotonic clock (and the wall clock with it) to <paramref name="when"/>, firing the timers due by then.</summary>
    public void AdvanceTo(DateTimeOffset when)
    {
        var by = when - MonotonicNow;
        Monotonic.Advance(by > TimeSpan.Zero ? by : TimeSpan.Zero);
    }

    /// <summary>When the earliest live timer is due, on the monotonic clock; null when none is armed.</summary>
    public DateTimeOffset? NextTimerDue()
    {
        lock (_gate)
        {
            DateTimeOffset? next = null;
            foreach (var timer in _timers)
            {
                if (timer.Due is { } due && (next is null || due < next))
                {
                    next = due;
                }
            }

            return next;
        }
    }

    /// <summary>The timers created and not yet disposed.</summary>
    public int LiveTimers
    {
        get
        {
            lock (_gate)
            {
                return _timers.Count;
            }
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new SimulatedTimer(this, callback, period);
        lock (_gate)
        {
            _timers.Add(timer);
        }

        timer.Start(state, dueTime);
        return timer;
    }

    private void Forget(SimulatedTimer timer)
    {
        lock (_gate)
        {
            _timers.Remove(timer);
        }
    }

    /// <summary>A timer of the fake clock that remembers when it is due next.</summary>
    private sealed class SimulatedTimer(SimulationClock clock, TimerCallback callback, TimeSpan period) : ITimer
    {
        private readonly object _gate = new();
        private ITimer? _inner;
        private TimeSpan _period = period;
        private DateTimeOffset? _due;

        public DateTimeOffset? Due
        {
            get
            {
                lock (_gate)
                {
                    return _due;
                }
            }
        }

        public void Start(object? state, TimeSpan dueTime)
        {
            // Due is set before the inner timer exists: a timer due at once fires inside CreateTimer.
            Arm(dueTime, _period);
            _inner = clock.Monotonic.CreateTimer(Fire, state, dueTime, _period);
        }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            Arm(dueTime, period);
            return _inner!.Change(dueTime, period);
        }

        public void Dispose()
        {
            lock (_gate)
            {
                _due = null;
            }

            clock.Forget(this);
            _inner?.Dispose();
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return default;
        }

        private void Arm(TimeSpan dueTime, TimeSpan period)
        {
            lock (_gate)
            {
                _period = period;
                _due = dueTime == Timeout.InfiniteTimeSpan ? null : clock.MonotonicNow + dueTime;
            }
        }

        private void Fire(object? state)
        {
            lock (_gate)
            {
                _due = _period > TimeSpan.Zero && _period != Timeout.InfiniteTimeSpan ? clock.MonotonicNow + _period : null;
            }

            callback(state);
        }
    }
}
