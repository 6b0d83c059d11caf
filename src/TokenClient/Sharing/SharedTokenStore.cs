using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Logging;
using TokenClient.Diagnostics;

namespace TokenClient.Sharing;

/// <summary>
/// The shared cache of a container (the <see cref="IDistributedCache"/> and, where there is one, the
/// <see cref="ISharedTokenLock"/>), as every client of the container uses it: each call bounded by a
/// timeout of its own, and a failure taken as an outage, reported once, during which nobody calls it
/// until <see cref="OutageRetry"/> has passed. The cache and the lock each have their own outage: a lock that
/// fails leaves the cache in use, without the lock. The clients go on without them meanwhile.
/// </summary>
/// <remarks>
/// The timeouts are measured on the system clock: they bound a network call, which a test's fake clock does
/// not make any faster. The outage's length is a policy, and runs on the container's clock.
/// </remarks>
internal sealed class SharedTokenStore
{
    /// <summary>How long after a failure the shared cache (or its lock) is left alone before it is tried again.</summary>
    internal static readonly TimeSpan OutageRetry = TimeSpan.FromSeconds(5);

    /// <summary>The purpose of the protector made from the container's <see cref="IDataProtectionProvider"/>.</summary>
    internal const string ProtectorPurpose = "TokenClient.SharedCache.v1";

    private readonly IDistributedCache _cache;
    private readonly ISharedTokenLock? _lock;
    private readonly Outage _cacheOutage;
    private readonly Outage _lockOutage;

    public SharedTokenStore(IDistributedCache cache, ISharedTokenLock? sharedLock, IDataProtectionProvider? protection, TimeProvider time, ILogger logger)
    {
        _cache = cache;
        _lock = sharedLock;
        _cacheOutage = new Outage("shared token cache", time, logger);
        _lockOutage = new Outage("shared token lock", time, logger);
        DefaultProtector = protection?.CreateProtector(ProtectorPurpose);
    }

    /// <summary>The protector of the container's Data Protection, for clients that name none of their own.</summary>
    public IDataProtector? DefaultProtector { get; }

    /// <summary>Reads a value: Ok false when the cache failed or is out.</summary>
    public Task<(bool Ok, byte[]? Value)> GetAsync(string key, TimeSpan timeout, CancellationToken cancellationToken) =>
        CallAsync(_cacheOutage, ct => _cache.GetAsync(key, ct), timeout, "reading", cancellationToken);

