namespace TokenClient.Caching;

/// <summary>
/// One acquisition at a time for one cache: every caller who arrives while it runs waits on it, and each gets a
/// failure of its own. The acquisition starts on the thread of the caller who found no token (it waits anyway), or in
/// the background for a renewal while the current token is still served.
/// </summary>
/// <param name="acquire">The acquisition: a token request, its token published in the cache; told whether a caller forced it.</param>
/// <param name="validToken">The cache's token if it is still valid now: what a caller takes instead of a new acquisition.</param>
internal sealed class AcquisitionGate(Func<bool, Task<AccessToken>> acquire, Func<AccessToken?> validToken)
{
    private readonly object _gate = new();
    private Task<AccessToken>? _running; // guarded by _gate

    /// <summary>The acquisition under way, if any.</summary>
    public Task<AccessToken>? Running
    {
        get
        {
            lock (_gate)
            {
                return _running;
            }
        }
    }

    /// <summary>Whether an acquisition is under way (read without the lock: a glance, for eviction and sweeps).</summary>
    public bool IsRunning => Volatile.Read(ref _running) is not null;

    /// <summary>
    /// Waits on the acquisition under way, or starts one; with a failure of the caller's own. An exception awaited by many
    /// would have its stack trace rewritten by each of them, from many threads at once, and a caller that changes what it
    /// caught (Data) would change it for all.
    /// </summary>
    /// <param name="cancellationToken">Cancels this caller's wait.</param>
    /// <param name="forced">A renewal a caller forced: a valid token is not enough, it must be another than <paramref name="replacing"/>.</param>
    /// <param name="replacing">With <paramref name="forced"/>: the token held when the caller asked, if any.</param>
    public async Task<AccessToken> WaitAsync(CancellationToken cancellationToken, bool forced = false, AccessToken? replacing = null)
    {
        try
        {
            return await Join(forced, replacing).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (TokenRequestException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TokenRequestException(ex.ClientName, ex.Message, ex.StatusCode, ex.Error, ex.ErrorDescription, ex.IsTransient, ex.InnerException);
        }
    }

    /// <summary>Starts an acquisition in the background unless one is under way or <paramref name="stillDue"/> says no more; returns it, or null.</summary>
    public Task<AccessToken>? TryStartInBackground<TState>(Func<TState, bool> stillDue, TState state)
    {
        lock (_gate)
        {
            if (_running is not null || !stillDue(state))
            {
                return null;
            }

            // Task.Run keeps the caller who happened to find the token due (and the lock) out of the HTTP pipeline.
            return _running = Task.Run(() => RunAsync(forced: false));
        }
    }

    private Task<AccessToken> Join(bool forced, AccessToken? replacing)
    {
        TaskCompletionSource<AccessToken> acquisition;
        lock (_gate)
        {
            if (_running is { } running)
            {
                return running;
            }

            // The caller read the cache before taking the lock: an acquisition may have published a fresh token since.
            // Looking again here is what keeps it to one request per token (and one per forced renewal).
            if (validToken() is { } fresh && !(forced && ReferenceEquals(fresh, replacing)))
            {
                return Task.FromResult(fresh);
            }

            // The callers who arrive meanwhile wait on it; their continuations never run on the thread that completes it.
            acquisition = new TaskCompletionSource<AccessToken>(TaskCreationOptions.RunContinuationsAsynchronously);
            _running = acquisition.Task;
        }

        // A caller with no token waits for it anyway: the request starts on its thread (outside the lock) until its first
        // wait, without a hop through the thread pool. Not on a thread with a context or a scheduler of its own (a UI, an
        // Orleans grain), where code of the user's in the token endpoint's pipeline could resume on it.
        if (SynchronizationContext.Current is null && TaskScheduler.Current == TaskScheduler.Default)
        {
            _ = CompleteAsync(acquisition, forced);
        }
        else
        {
            _ = Task.Run(() => CompleteAsync(acquisition, forced));
        }

        return acquisition.Task;
    }

    private async Task CompleteAsync(TaskCompletionSource<AccessToken> acquisition, bool forced)
    {
        try
        {
            acquisition.SetResult(await RunAsync(forced).ConfigureAwait(false));
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

    // The gate opens when the acquisition ends, before its callers are told: one who comes after finds the token it published.
    private async Task<AccessToken> RunAsync(bool forced)
    {
        try
        {
            return await acquire(forced).ConfigureAwait(false);
        }
        finally
        {
            lock (_gate)
            {
                _running = null;
            }
        }
    }
}
