using System.Runtime.CompilerServices;

namespace TokenClient.Tests.Simulation;

/// <summary>
/// What must hold after every step of every schedule, and the counts it is checked against. Callers' outcomes
/// are checked as they come (on whichever thread completes them), the rest when the driver asks after a step.
/// </summary>
/// <remarks>
/// The invariants, each with a number the failure message starts with:
/// 1. No caller receives a token that is expired (by the monotonic clock and the endpoint's record) when it is returned.
/// 2. At most one token request in flight per instance and tenant.
/// 3. Token requests per instance and tenant bounded (see <see cref="Budget"/>).
/// 4. Every lock taken is released, or its release attempted (the lock then expires by itself), within its holder's
///    work: TotalTimeout, the shared cache's latencies, plus the lock's expiry.
/// 5. No exception object reaches two callers (5a: callers whose waits did not overlap, so a stored exception was
///    thrown again; 5b: callers who waited at the same time, on one acquisition).
/// 6. No unobserved task exception (checked after a collection at the end of each seed).
/// 7. The tenants with an entry never exceed MaxTenants.
/// 8. Every caller completes within its deadline (see <see cref="Deadline"/>), with a token, a TokenRequestException,
///    or an OperationCanceledException it asked for (8b: anything else; after its container's disposal an
///    OperationCanceledException or ObjectDisposedException too); 8c: the process never goes quiet after a step.
/// 9. After a change of the token's identity (the audience), no caller receives a token of an older identity.
/// </remarks>
internal sealed class SimulationInvariants(SimulationClock clock, ScriptedTokenEndpoint endpoint, SimulationLimits limits)
{
    private readonly object _gate = new();
    private readonly List<Violation> _violations = [];
    private readonly Dictionary<string, KeyCounts> _keys = new(StringComparer.Ordinal);
    private readonly List<Caller> _callers = [];
    private readonly ConditionalWeakTable<Exception, Caller> _exceptions = [];
    private long _events;
    private int _reloads;
    private int _clockSteps;
    private DateTimeOffset _lastReload = DateTimeOffset.MinValue;

    /// <summary>The audience tokens must have now (the identity of the current configuration).</summary>
    public string Audience { get; set; } = "";

    /// <summary>The lowest RefreshRatio configured so far: the earliest a token may be renewed.</summary>
    public double LowestRefreshRatio { get; set; } = 1;

    public bool Failed
    {
        get
        {
            lock (_gate)
            {
                return _violations.Count > 0;
            }
        }
    }

    public Violation? First
    {
        get
        {
            lock (_gate)
            {
                return _violations.FirstOrDefault();
            }
        }
    }

    public IReadOnlyList<Caller> Callers
    {
        get
        {
            lock (_gate)
            {
                return _callers.ToList();
            }
        }
    }

    public void Fail(int number, string label, string message)
    {
        if (limits.Ignored.Contains(label) || limits.Ignored.Contains(number.ToString(System.Globalization.CultureInfo.InvariantCulture)))
        {
            return;
        }

        lock (_gate)
        {
            _violations.Add(new Violation(number, label, message));
        }
    }

    public Caller Started(int instance, string? tenant, int step, CancellationTokenSource? cancellation)
    {
        lock (_gate)
        {
            var caller = new Caller(_callers.Count + 1, instance, tenant, step, clock.MonotonicNow, ++_events, cancellation);
            _callers.Add(caller);
            return caller;
        }
    }

    public void Reloaded()
    {
        lock (_gate)
        {
            _reloads++;
            _lastReload = clock.MonotonicNow;
        }
    }

    public void ClockStepped()
    {
        lock (_gate)
        {
            _clockSteps++;
        }
    }

    public void Invalidated(int instance, string? tenant)
    {
        lock (_gate)
        {
            Counts(TokenRequest.KeyOf(instance, tenant)).Invalidations++;
        }
    }

    /// <summary>An instance's entry for a tenant was replaced or released (eviction, sweep, change of identity).</summary>
    public void EntryChanged(int instance, string? tenant)
    {
        lock (_gate)
        {
            var counts = Counts(TokenRequest.KeyOf(instance, tenant));
            counts.EntryChanges++;
            counts.LastDisturbance = clock.MonotonicNow;
        }
    }

    public void RequestArrived(TokenRequest request)
    {
        lock (_gate)
        {
            var counts = Counts(request.Key);
            counts.Requests++;
            counts.InFlight++;
            if (counts.InFlight > 1)
            {
                Fail(2, "2", $"request {request.Id} arrived while {counts.InFlight - 1} other request(s) of {request.Key} were in flight");
            }
        }
    }

    /// <summary>The request is over for the endpoint; one the client gave up on allows one more (a retry, or the next caller's).</summary>
    public void RequestEnded(TokenRequest request)
    {
        lock (_gate)
        {
            var counts = Counts(request.Key);
            counts.InFlight--;
            if (request.Abandoned)
            {
                counts.FailuresOrGiveUps++;
            }
        }
    }

