using Microsoft.Extensions.Logging;
using TokenClient.Diagnostics;

namespace TokenClient.Caching;

/// <summary>
/// The cache of one key. Readers take the current token with one field read; a timer marks it due
/// at its renewal point, after which callers read the clock: before expiry they still get it at
/// once while one renewal runs in the background, after expiry they wait on the one shared
/// acquisition. Expiry and renewal are measured on the monotonic clock (timestamps and timers), never
/// on the wall clock, whose steps would keep a dead token in service or renew every token at once.
/// </summary>
internal sealed class CachingTokenClient : ITokenClient, IDisposable
{
    // After a failed background renewal, the next try waits this long at most (less when expiry is nearer).
    internal static readonly TimeSpan MaxRenewalRetryDelay = TimeSpan.FromSeconds(30);

    private readonly Func<bool, CancellationToken, Task<IssuedToken>> _requestToken;
    private readonly string _clientName;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CacheStatistics _statistics;
    private readonly CancellationTokenSource _disposed = new();
    private readonly object _gate = new();

    private volatile CacheEntry? _entry;
    private volatile AccessToken? _rejected;
    private volatile AcquisitionFailure? _lastFailure;
    private Task<AccessToken>? _acquisition; // guarded by _gate

    public CachingTokenClient(
        string clientName,
        Func<bool, CancellationToken, Task<IssuedToken>> requestToken,
        double refreshRatio,
        TimeProvider time,
        ILogger logger,
        CacheStatistics statistics)
    {
        _clientName = clientName;
        _requestToken = requestToken;
        RefreshRatio = refreshRatio;
        _time = time;
        _logger = logger;
        _statistics = statistics;
    }

    /// <summary>The acquisition under way, if any; tests await it to see a background renewal finish.</summary>
    internal Task<AccessToken>? PendingAcquisition
    {
        get
        {
            lock (_gate)
            {
                return _acquisition;
            }
        }
    }

    /// <summary>Whether a token request is under way (read without the lock: a glance, for eviction and sweeps).</summary>
    internal bool IsAcquiring => Volatile.Read(ref _acquisition) is not null;

    /// <summary>The fraction of a token's lifetime after which it is renewed; a change applies from the next token on.</summary>
    internal double RefreshRatio { get; set; }

    /// <summary>When the cached token expires, on the wall clock; null when none is cached.</summary>
    internal DateTimeOffset? ExpiresAt => _entry?.Token.ExpiresAt;

    /// <summary>Whether the cached token is still valid, by the monotonic clock.</summary>
    internal bool HoldsValidToken => _entry is { } entry && _time.GetTimestamp() < entry.ExpiresAtTimestamp;

    /// <summary>When the cached token is due for renewal; null when none is cached.</summary>
    internal DateTimeOffset? RenewAt => _entry?.RenewAt;

    /// <summary>The token held now (due for renewal, or expired), if any: a token from elsewhere must be newer.</summary>
    internal AccessToken? Held => _entry?.Token;

    /// <summary>The last acquisition's failure and when it came; null once a token is published again.</summary>
    internal AcquisitionFailure? LastFailure => _lastFailure;

    /// <summary>The last token the API rejected: it is never taken back from elsewhere (the shared cache).</summary>
    internal AccessToken? Rejected => _rejected;

    public ValueTask<AccessToken> GetTokenAsync(CancellationToken cancellationToken = default)
    {
        // The hit path: no lock, no allocation, no clock; counted only while a listener collects the count.
        var entry = _entry;
        if (entry is { IsDue: false })
        {
            _statistics.Hit();
            return new ValueTask<AccessToken>(entry.Token);
        }

        return GetTokenSlowAsync(entry, cancellationToken);
    }

    public void Invalidate(AccessToken rejected)
    {
        ArgumentNullException.ThrowIfNull(rejected);
        var entry = _entry;
        while (entry is not null && string.Equals(entry.Token.Value, rejected.Value, StringComparison.Ordinal))
        {
            _rejected = rejected; // before the entry goes: an acquisition that sees no entry must know it
            var seen = Interlocked.CompareExchange(ref _entry, null, entry);

            // Stryker disable once all : negated, a successful exchange loops once more, fails on the emptied field, and then disposes and logs the same entry
            if (ReferenceEquals(seen, entry))
            {
                entry.Dispose();
                Log.TokenInvalidated(_logger, _clientName);

                // Stryker disable once Statement : without it the loop runs once more and stops, its exchange failing on the emptied field
                return;
            }

            entry = seen;
        }
    }

    public void Dispose()
    {
        // The source is not disposed: an acquisition still running may yet read its token.
        _disposed.Cancel();
        _entry?.Dispose();
    }

    private ValueTask<AccessToken> GetTokenSlowAsync(CacheEntry? entry, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<AccessToken>(cancellationToken);
        }

        var now = _time.GetTimestamp();
        if (entry is not null && now < entry.ExpiresAtTimestamp)
        {
            if (now >= entry.RenewAtTimestamp)
            {
                RenewInBackground(entry);
            }

            _statistics.Hit();
            return new ValueTask<AccessToken>(entry.Token);
        }

