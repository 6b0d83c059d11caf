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
    private readonly AcquisitionGate _acquisition;

    private volatile CacheEntry? _entry;
    private volatile AccessToken? _rejected;
    private volatile AcquisitionFailure? _lastFailure;

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
        _acquisition = new AcquisitionGate(AcquireAsync, ValidToken);
    }

    /// <summary>The acquisition under way, if any; tests await it to see a background renewal finish.</summary>
    internal Task<AccessToken>? PendingAcquisition => _acquisition.Running;

    /// <summary>Whether a token request is under way (read without the lock: a glance, for eviction and sweeps).</summary>
    internal bool IsAcquiring => _acquisition.IsRunning;

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

    /// <summary>
    /// A token newer than the one held when called (ForceRenewal): the acquisition under way if there is one, else the
    /// token published since the call, else a new acquisition, which every caller who forces meanwhile joins. The token
    /// held stays in service for the callers who do not force until the new one takes its place (or, if the request
    /// fails, for as long as it is valid); the shared cache never hands it back; the failure cooldown applies.
    /// </summary>
    public Task<AccessToken> RenewAsync(CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<AccessToken>(cancellationToken);
        }

        // The token held stays held until replaced: the shared level takes only a newer one, so never this one back.
        var replacing = _entry?.Token;
        _statistics.Miss();
        return _acquisition.WaitAsync(cancellationToken, forced: true, replacing);
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
        return new ValueTask<AccessToken>(_acquisition.WaitAsync(cancellationToken));
    }

    private AccessToken? ValidToken() => _entry is { } fresh && _time.GetTimestamp() < fresh.ExpiresAtTimestamp ? fresh.Token : null;


    private void RenewInBackground(CacheEntry entry)
    {
        // Not when already renewing, or when the entry was renewed or dropped since this caller read it.
        if (_acquisition.TryStartInBackground(static due => ReferenceEquals(due.Cache._entry, due.Entry), (Cache: this, Entry: entry)) is not { } renewal)
        {
            return;
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

    private async Task<AccessToken> AcquireAsync(bool forced)
    {
        try
        {
            // A renewal while the current token is still valid is told so: no failure cooldown holds it back. A renewal
            // a caller forced is not one: a caller who forces again and again must not hammer a failing endpoint.
            var renewing = !forced && HoldsValidToken;
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
            replacement.Dispose();
        }
    }
}
