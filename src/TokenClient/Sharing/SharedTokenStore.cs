using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Logging;
using TokenClient.Diagnostics;

namespace TokenClient.Sharing;

/// <summary>
/// The shared cache of a container (the <see cref="IDistributedCache"/> and, where there is one, the
/// <see cref="ISharedTokenLock"/>), as every client of the container uses it: each call bounded by a
/// timeout of its own, and a failure taken as an outage, reported once, during which nobody calls it
/// until <see cref="OutageRetry"/> has passed. The clients go on without it meanwhile.
/// </summary>
/// <remarks>
/// The timeouts are measured on the system clock: they bound a network call, which a test's fake clock does
/// not make any faster. The outage's length is a policy, and runs on the container's clock.
/// </remarks>
internal sealed class SharedTokenStore
{
    /// <summary>How long after a failure the shared cache is left alone before it is tried again.</summary>
    internal static readonly TimeSpan OutageRetry = TimeSpan.FromSeconds(5);

    /// <summary>The purpose of the protector made from the container's <see cref="IDataProtectionProvider"/>.</summary>
    internal const string ProtectorPurpose = "TokenClient.SharedCache.v1";

    private readonly IDistributedCache _cache;
    private readonly ISharedTokenLock? _lock;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private long _retryAtTicks; // UtcTicks before which nobody calls; 0 when no outage
    private int _reported; // 1 while an outage has been logged and not yet its end

    public SharedTokenStore(IDistributedCache cache, ISharedTokenLock? sharedLock, IDataProtectionProvider? protection, TimeProvider time, ILogger logger)
    {
        _cache = cache;
        _lock = sharedLock;
        _time = time;
        _logger = logger;
        DefaultProtector = protection?.CreateProtector(ProtectorPurpose);
    }

    /// <summary>The protector of the container's Data Protection, for clients that name none of their own.</summary>
    public IDataProtector? DefaultProtector { get; }

    /// <summary>Whether the shared cache may be called now: no outage, or its pause is over.</summary>
    public bool IsAvailable => _time.GetUtcNow().UtcTicks >= Volatile.Read(ref _retryAtTicks);

    /// <summary>Reads a value: Ok false when the cache failed or is out.</summary>
    public Task<(bool Ok, byte[]? Value)> GetAsync(string key, TimeSpan timeout, CancellationToken cancellationToken) =>
        CallAsync(ct => _cache.GetAsync(key, ct), timeout, Call.Read, cancellationToken);

    /// <summary>Writes a value that the cache drops at <paramref name="expiresAt"/>; a failure is absorbed.</summary>
    public async Task SetAsync(string key, byte[] value, DateTimeOffset expiresAt, TimeSpan timeout)
    {
        var remaining = expiresAt - _time.GetUtcNow();
        if (remaining > TimeSpan.Zero)
        {
            var entry = new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = remaining };
            await CallAsync(async ct => { await _cache.SetAsync(key, value, entry, ct).ConfigureAwait(false); return true; }, timeout, Call.Write, CancellationToken.None)
                .ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Tries to take a lock: Ok false when there is no lock service or the call failed (go on without one);
    /// otherwise a handle, or null when another instance holds the lock.
    /// </summary>
    public async Task<(bool Ok, IAsyncDisposable? Handle)> TryLockAsync(string key, TimeSpan expiry, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (_lock is null)
        {
            return (false, null);
        }

        var (ok, handle) = await CallAsync(ct => _lock.TryTakeAsync(key, expiry, ct).AsTask(), timeout, Call.Lock, cancellationToken).ConfigureAwait(false);
        return (ok, handle is null ? null : new BackgroundRelease(handle));
    }

    // One call, bounded by the timeout: an answer, or a failure that starts (or extends) an outage. The caller's
    // cancellation is the caller's, and propagates as such.
    private async Task<(bool Ok, T? Value)> CallAsync<T>(Func<CancellationToken, Task<T>> call, TimeSpan timeout, Call kind, CancellationToken cancellationToken)
    {
        if (!IsAvailable)
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
            Succeeded();
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
            Failed($"no answer {Describe(kind)} within {timeout.TotalSeconds:0.###} s", exception: null);
            return (false, default);
        }
        catch (Exception ex)
        {
            Failed($"{Describe(kind)}, {ex.GetType().Name}: {ex.Message}", ex);
            return (false, default);
        }
    }

    // A call left behind by its timeout may still fail: its exception is observed, not thrown at finalization.
    private static void Abandon(Task? task) =>
        task?.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

    private static string Describe(Call kind) => kind switch
    {
        Call.Read => "reading",
        Call.Write => "writing",
        _ => "taking its lock",
    };

    private void Succeeded()
    {
        if (Interlocked.Exchange(ref _reported, 0) == 1)
        {
            Volatile.Write(ref _retryAtTicks, 0);
            Log.SharedCacheRestored(_logger);
        }
    }

    private void Failed(string reason, Exception? exception)
    {
        var retryAt = _time.GetUtcNow() + OutageRetry;
        Volatile.Write(ref _retryAtTicks, retryAt.UtcTicks);
        if (Interlocked.Exchange(ref _reported, 1) == 0)
        {
            Log.SharedCacheUnavailable(_logger, exception, reason, retryAt);
        }
    }

    private enum Call
    {
        Read,
        Write,
        Lock,
    }

    /// <summary>
    /// Releases a lock in the background: the instances that wait look for the token, not at the lock, so nobody
    /// waits for the release; one that fails leaves a lock that expires by itself, and is no outage.
    /// </summary>
    private sealed class BackgroundRelease(IAsyncDisposable handle) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            Abandon(Task.Run(async () => await handle.DisposeAsync().ConfigureAwait(false)));
            return ValueTask.CompletedTask;
        }
    }
}