    /// <summary>
    /// Writes a value that the cache drops at <paramref name="expiresAt"/> (a token just issued: at least 2 seconds
    /// away); a failure is absorbed.
    /// </summary>
    public Task SetAsync(string key, byte[] value, DateTimeOffset expiresAt, TimeSpan timeout)
    {
        var left = expiresAt - _cacheOutage.Now;
        if (left <= TimeSpan.Zero)
        {
            return Task.CompletedTask; // expired on the way (a stepped clock): nothing worth sharing, and no relative expiry below zero
        }

        var entry = new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = left };
        return CallAsync(
            _cacheOutage,
            async ct =>
            {
                await _cache.SetAsync(key, value, entry, ct).ConfigureAwait(false);
                return true;
            },
            timeout,
            "writing",
            CancellationToken.None);
    }

    /// <summary>
    /// Tries to take a lock: Ok false when there is no lock service, or it failed or is out (go on without one);
    /// otherwise a handle, or null when another instance holds the lock.
    /// </summary>
    public async Task<(bool Ok, IAsyncDisposable? Handle)> TryLockAsync(string key, TimeSpan expiry, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (_lock is null)
        {
            return (false, null);
        }

        Task<IAsyncDisposable?>? taking = null;
        var ok = false;
        IAsyncDisposable? handle = null;
        try
        {
            (ok, handle) = await CallAsync(_lockOutage, ct => taking = _lock.TryTakeAsync(key, expiry, ct).AsTask(), timeout, "taking its lock", cancellationToken)
                .ConfigureAwait(false);
        }
        finally
        {
            if (!ok && taking is not null)
            {
                // Taken after its caller stopped waiting (a slow answer, a cancelled caller): released, not left to block the fleet.
                _ = taking.ContinueWith(
                    static t => t.Result?.DisposeAsync().AsTask().ContinueWith(static r => _ = r.Exception, TaskScheduler.Default),
                    CancellationToken.None,
                    // Stryker disable once Bitwise : with '&' it also runs after a failed take, whose Result then throws inside a continuation nobody awaits
                    TaskContinuationOptions.OnlyOnRanToCompletion | TaskContinuationOptions.ExecuteSynchronously,
                    TaskScheduler.Default);
            }
        }

        return (ok, handle);
    }

    /// <summary>
    /// Releases a lock once <paramref name="after"/> (the write of the token) has finished, in the background:
    /// the instances that wait look for the token, not at the lock, so nobody waits for the release; one that
    /// fails leaves a lock that expires by itself, and is no outage.
    /// </summary>
    public static void ReleaseAfter(Task after, IAsyncDisposable handle) =>
        Abandon(after.ContinueWith(static (_, state) => ((IAsyncDisposable)state!).DisposeAsync().AsTask(), handle, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default).Unwrap());

    // One call, bounded by the timeout: an answer, or a failure that starts (or extends) an outage. The caller's
    // cancellation is the caller's, and propagates as such.
    private static async Task<(bool Ok, T? Value)> CallAsync<T>(Outage outage, Func<CancellationToken, Task<T>> call, TimeSpan timeout, string what, CancellationToken cancellationToken)
    {
        if (!outage.AllowsCall(out var epoch))
        {
            return (false, default);
        }

        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(timeout);
        Task<T>? task = null;
        try
        {
            task = call(bounded.Token);
            var value = await task.WaitAsync(bounded.Token).ConfigureAwait(false);
            outage.Succeeded(epoch);
            return (true, value);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Abandon(task);

            throw;
        }
        catch (OperationCanceledException)
        {
            Abandon(task);
            outage.Failed($"no answer {what} within {timeout.TotalSeconds:0.###} s", exception: null);
            return (false, default);
        }
        catch (ObjectDisposedException)
        {
            // The container is being disposed under a call still running: a shutdown, not an outage.
            return (false, default);
        }
        catch (Exception ex)
        {
            outage.Failed($"{what}, {ex.GetType().Name}: {ex.Message}", ex);
            return (false, default);
        }
    }

    // A call left behind by its timeout may still fail: its exception is observed, not thrown at finalization.
    private static void Abandon(Task? task) =>
        task?.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

    /// <summary>
    /// The outage of one service (the cache, or the lock): begun by a failure, reported once, paused for
    /// <see cref="OutageRetry"/>, and ended only by an answer to a call that started after the last failure
    /// (a slow call that started before it says nothing of the service now).
    /// </summary>
    private sealed class Outage(string name, TimeProvider time, ILogger logger)
    {
        private long _retryAtTicks; // UtcTicks before which nobody calls
        private long _failures; // how many failures so far: a call notes it when it starts
        private int _reported; // 1 while an outage has been logged and not yet its end

        public DateTimeOffset Now => time.GetUtcNow();

        public bool AllowsCall(out long epoch)
        {
            epoch = Interlocked.Read(ref _failures);
            return time.GetUtcNow().UtcTicks >= Volatile.Read(ref _retryAtTicks);
        }

        public void Succeeded(long epoch)
        {
            // The pause is over whenever a call is made: only the report is ended here.
            if (Interlocked.Read(ref _failures) == epoch && Interlocked.Exchange(ref _reported, 0) == 1)
            {
                Log.SharedCacheRestored(logger, name);
            }
        }

        public void Failed(string reason, Exception? exception)
        {
            Interlocked.Increment(ref _failures);
            var retryAt = time.GetUtcNow() + OutageRetry;
            Volatile.Write(ref _retryAtTicks, retryAt.UtcTicks);
            if (Interlocked.Exchange(ref _reported, 1) == 0)
            {
                Log.SharedCacheUnavailable(logger, exception, name, reason, retryAt);
            }
        }
    }
}