        _statistics.Miss();
        return new ValueTask<AccessToken>(WaitAsync(Acquire(), cancellationToken));
    }

    // Each waiting caller gets a failure of its own: an exception awaited by many would have its stack trace rewritten by
    // each of them, from many threads at once, and a caller that changes what it caught (Data) would change it for all.
    private static async Task<AccessToken> WaitAsync(Task<AccessToken> acquisition, CancellationToken cancellationToken)
    {
        try
        {
            return await acquisition.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (TokenRequestException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TokenRequestException(ex.ClientName, ex.Message, ex.StatusCode, ex.Error, ex.ErrorDescription, ex.IsTransient, ex.InnerException);
        }
    }

    private void RenewInBackground(CacheEntry entry)
    {
        Task<AccessToken> renewal;
        lock (_gate)
        {
            // Already renewing, or the entry was renewed or dropped since this caller read it.
            if (_acquisition is not null || !ReferenceEquals(_entry, entry))
            {
                return;
            }

            renewal = _acquisition = StartAcquisition();
        }

        Log.RenewalStarted(_logger, _clientName, entry.Token.ExpiresAt);

        // Nobody awaits a background renewal: AcquireAsync logs its failure and keeps the current token. Its end is
        // counted, and its exception observed; a renewal cancelled by disposal is not counted.
        _ = renewal.ContinueWith(
            static (t, state) =>
            {
                if (t.Exception is not null || t.IsCompletedSuccessfully)
                {
                    ((CacheStatistics)state!).Renewed(t.IsCompletedSuccessfully);
                }
            },
            _statistics,
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    // One acquisition at a time, shared by every caller that arrives while it runs.
    private Task<AccessToken> Acquire()
    {
        TaskCompletionSource<AccessToken> acquisition;
        lock (_gate)
        {
            if (_acquisition is { } running)
            {
                return running;
            }

            // The caller read the entry before taking the lock: an acquisition may have published a
            // fresh token since. Checking again here is what keeps it to one request per token.
            if (_entry is { } fresh && _time.GetTimestamp() < fresh.ExpiresAtTimestamp)
            {
                return Task.FromResult(fresh.Token);
            }

            // The callers who arrive meanwhile wait on it; their continuations never run on the thread that completes it.
            acquisition = new TaskCompletionSource<AccessToken>(TaskCreationOptions.RunContinuationsAsynchronously);
            _acquisition = acquisition.Task;
        }

        // A caller with no token waits for it anyway: the request starts on its thread (outside the lock) until its first
        // wait, without a hop through the thread pool. Not on a thread with a context or a scheduler of its own (a UI, an
        // Orleans grain), where code of the user's in the token endpoint's pipeline could resume on it.
        if (SynchronizationContext.Current is null && TaskScheduler.Current == TaskScheduler.Default)
        {
            _ = CompleteAsync(acquisition);
        }
        else
        {
            _ = Task.Run(() => CompleteAsync(acquisition));
        }

        return acquisition.Task;
    }

    private async Task CompleteAsync(TaskCompletionSource<AccessToken> acquisition)
    {
        try
        {
            acquisition.SetResult(await AcquireAsync().ConfigureAwait(false));
        }
        catch (OperationCanceledException ex)
        {
            acquisition.SetCanceled(ex.CancellationToken); // disposed: cancelled, as Task.Run would have it
        }
        catch (Exception ex)
        {
            // Observed here: when every caller stopped waiting (cancelled), nobody else reads it, and it must not
            // reach TaskScheduler.UnobservedTaskException. Callers still waiting get it all the same.
            acquisition.SetException(ex);
            _ = acquisition.Task.Exception;
        }
    }

    // A background renewal: Task.Run keeps the caller who happened to find the token due (and the lock) out of the HTTP pipeline.
    private Task<AccessToken> StartAcquisition() => Task.Run(AcquireAsync);

    private async Task<AccessToken> AcquireAsync()
    {
        try
        {
            // A renewal while the current token is still valid is told so: no failure cooldown holds it back.
            var renewing = HoldsValidToken;
            var issued = await _requestToken(renewing, _disposed.Token).ConfigureAwait(false);
            Publish(issued);
            if (_disposed.IsCancellationRequested)
            {
                _entry?.Dispose(); // disposed while the answer came: no timer may outlive the cache
            }

            return issued.Token;
        }
        catch (Exception ex)
        {
            // Noted for health checks; and a failed renewal never discards a token that is still valid: keep
            // serving it, try again later.
            _lastFailure = new AcquisitionFailure(ex, _time.GetUtcNow());
            if (_entry is { } current && !_disposed.IsCancellationRequested)
            {
                KeepServing(current);
            }

            throw;
        }
        finally
        {
            lock (_gate)
            {
                _acquisition = null;
            }
        }
    }

    private void Publish(IssuedToken issued)
    {
        _lastFailure = null;
        var next = new CacheEntry(issued.Token, issued.RenewalPoint(RefreshRatio), issued.RenewAtTimestamp(RefreshRatio, _time), issued.ExpiresAtTimestamp(_time), _time);
        var previous = Interlocked.Exchange(ref _entry, next);
        previous?.Dispose();
    }

    private void KeepServing(CacheEntry current)
    {
        var now = _time.GetTimestamp();
        var remaining = _time.GetElapsedTime(now, current.ExpiresAtTimestamp);
        if (remaining <= TimeSpan.Zero)
        {
            return;
        }

        var delay = Durations.Shorter(remaining / 2, MaxRenewalRetryDelay);
        var retryAt = _time.GetUtcNow() + delay;
        var replacement = new CacheEntry(current.Token, retryAt, _time.TimestampAfter(now, delay), current.ExpiresAtTimestamp, _time);
        if (ReferenceEquals(Interlocked.CompareExchange(ref _entry, replacement, current), current))
        {
            current.Dispose();
            Log.RenewalFailed(_logger, _clientName, current.Token.ExpiresAt, retryAt);
        }
        else
        {
            // Stryker disable once Statement : reached only when Invalidate empties the field between the failure and this exchange, which no test can time
            replacement.Dispose();
        }
    }
}
