using System.Diagnostics;
using Microsoft.Extensions.Caching.Distributed;
using TokenClient.Sharing;

namespace TokenClient.Tests.Simulation;

/// <summary>
/// The shared cache and lock of the fleet, in memory, on the simulation's clock: each instance reaches it through
/// a view of its own (<see cref="CacheFor"/>, <see cref="LockFor"/>) that can fail, answer late (in fake time), or
/// fail to release a lock. A lock held by a handle is extended for as long as the handle is not disposed, as
/// TokenClient.Redis extends it; a foreign lock (a key someone else set) holds until its expiry, or forever, and one with no
/// expiry, or a longer one than a holder sets, is not waited for, as TokenClient.Redis does.
/// </summary>
/// <remarks>
/// <para>
/// An instance that finds the lock held polls the cache on the system clock (Task.Delay of 50 to 400 ms), which no
/// fake clock drives. To keep the run deterministic, such a poller's reads are parked here, and released by the
/// driver only at the end of a step in which something it looks at changed (the key's value or lock, a failure
/// of its instance's cache, a threshold of time crossed); the driver waits, in real time, for the poller to come
/// back to its next read. Between two such releases its looks would all see the same, so none is lost.
/// </para>
/// <para>
/// Outside the simulation: the per-call timeouts (SharedCacheTimeout, on the system clock, set long enough never
/// to fire here) and the waiter's patience (TotalTimeout plus the lock's expiry, on a Stopwatch); slowness is
/// simulated as latency in fake time only.
/// </para>
/// </remarks>
internal sealed class SimulatedRedis
{
    private readonly object _gate = new();
    private readonly SimulationClock _clock;
    private readonly Dictionary<string, Stored> _values = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Holder> _locks = new(StringComparer.Ordinal);
    private readonly List<LockHandle> _handles = [];
    private readonly Dictionary<(int Instance, string Key), Poller> _pollers = [];
    private readonly Dictionary<string, long> _versions = new(StringComparer.Ordinal);
    private readonly Dictionary<(int Instance, string Key), long> _refusedAt = [];
    private readonly long[] _instanceVersions;
    private readonly List<Delayed> _delayed = [];
    private long _order;
    private int _handleIds;

    public SimulatedRedis(SimulationClock clock, int instances)
    {
        _clock = clock;
        _instanceVersions = new long[instances];
        Faults = Enumerable.Range(0, instances).Select(_ => new RedisFaults()).ToArray();
    }

    public const string LockSuffix = ":lock";

    /// <summary>What each instance's view does wrong now.</summary>
    public RedisFaults[] Faults { get; }

    /// <summary>Finds the acquisition (and the tenant) behind a key of an instance, for a poller: its end ends the polling.</summary>
    public Func<int, string, (Task? Acquisition, string? Tenant)> FindAcquisition { get; set; } = (_, _) => (null, null);

    /// <summary>What the driver could not keep deterministic (a poller that did not come back in time), for the failure message.</summary>
    public List<string> Warnings { get; } = [];

    public IDistributedCache CacheFor(int instance) => new CacheView(this, instance);

    public ISharedTokenLock LockFor(int instance) => new LockView(this, instance);

    /// <summary>Locks taken and not released (a failed release counts as released: the lock then expires by itself).</summary>
    public IReadOnlyList<LockHandle> HeldHandles()
    {
        lock (_gate)
        {
            return _handles.Where(h => h.ReleasedAt is null && h.ReleaseFailedAt is null).ToList();
        }
    }

    public int HandlesTaken
    {
        get
        {
            lock (_gate)
            {
                return _handles.Count;
            }
        }
    }

    /// <summary>Sets a lock nobody in the fleet holds: with no expiry, a huge one, or the few seconds a dead holder leaves.</summary>
    public bool PlantForeignLock(string key, TimeSpan? expiry)
    {
        lock (_gate)
        {
            var lockKey = key + LockSuffix;
            if (_locks.TryGetValue(lockKey, out var holder) && holder.IsHeld(_clock.MonotonicNow))
            {
                return false;
            }

            _locks[lockKey] = new Holder(null, expiry is { } e ? _clock.MonotonicNow + e : null);
            Bump(key);
            return true;
        }
    }

    public void RemoveForeignLocks()
    {
        lock (_gate)
        {
            foreach (var (lockKey, holder) in _locks.Where(l => l.Value.Handle is null).ToList())
            {
                _locks.Remove(lockKey);
                Bump(lockKey[..^LockSuffix.Length]);
            }
        }
    }

