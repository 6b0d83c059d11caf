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
    private readonly List<(SimulatedTimer Timer, object? State, long Armed)> _fired = [];
    private long _armings;
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

    /// <summary>
    /// Runs the callback of the next timer that fired, if any. Callbacks are held back when their timer fires and run
    /// here one at a time, so that two timers due at the same instant (an attempt's timeout and the acquisition's, say)
    /// do not race: the driver lets each one's work settle before the next. Timers due at the same instant run in the
    /// order they were armed (the fake clock itself breaks such ties by hash codes, which differ from run to run).
    /// </summary>
    public bool RunNextFired()
    {
        (SimulatedTimer Timer, object? State, long Armed) next;
        lock (_gate)
        {
            if (_fired.Count == 0)
            {
                return false;
            }

            next = _fired.MinBy(f => f.Armed);
            _fired.Remove(next);
        }

        next.Timer.Invoke(next.State);
        return true;
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

    private void Fired(SimulatedTimer timer, object? state, long armed)
    {
        lock (_gate)
        {
            _fired.Add((timer, state, armed));
        }
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
        // A cached token's renewal timer only marks its entry due: it runs at once, as it fires.
        private readonly bool _inert = callback.Method.DeclaringType?.FullName?.StartsWith("TokenClient.Caching.CacheEntry", StringComparison.Ordinal) == true;
        private readonly object _gate = new();
        private long _armed;
        private int _disposed;
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
            Volatile.Write(ref _disposed, 1);
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
                _armed = Interlocked.Increment(ref clock._armings);
            }
        }

        private void Fire(object? state)
        {
            lock (_gate)
            {
                _due = _period > TimeSpan.Zero && _period != Timeout.InfiniteTimeSpan ? clock.MonotonicNow + _period : null;
            }

            if (_inert)
            {
                callback(state);
                return;
            }

            long armed;
            lock (_gate)
            {
                armed = _armed;
                _armed = Interlocked.Increment(ref clock._armings); // a periodic timer's next firing comes after those armed before it
            }

            clock.Fired(this, state, armed);
        }

        // A callback held back runs unless its timer was disposed meanwhile, as a pool thread's would not start.
        public void Invoke(object? state)
        {
            if (Volatile.Read(ref _disposed) == 0)
            {
                callback(state);
            }
        }
    }
}