    /// <summary>The endpoint answered with a failure: it allows one more request (a retry, or the next caller's).</summary>
    public void FailureAnswered(TokenRequest request)
    {
        lock (_gate)
        {
            Counts(request.Key).FailuresOrGiveUps++;
        }
    }

    /// <summary>Records a caller's outcome and checks it (1, 5, 8b, 9).</summary>
    public void Completed(Caller caller, Task<AccessToken> outcome, bool instanceDisposed)
    {
        var now = clock.MonotonicNow;
        lock (_gate)
        {
            caller.CompletedAt = now;
            caller.CompletedEvent = ++_events;
            if (outcome.IsCompletedSuccessfully)
            {
                caller.Token = outcome.Result;
            }
            else
            {
                caller.Exception = outcome.Exception?.InnerException ?? CanceledOf(outcome);
            }

            if (now > Deadline(caller))
            {
                Fail(8, "8", $"caller c{caller.Id} ({caller.Key}) completed at {At(now)}, after its deadline {At(Deadline(caller))}");
            }
        }

        if (caller.Token is { } token)
        {
            CheckToken(caller, token, now);
        }
        else
        {
            CheckException(caller, caller.Exception!, instanceDisposed);
        }
    }

    /// <summary>
    /// The deadline of a caller: from its start, or from the last event that restarts its acquisition (a change of
    /// configuration, its entry replaced or released), it may wait for its own request (TotalTimeout), and where a
    /// lock is shared, for another holder first (TotalTimeout plus the lock's expiry, the patience the README
    /// promises), plus three calls to a slow shared cache (read, lock, read), plus a second of slack.
    /// </summary>
    public DateTimeOffset Deadline(Caller caller)
    {
        lock (_gate)
        {
            var from = caller.StartedAt;
            if (_lastReload > from)
            {
                from = _lastReload;
            }

            if (_keys.TryGetValue(caller.Key, out var counts) && counts.LastDisturbance > from)
            {
                from = counts.LastDisturbance;
            }

            return from + limits.CallerWait;
        }
    }

    /// <summary>
    /// The requests an instance may have made for a tenant: its first; one for each token issued for the tenant (to any
    /// instance) whose renewal point, at the lowest RefreshRatio configured, has passed; one after each failed or
    /// abandoned request (a retry, or the next caller's acquisition); one for each rejection by the API (Invalidate),
    /// each change of configuration, each replacement or release of its entry, and each step of the wall clock. A
    /// request beyond that was made with a valid token in hand and no reason to doubt it.
    /// </summary>
    public int Budget(string key, string? tenant)
    {
        var now = clock.MonotonicNow;
        var due = endpoint.IssuedFor(tenant).Count(t => t.IssuedAt + (t.Lifetime * LowestRefreshRatio) <= now);
        lock (_gate)
        {
            var counts = Counts(key);
            return 1 + due + counts.FailuresOrGiveUps + counts.Invalidations + counts.EntryChanges + _reloads + _clockSteps;
        }
    }

    /// <summary>The checks that need no event: deadlines (8), budgets (3), held locks (4), the tenants' count (7).</summary>
    public void Check(IEnumerable<(int Instance, int Tenants, int MaxTenants)> instances, IReadOnlyList<SimulatedRedis.LockHandle> heldLocks)
    {
        var now = clock.MonotonicNow;
        List<Caller> waiting;
        List<(string Key, string? Tenant, int Requests)> keys;
        lock (_gate)
        {
            waiting = _callers.Where(c => c.CompletedAt is null).ToList();
            keys = _keys.Select(k => (k.Key, k.Value.Tenant, k.Value.Requests)).ToList();
        }

        foreach (var caller in waiting)
        {
            var deadline = Deadline(caller);
            if (now > deadline)
            {
                Fail(8, "8", $"caller c{caller.Id} ({caller.Key}, started {At(caller.StartedAt)}) is still waiting at {At(now)}, past its deadline {At(deadline)}");
            }
        }

        foreach (var (key, tenant, requests) in keys)
        {
            var budget = Budget(key, tenant);
            if (requests > budget)
            {
                Fail(3, "3", $"{key} made {requests} token requests, more than its budget of {budget}");
            }
        }

        foreach (var handle in heldLocks)
        {
            if (now - handle.TakenAt > limits.LockHold)
            {
                Fail(4, "4", $"the lock of {handle.Key} taken by i{handle.Instance} at {At(handle.TakenAt)} (handle {handle.Id}) is still held at {At(now)}, "
                    + $"longer than its holder's work may take ({limits.LockHold.TotalSeconds:0.#} s)");
            }
        }

        foreach (var (instance, tenants, maxTenants) in instances)
        {
            if (tenants > maxTenants)
            {
                Fail(7, "7", $"i{instance} holds {tenants} tenant entries, more than MaxTenants {maxTenants}");
            }
        }
    }

    private static Exception CanceledOf(Task task)
    {
        try
        {
            task.GetAwaiter().GetResult();
            throw new InvalidOperationException("not cancelled");
        }
        catch (OperationCanceledException ex)
        {
            return ex;
        }
    }