    /// <summary>A change of an instance's faults is a change its pollers must see.</summary>
    public void FaultsChanged(int instance)
    {
        lock (_gate)
        {
            _instanceVersions[instance]++;
        }
    }

    /// <summary>The wall clock was stepped: a value's renewal point may now be behind or ahead.</summary>
    public void WallClockStepped()
    {
        lock (_gate)
        {
            foreach (var key in _values.Keys)
            {
                Bump(key);
            }
        }
    }

    /// <summary>The next moment something happens here by itself: a late answer, or, while someone polls, a value or lock expiring or a value due.</summary>
    public DateTimeOffset? NextDue()
    {
        lock (_gate)
        {
            var now = _clock.MonotonicNow;
            var times = _delayed.Select(d => d.Due).ToList();
            foreach (var (_, key) in _pollers.Keys)
            {
                times.AddRange(Thresholds(key).Where(t => t > now));
            }

            return times.Count == 0 ? null : times.Min();
        }
    }

    /// <summary>After the clock moved from <paramref name="before"/>: the late answers due are given, and thresholds crossed are changes.</summary>
    public void TimeAdvanced(DateTimeOffset before)
    {
        List<Delayed> due;
        lock (_gate)
        {
            var now = _clock.MonotonicNow;
            foreach (var (_, key) in _pollers.Keys.ToList())
            {
                if (Thresholds(key).Any(t => t > before && t <= now) || (now > before && _values.TryGetValue(key, out var value) && value.RenewAt is null))
                {
                    Bump(key);
                }
            }

            due = _delayed.Where(d => d.Due <= now).OrderBy(d => d.Due).ThenBy(d => d.Order).ToList();
            _delayed.RemoveAll(d => d.Due <= now);
        }

        foreach (var delayed in due)
        {
            delayed.Run();
        }
    }

    /// <summary>
    /// Lets each poller that has something new to see take one look, one at a time, each followed by
    /// <paramref name="settle"/>: the end of every step. Returns how many looks were released.
    /// </summary>
    public async Task<int> ReleasePollersAsync(Func<Task> settle)
    {
        var released = 0;
        for (var round = 0; round < 100; round++)
        {
            Poller? next;
            lock (_gate)
            {
                next = _pollers.Values
                    .Where(p => p.Parked is not null ? p.Seen != Relevance(p) || p.Acquisition is { IsCompleted: true } : p.Seen != Relevance(p))
                    .OrderBy(p => p.Instance).ThenBy(p => p.Key, StringComparer.Ordinal)
                    .FirstOrDefault();
            }

            if (next is null)
            {
                return released;
            }

            // Back from its wait on the system clock: 50 to 400 ms, so 3 s means it is not coming.
            var guard = Stopwatch.StartNew();
            while (true)
            {
                lock (_gate)
                {
                    if (next.Parked is not null || next.Ended)
                    {
                        break;
                    }
                }

                if (guard.Elapsed > TimeSpan.FromSeconds(3))
                {
                    lock (_gate)
                    {
                        Warnings.Add($"a poller of i{next.Instance} for {next.Tenant ?? "(own)"} did not look again within 3 s of real time; it was let go");
                        Forget(next);
                    }

                    break;
                }

                await Task.Delay(1).ConfigureAwait(false);
            }

            Parked? parked;
            lock (_gate)
            {
                next.Seen = Relevance(next);
                parked = next.Parked;
                next.Parked = null;
            }

            if (parked is not null)
            {
                parked.Release();
                released++;
            }

            await settle().ConfigureAwait(false);
        }

        lock (_gate)
        {
            Warnings.Add("pollers kept finding something new after 100 looks in one step");
        }

        return released;
    }

    /// <summary>The instance's acquisition for this tenant went to the token endpoint: it no longer polls.</summary>
    public void WentToEndpoint(int instance, string? tenant)
    {
        lock (_gate)
        {
            foreach (var poller in _pollers.Values.Where(p => p.Instance == instance && p.Tenant == tenant).ToList())
            {
                Forget(poller);
            }
        }
    }

    public bool HasPollers
    {
        get
        {
            lock (_gate)
            {
                return _pollers.Count > 0;
            }
        }
    }

