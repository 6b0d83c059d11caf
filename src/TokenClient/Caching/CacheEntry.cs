namespace TokenClient.Caching;

/// <summary>A cached token, when it is due and expires on the monotonic clock, and the timer that marks it due.</summary>
internal sealed class CacheEntry : IDisposable
{
    // System.Threading.Timer takes at most about 49 days; longer waits are taken in steps.
    private static readonly TimeSpan s_maxTimerStep = TimeSpan.FromDays(30);

    private readonly TimeProvider _time;
    private readonly ITimer _timer;
    private volatile bool _isDue;
    private volatile bool _disposed;

    public CacheEntry(AccessToken token, DateTimeOffset renewAt, long renewAtTimestamp, long expiresAtTimestamp, TimeProvider time)
    {
        Token = token;
        RenewAt = renewAt;
        RenewAtTimestamp = renewAtTimestamp;
        ExpiresAtTimestamp = expiresAtTimestamp;
        _time = time;
        _timer = time.CreateDetachedTimer(static state => ((CacheEntry)state!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);

        Arm();
    }

    public AccessToken Token { get; }

    /// <summary>When it is due, on the wall clock: for what tells it (logs, health, tests), never for a decision.</summary>
    public DateTimeOffset RenewAt { get; }

    public long RenewAtTimestamp { get; }

    public long ExpiresAtTimestamp { get; }

    public bool IsDue => _isDue;

    public void Dispose()
    {
        _disposed = true;
        _timer.Dispose();
    }

    private void OnTimer()
    {
        // A callback may still run after the entry was replaced; a disposed timer must not be changed.
        if (!_disposed)
        {
            Arm();
        }
    }

    // Sets the timer for the next step towards RenewAt, or marks the entry due once RenewAt has come.
    private void Arm()
    {
        var wait = _time.Until(RenewAtTimestamp);
        if (wait <= TimeSpan.Zero)
        {
            _isDue = true;
            return;
        }

        try
        {
            _timer.Change(Durations.Shorter(wait, s_maxTimerStep), Timeout.InfiniteTimeSpan);
        }
        catch (ObjectDisposedException)
        {
            // Disposed between the check and the change: nobody reads this entry any more.
        }
    }
}