    private void CheckToken(Caller caller, AccessToken token, DateTimeOffset now)
    {
        if (endpoint.Issued(token.Value) is not { } issued)
        {
            Fail(1, "1", $"caller c{caller.Id} ({caller.Key}) received a token the endpoint never issued");
            return;
        }

        if (now >= issued.TrueExpiry)
        {
            var label = clock.WallOffset < issued.WallOffset ? "1a" : issued.BodyDelay is not null ? "1b" : "1c";
            var why = label switch
            {
                "1a" => $"the wall clock was stepped back by {(issued.WallOffset - clock.WallOffset).TotalSeconds:0.###} s since it was issued",
                "1b" => $"its body was sent {issued.BodyDelay!.Value.TotalSeconds:0.###} s after its headers",
                _ => "no clock step back and no late body",
            };
            Fail(1, label, $"caller c{caller.Id} ({caller.Key}, started {At(caller.StartedAt)}) received {issued.Value} at {At(now)}, "
                + $"{(now - issued.TrueExpiry).TotalSeconds:0.###} s after it expired (issued {At(issued.IssuedAt)} for {issued.Lifetime.TotalSeconds:0.###} s to i{issued.Instance}): {why}");
        }

        if (issued.Audience != Audience)
        {
            Fail(9, "9", $"caller c{caller.Id} ({caller.Key}) received {issued.Value}, issued for audience '{issued.Audience}', after the audience became '{Audience}'");
        }
    }

    private void CheckException(Caller caller, Exception exception, bool instanceDisposed)
    {
        var allowed = exception switch
        {
            TokenRequestException => true,
            OperationCanceledException => caller.Cancellation?.IsCancellationRequested == true || instanceDisposed,
            ObjectDisposedException => instanceDisposed,
            _ => false,
        };
        if (!allowed)
        {
            Fail(8, "8b", $"caller c{caller.Id} ({caller.Key}, started {At(caller.StartedAt)}, {(caller.Cancellation is null ? "not cancellable" : caller.Cancellation.IsCancellationRequested ? "cancelled" : "not cancelled")}) "
                + $"got {exception.GetType().Name}: {exception.Message}");
        }

        lock (_gate)
        {
            if (_exceptions.TryGetValue(exception, out var other))
            {
                var overlapped = other.CompletedEvent > caller.StartedEvent;
                Fail(5, overlapped ? "5b" : "5a", $"callers c{other.Id} and c{caller.Id} ({caller.Key}) got the same {exception.GetType().Name} object"
                    + (overlapped ? ", waiting at the same time" : $"; c{caller.Id} started after c{other.Id} had completed, so a stored exception was thrown again")
                    + $": {exception.Message}");
            }
            else
            {
                _exceptions.Add(exception, caller);
            }
        }
    }

    private KeyCounts Counts(string key)
    {
        if (!_keys.TryGetValue(key, out var counts))
        {
            var tenant = key[(key.IndexOf('/') + 1)..];
            _keys[key] = counts = new KeyCounts(tenant == "(own)" ? null : tenant);
        }

        return counts;
    }

    private static string At(DateTimeOffset time) => $"+{(time - SimulationClock.Start).TotalSeconds:0.###}s";

    private sealed class KeyCounts(string? tenant)
    {
        public string? Tenant { get; } = tenant;

        public int Requests { get; set; }

        public int InFlight { get; set; }

        public int FailuresOrGiveUps { get; set; }

        public int Invalidations { get; set; }

        public int EntryChanges { get; set; }

        public DateTimeOffset LastDisturbance { get; set; } = DateTimeOffset.MinValue;
    }
}

/// <summary>The bounds the invariants hold the run to, from the seed's configuration.</summary>
/// <param name="CallerWait">How long a caller may wait from its start (or the last restart of its acquisition).</param>
/// <param name="LockHold">How long a lock may stay held after it was taken.</param>
/// <param name="Ignored">Invariant labels not checked (triage only: TOKENCLIENT_SIMULATION_IGNORE).</param>
internal sealed record SimulationLimits(TimeSpan CallerWait, TimeSpan LockHold, IReadOnlySet<string> Ignored);

internal sealed record Violation(int Number, string Label, string Message);

/// <summary>One call of GetTokenAsync and what came of it.</summary>
internal sealed class Caller(int id, int instance, string? tenant, int step, DateTimeOffset startedAt, long startedEvent, CancellationTokenSource? cancellation)
{
    public int Id { get; } = id;

    public int Instance { get; } = instance;

    public string? Tenant { get; } = tenant;

    public int Step { get; } = step;

    public DateTimeOffset StartedAt { get; } = startedAt;

    /// <summary>Orders starts and completions: a caller that started after another completed cannot have shared its wait.</summary>
    public long StartedEvent { get; } = startedEvent;

    public CancellationTokenSource? Cancellation { get; } = cancellation;

    public DateTimeOffset? CompletedAt { get; set; }

    public long CompletedEvent { get; set; } = long.MaxValue;

    public AccessToken? Token { get; set; }

    public Exception? Exception { get; set; }

    public string Key => TokenRequest.KeyOf(Instance, Tenant);

    public string Outcome => CompletedAt is null ? "waiting" : Token is { } token ? token.Value : Exception!.GetType().Name;
}