    private IEnumerable<DateTimeOffset> Thresholds(string key)
    {
        if (_values.TryGetValue(key, out var value))
        {
            yield return value.ExpiresAt;
            if (value.RenewAt is { } renewAt)
            {
                yield return renewAt - _clock.WallOffset; // on the monotonic clock, at the present offset
            }
        }

        if (_locks.TryGetValue(key + LockSuffix, out var holder) && holder.ExpiresAt is { } expiresAt)
        {
            yield return expiresAt;
        }
    }

    private long Relevance(Poller poller) => _versions.GetValueOrDefault(poller.Key) + _instanceVersions[poller.Instance];

    private void Bump(string key) => _versions[key] = _versions.GetValueOrDefault(key) + 1;

    private void Forget(Poller poller)
    {
        poller.Ended = true;
        if (_pollers.TryGetValue((poller.Instance, poller.Key), out var current) && ReferenceEquals(current, poller))
        {
            _pollers.Remove((poller.Instance, poller.Key));
        }

        // A look parked for an acquisition that ended is nobody's: let it through now.
        if (poller.Parked is { } parked)
        {
            poller.Parked = null;
            parked.Release();
        }
    }

    // One call of an instance: it fails, answers late (in fake time), or answers now.
    private Task<T> Call<T>(int instance, bool isLock, Func<T> answer, CancellationToken cancellationToken)
    {
        var faults = Faults[instance];
        lock (_gate)
        {
            if (isLock ? faults.LockThrows : faults.CacheThrows)
            {
                _instanceVersions[instance]++;
                return Task.FromException<T>(new SimulatedRedisException(isLock ? "the lock" : "the cache"));
            }

            var latency = isLock ? faults.LockLatency : faults.CacheLatency;
            if (latency > TimeSpan.Zero)
            {
                var late = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
                _delayed.Add(new Delayed(_clock.MonotonicNow + latency, _order++, () =>
                {
                    // Redis carries out a command whose caller stopped waiting: a lock set so has no holder to extend or
                    // release it, and frees itself after its expiry (TokenClient.Redis extends only a lock it was told it took).
                    var value = answer();
                    if (!late.TrySetResult(value) && value is LockHandle orphan)
                    {
                        Orphan(orphan);
                    }
                }));
                cancellationToken.UnsafeRegister(static s => ((TaskCompletionSource<T>)s!).TrySetCanceled(), late);
                return late.Task;
            }
        }

        return Task.FromResult(answer());
    }

    private Task<byte[]?> GetAsync(int instance, string key, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_pollers.TryGetValue((instance, key), out var poller) && poller.Parked is null && poller.Acquisition is { IsCompleted: false })
            {
                var parked = new Parked(() => Call(instance, isLock: false, () => Read(key), CancellationToken.None));
                poller.Parked = parked;
                cancellationToken.UnsafeRegister(static s => ((Parked)s!).Cancel(), parked);
                return parked.Task;
            }
        }

        return Call(instance, isLock: false, () => Read(key), cancellationToken);
    }

    private byte[]? Read(string key)
    {
        lock (_gate)
        {
            if (_values.TryGetValue(key, out var value) && _clock.MonotonicNow < value.ExpiresAt)
            {
                return value.Bytes;
            }

            return null;
        }
    }

    private Task SetAsync(int instance, string key, byte[] bytes, DistributedCacheEntryOptions options, CancellationToken cancellationToken) =>
        Call(
            instance,
            isLock: false,
            () =>
            {
                lock (_gate)
                {
                    var now = _clock.MonotonicNow;
                    var expiresAt = options.AbsoluteExpirationRelativeToNow is { } relative ? now + relative
                        : options.AbsoluteExpiration is { } absolute ? now + (absolute - _clock.GetUtcNow())
                        : DateTimeOffset.MaxValue;
                    _values[key] = new Stored(bytes, expiresAt, RenewAtOf(bytes));
                    Bump(key);
                    return true;
                }
            },
            cancellationToken);

    // The value's renewal point, where it can be read (no Data Protection); null otherwise.
    private DateTimeOffset? RenewAtOf(byte[] bytes)
    {
        try
        {
            return SharedTokenValue.Parse(bytes, _clock.GetUtcNow()).RenewAt;
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private async ValueTask<IAsyncDisposable?> TryTakeAsync(int instance, string lockKey, TimeSpan expiry, CancellationToken cancellationToken)
    {
        var handle = await Call<IAsyncDisposable?>(instance, isLock: true, () => Take(instance, lockKey, expiry), cancellationToken).ConfigureAwait(false);
        if (handle is null)
        {
            Refused(instance, lockKey[..^LockSuffix.Length]);
        }

        return handle;
    }

    private IAsyncDisposable? Take(int instance, string lockKey, TimeSpan expiry)
    {
        lock (_gate)
        {
            var now = _clock.MonotonicNow;
            var key = lockKey[..^LockSuffix.Length];
            if (_locks.TryGetValue(lockKey, out var holder) && holder.IsHeld(now))
            {
                // As TokenClient.Redis does: a foreign key with no expiry, or a longer one than a holder sets, is not waited for.
                if (holder.Handle is null && (holder.ExpiresAt is not { } foreignUntil || foreignUntil - now > expiry))
                {
                    return NotHeld.Instance;
                }

                // What the refused instance has seen is what is here now: a release between this refusal and the poller's
                // registration (the holder's release runs on another thread) is a change it has not seen, and must wake it.
                _refusedAt[(instance, key)] = _versions.GetValueOrDefault(key) + _instanceVersions[instance];
                return null;
            }

            var handle = new LockHandle(this, ++_handleIds, instance, key, now, expiry);
            _handles.Add(handle);
            _locks[lockKey] = new Holder(handle, null);
            Bump(key);
            if (_pollers.TryGetValue((instance, key), out var poller))
            {
                Forget(poller);
            }

            return handle;
        }
    }

    // Refused: the instance now polls for this key, until its acquisition ends, it takes the lock, or it goes to the endpoint.
    private void Refused(int instance, string key)
    {
        var (acquisition, tenant) = FindAcquisition(instance, key);
        Poller poller;
        lock (_gate)
        {
            if (_pollers.TryGetValue((instance, key), out var existing) && ReferenceEquals(existing.Acquisition, acquisition))
            {
                _refusedAt.Remove((instance, key)); // it polls already, and sees every change after the look it was let go for
                return;
            }

            poller = new Poller(instance, key, tenant, acquisition) { Seen = 0 };
            poller.Seen = _refusedAt.Remove((instance, key), out var seen) ? seen : Relevance(poller);
            _pollers[(instance, key)] = poller;
        }

        acquisition?.ContinueWith(
            (_, state) =>
            {
                lock (_gate)
                {
                    Forget((Poller)state!);
                }
            },
            poller,
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    private void Orphan(LockHandle handle)
    {
        lock (_gate)
        {
            var now = _clock.MonotonicNow;
            handle.ReleaseFailedAt = now;
            var lockKey = handle.Key + LockSuffix;
            if (_locks.TryGetValue(lockKey, out var holder) && ReferenceEquals(holder.Handle, handle))
            {
                _locks[lockKey] = holder with { ExpiresAt = now + handle.Expiry };
            }

            Bump(handle.Key);
        }
    }

    private ValueTask Release(LockHandle handle)
    {
        lock (_gate)
        {
            if (handle.ReleasedAt is not null || handle.ReleaseFailedAt is not null)
            {
                return ValueTask.CompletedTask;
            }

            var now = _clock.MonotonicNow;
            var lockKey = handle.Key + LockSuffix;
            if (Faults[handle.Instance].ReleaseFails)
            {
                // Nobody extends it any more: it frees itself after its expiry.
                handle.ReleaseFailedAt = now;
                if (_locks.TryGetValue(lockKey, out var holder) && ReferenceEquals(holder.Handle, handle))
                {
                    _locks[lockKey] = holder with { ExpiresAt = now + handle.Expiry };
                }

                Bump(handle.Key);
                _instanceVersions[handle.Instance]++;
                return ValueTask.FromException(new SimulatedRedisException("releasing the lock"));
            }

            handle.ReleasedAt = now;
            if (_locks.TryGetValue(lockKey, out var current) && ReferenceEquals(current.Handle, handle))
            {
                _locks.Remove(lockKey);
            }

            Bump(handle.Key);
            return ValueTask.CompletedTask;
        }
    }

    private sealed record Stored(byte[] Bytes, DateTimeOffset ExpiresAt, DateTimeOffset? RenewAt);

    /// <summary>Who holds a lock: a handle (held while not released), or a foreign key (until its expiry; null: forever).</summary>
    private sealed record Holder(LockHandle? Handle, DateTimeOffset? ExpiresAt)
    {
        public bool IsHeld(DateTimeOffset now) => Handle is { ReleasedAt: null, ReleaseFailedAt: null } || (ExpiresAt is { } expiresAt ? now < expiresAt : Handle is null);
    }

    private sealed record Delayed(DateTimeOffset Due, long Order, Action Run);

    /// <summary>A look into the cache held back until the driver lets it through.</summary>
    private sealed class Parked(Func<Task<byte[]?>> look)
    {
        private readonly TaskCompletionSource<byte[]?> _answer = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<byte[]?> Task => _answer.Task;

        public void Cancel() => _answer.TrySetCanceled();

        public void Release()
        {
            if (!_answer.Task.IsCompleted)
            {
                look().ContinueWith(
                    static (t, state) =>
                    {
                        var answer = (TaskCompletionSource<byte[]?>)state!;
                        _ = t.IsFaulted ? answer.TrySetException(t.Exception!.InnerExceptions) : t.IsCanceled ? answer.TrySetCanceled() : answer.TrySetResult(t.Result);
                    },
                    _answer,
                    CancellationToken.None,
                    TaskContinuationOptions.ExecuteSynchronously,
                    TaskScheduler.Default);
            }
        }
    }

    private sealed class Poller(int instance, string key, string? tenant, Task? acquisition)
    {
        public int Instance { get; } = instance;

        public string Key { get; } = key;

        public string? Tenant { get; } = tenant;

        public Task? Acquisition { get; } = acquisition;

        public long Seen { get; set; }

        public Parked? Parked { get; set; }

        public bool Ended { get; set; }
    }

    private sealed class CacheView(SimulatedRedis redis, int instance) : IDistributedCache
    {
        public byte[]? Get(string key) => throw new NotSupportedException("TokenClient reads asynchronously.");

        public Task<byte[]?> GetAsync(string key, CancellationToken token = default) => redis.GetAsync(instance, key, token);

        public void Set(string key, byte[] value, DistributedCacheEntryOptions options) => throw new NotSupportedException("TokenClient writes asynchronously.");

        public Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default) => redis.SetAsync(instance, key, value, options, token);

        public void Refresh(string key) => throw new NotSupportedException();

        public Task RefreshAsync(string key, CancellationToken token = default) => throw new NotSupportedException();

        public void Remove(string key) => throw new NotSupportedException();

        public Task RemoveAsync(string key, CancellationToken token = default) => throw new NotSupportedException();
    }

    private sealed class LockView(SimulatedRedis redis, int instance) : ISharedTokenLock
    {
        public ValueTask<IAsyncDisposable?> TryTakeAsync(string key, TimeSpan expiry, CancellationToken cancellationToken) =>
            redis.TryTakeAsync(instance, key, expiry, cancellationToken);
    }

    /// <summary>What TokenClient.Redis gives for a foreign lock: nothing held, nothing to release.</summary>
    private sealed class NotHeld : IAsyncDisposable
    {
        public static readonly NotHeld Instance = new();

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    /// <summary>A lock taken: when, by whom, and when it was released (or its release failed).</summary>
    internal sealed class LockHandle(SimulatedRedis redis, int id, int instance, string key, DateTimeOffset takenAt, TimeSpan expiry) : IAsyncDisposable
    {
        public int Id { get; } = id;

        public int Instance { get; } = instance;

        public string Key { get; } = key;

        public DateTimeOffset TakenAt { get; } = takenAt;

        public TimeSpan Expiry { get; } = expiry;

        public DateTimeOffset? ReleasedAt { get; set; }

        public DateTimeOffset? ReleaseFailedAt { get; set; }

        public ValueTask DisposeAsync() => redis.Release(this);
    }
}

/// <summary>What one instance's view of the shared cache does wrong.</summary>
internal sealed class RedisFaults
{
    public bool CacheThrows { get; set; }

    public TimeSpan CacheLatency { get; set; }

    public bool LockThrows { get; set; }

    public TimeSpan LockLatency { get; set; }

    public bool ReleaseFails { get; set; }

    public override string ToString() =>
        string.Join(", ", new[]
        {
            CacheThrows ? "cache throws" : null,
            CacheLatency > TimeSpan.Zero ? $"cache answers after {CacheLatency.TotalSeconds:0.##} s" : null,
            LockThrows ? "lock throws" : null,
            LockLatency > TimeSpan.Zero ? $"lock answers after {LockLatency.TotalSeconds:0.##} s" : null,
            ReleaseFails ? "release fails" : null,
        }.Where(f => f is not null)) is { Length: > 0 } faults ? faults : "none";
}

internal sealed class SimulatedRedisException(string what) : Exception($"Simulated Redis failure: {what}.");
