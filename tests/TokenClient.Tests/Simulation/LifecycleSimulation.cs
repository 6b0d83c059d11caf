using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Reflection;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using TokenClient.Clients;
using TokenClient.Endpoint;
using TokenClient.Sharing;
using TokenClient.Tests.TestSupport;

namespace TokenClient.Tests.Simulation;

/// <summary>
/// One seeded run of the token client's lifecycle: a schedule of steps drawn from <see cref="Random"/> as the run
/// goes (each step's choices read only state that is itself deterministic), executed against the real library
/// through its DI surface, on a fake clock, with the system let settle and the invariants checked after every step
/// and every event of time. The same seed gives the same schedule and the same outcome.
/// </summary>
internal sealed class LifecycleSimulation
{
    public const string ClientName = "sim";

    // A real hang (a livelock) is told from a slow machine by a bound far above any step's work.
    private static readonly TimeSpan s_hangGuard = TimeSpan.FromSeconds(30);
    private static readonly FieldInfo s_tenants = typeof(NamedClient).GetField("_tenants", BindingFlags.NonPublic | BindingFlags.Instance)!;
    private static readonly FieldInfo s_own = typeof(NamedClient).GetField("_own", BindingFlags.NonPublic | BindingFlags.Instance)!;

    private readonly int _seed;
    private readonly int _steps;
    private readonly Random _random;
    private readonly SimulationSettings _settings;
    private readonly SimulationClock _clock = new();
    private readonly ScriptedTokenEndpoint _endpoint;
    private readonly SimulatedRedis? _redis;
    private readonly SimulationInvariants _invariants;
    private readonly IConfigurationRoot _configuration;
    private readonly List<Instance> _instances = [];
    private readonly List<string> _trace = [];
    private readonly ConcurrentQueue<string> _arrivals = new();
    private readonly Dictionary<string, ITokenClient> _handles = new(StringComparer.Ordinal);
    private int _audiences = 1;
    private int _secrets = 1;
    private int _maxTenants;
    private double _highestRatio;
    private int _step;
    private bool _hung;

    public LifecycleSimulation(int seed, int steps, IReadOnlySet<string> ignored)
    {
        _seed = seed;
        _steps = steps;
        _random = new Random(seed);
        _settings = SimulationSettings.Draw(_random);
        _maxTenants = _settings.MaxTenants;
        _highestRatio = _settings.RefreshRatio;
        _endpoint = new ScriptedTokenEndpoint(_clock);
        _redis = _settings.Shared ? new SimulatedRedis(_clock, _settings.Instances) { FindAcquisition = FindAcquisition } : null;
        _invariants = new SimulationInvariants(_clock, _endpoint, _settings.Limits(ignored))
        {
            Audience = "aud-1",
            LowestRefreshRatio = _settings.RefreshRatio,
        };
        _endpoint.Arrived = request =>
        {
            _invariants.RequestArrived(request);
            _redis?.WentToEndpoint(request.Instance, request.Tenant);
            _arrivals.Enqueue($"  {request.Id} arrives ({request.Audience})");
        };
        _endpoint.Ended = request =>
        {
            _invariants.RequestEnded(request);
            _arrivals.Enqueue($"  {request.Id} ends{(request.Abandoned ? ", given up by the client" : "")}");
        };
        _configuration = new ConfigurationBuilder().AddInMemoryCollection(_settings.Configuration()).Build();
    }

    /// <summary>Runs the schedule to its end, or to the first violation.</summary>
    public async Task<SimulationOutcome> RunAsync()
    {
        Trace($"settings: {_settings}");
        try
        {
            for (var i = 0; i < _settings.Instances; i++)
            {
                _instances.Add(Build(i));
            }

            for (_step = 1; _step <= _steps && !_invariants.Failed; _step++)
            {
                await StepAsync();
            }

            if (!_invariants.Failed)
            {
                _step = _steps + 1;
                await DrainAsync();
            }
        }
        finally
        {
            foreach (var instance in _instances.Where(i => !i.Disposed))
            {
                await DisposeAsync(instance);
            }
        }

        if (!_invariants.Failed && !_hung)
        {
            // After the last container is gone, every lock must still come free within its holder's bound.
            Trace($"#{_step} {Now()} all containers disposed; time runs on past every lock's bound");
            await AdvanceAsync(_settings.Limits(new HashSet<string>()).LockHold + TimeSpan.FromSeconds(1));
        }

        return new SimulationOutcome(_seed, _invariants.First, _step, _trace, _redis?.Warnings ?? [], _invariants.Callers.Count);
    }

    public Violation? FirstViolation => _invariants.First;

    /// <summary>Records a violation found outside the run (an unobserved exception after the collection).</summary>
    public void Fail(int number, string label, string message) => _invariants.Fail(number, label, message);

    private Instance Build(int id)
    {
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(_clock);
        services.AddTokenClient(ClientName, _configuration)
            .ConfigureTokenEndpointHttpClient(b => b.ConfigurePrimaryHttpMessageHandler(() => _endpoint.HandlerFor(id)));
        if (_redis is not null)
        {
            services.AddSingleton(_redis.CacheFor(id));
            if (_settings.Lock)
            {
                services.AddSingleton(_redis.LockFor(id));
            }

            if (_settings.DataProtection)
            {
                // One key ring for the fleet: what each instance protects, the other can read.
                services.Configure<TokenClientOptions>(ClientName, o => o.SharedCacheProtector = _settings.Protector);
            }
        }

        var provider = services.BuildServiceProvider();
        var factory = provider.GetRequiredService<TokenClientFactory>();
        return new Instance(id, provider, factory, factory.Named(ClientName));
    }

    private async Task StepAsync()
    {
        var live = _instances.Where(i => !i.Disposed).ToList();
        var waiting = _endpoint.Waiting();
        var roll = _random.NextDouble() * _settings.TotalWeight;
        foreach (var (kind, weight) in _settings.Weights)
        {
            roll -= weight;
            if (roll > 0)
            {
                continue;
            }

            switch (kind)
            {
                case StepKind.Call:
                    await CallAsync(Pick(live));
                    return;
                case StepKind.Answer when waiting.Count > 0:
                    await AnswerAsync(waiting[_random.Next(waiting.Count)]);
                    return;
                case StepKind.Advance:
                    await AdvanceStepAsync();
                    return;
                case StepKind.Cancel:
                    await CancelAsync();
                    return;
                case StepKind.Invalidate:
                    await InvalidateAsync();
                    return;
                case StepKind.Reload:
                    await ReloadAsync();
                    return;
                case StepKind.ClockStep:
                    await StepClockAsync();
                    return;
                case StepKind.RedisFault when _redis is not null:
                    await RedisFaultAsync(Pick(live));
                    return;
                case StepKind.Dispose when live.Count > 1 && _step > _steps / 4:
                    var victim = live[^1];
                    Trace($"#{_step} {Now()} dispose i{victim.Id}");
                    await DisposeAsync(victim);
                    await EndStepAsync();
                    return;
                default:
                    // A step that cannot be taken now (nothing to answer, nothing shared) is a short wait.
                    await AdvanceStepAsync(brief: true);
                    return;
            }
        }
    }

    private Instance Pick(List<Instance> live) => live[_random.Next(live.Count)];

    private string? PickTenant()
    {
        var tenants = _settings.Tenants;
        var roll = _random.NextDouble();
        return roll < 0.1 ? null
            : roll < 0.6 ? tenants[_random.Next(Math.Min(tenants.Length, Math.Max(1, _maxTenants - 1)))] // the busy ones
            : tenants[_random.Next(tenants.Length)];
    }

    private async Task CallAsync(Instance instance)
    {
        var tenant = PickTenant();
        await AvoidJitterAsync(instance, tenant);
        var count = _random.Next(1, 4);
        var cancellable = _random.NextDouble() < 0.3;
        var handleKey = TokenRequest.KeyOf(instance.Id, tenant);
        var reuse = _random.NextDouble() < 0.3 && _handles.ContainsKey(handleKey);
        var started = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var cancellation = cancellable && i == count - 1 ? new CancellationTokenSource() : null;
            var caller = _invariants.Started(instance.Id, tenant, _step, cancellation);
            started.Add($"c{caller.Id}{(cancellation is null ? "" : " (cancellable)")}");
            Task<AccessToken> call;
            try
            {
                var client = reuse ? _handles[handleKey] : Client(instance, tenant);
                _handles[handleKey] = client;
                call = client.GetTokenAsync(cancellation?.Token ?? CancellationToken.None).AsTask();
            }
#pragma warning disable CA1031 // Whatever the call throws is the caller's outcome, checked as such.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                call = Task.FromException<AccessToken>(ex);
            }

            _ = call.ContinueWith(
                (t, state) => _invariants.Completed((Caller)state!, t, instance.Disposed),
                caller,
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
        }

        Trace($"#{_step} {Now()} call i{instance.Id} {tenant ?? "(own)"}{(reuse ? " through a handle taken before" : "")}: {string.Join(", ", started)}");
        await EndStepAsync();
    }

    private ITokenClient Client(Instance instance, string? tenant) =>
        tenant is null ? instance.Factory.GetClient(ClientName) : instance.Factory.GetClient(ClientName, tenant);

    private async Task AnswerAsync(TokenRequest request)
    {
        var roll = _random.NextDouble();
        string what;
        if (roll < 0.30)
        {
            var lifetime = TimeSpan.FromSeconds(_random.Next(3, 61));
            what = $"token {_endpoint.AnswerToken(request, lifetime).Value} for {lifetime.TotalSeconds} s";
        }
        else if (roll < 0.48)
        {
            var lifetime = TimeSpan.FromSeconds(_random.Next(300, 3601));
            what = $"token {_endpoint.AnswerToken(request, lifetime).Value} for {lifetime.TotalSeconds} s";
        }
        else if (roll < 0.60)
        {
            var status = _random.NextDouble() < 0.5 ? HttpStatusCode.InternalServerError : HttpStatusCode.ServiceUnavailable;
            TimeSpan? retryAfter = _random.NextDouble() < 0.5 ? TimeSpan.FromSeconds(_random.Next(0, 4)) : null;
            _endpoint.AnswerStatus(request, status, """{"error":"temporarily_unavailable"}""", retryAfter);
            Failed(request);
            what = $"{(int)status}{(retryAfter is { } r ? $" Retry-After {r.TotalSeconds} s" : "")}";
        }
        else if (roll < 0.68)
        {
            _endpoint.AnswerStatus(request, HttpStatusCode.BadRequest, """{"error":"invalid_client","error_description":"Client authentication failed."}""");
            Failed(request);
            what = "400 invalid_client";
        }
        else if (roll < 0.74)
        {
            _endpoint.AnswerTruncated(request);
            Failed(request);
            what = "a truncated body";
        }
        else if (roll < 0.84)
        {
            var lifetime = TimeSpan.FromSeconds(_random.Next(3, 31));
            var delay = TimeSpan.FromSeconds(Math.Round(_random.NextDouble() * _settings.AttemptTimeout.TotalSeconds * 1.2, 1));
            what = $"token {_endpoint.AnswerToken(request, lifetime, delay).Value} for {lifetime.TotalSeconds} s, its body {delay.TotalSeconds} s after its headers";

            // A body that arrives in time but leaves less than the lifetime floor is refused as used up in transit, a
            // transient failure: it allows one more request. (One that arrives after the attempt's timeout is a give-up.)
            if (delay < _settings.AttemptTimeout && lifetime - delay < OAuthResponseReader.MinLifetime)
            {
                Failed(request);
                what += " (used up in transit)";
            }
        }
        else if (roll < 0.92)
        {
            _endpoint.AnswerException(request);
            Failed(request);
            what = "a connection reset before the response";
        }
        else
        {
            _endpoint.AnswerReset(request);
            Failed(request);
            what = "a connection reset in the middle of the body";
        }

        Trace($"#{_step} {Now()} answer {request.Id}: {what}");
        await EndStepAsync();
    }

    // A failure answer allows one more request (a retry, or the next caller's): counted for the budget.
    private void Failed(TokenRequest request) => _invariants.FailureAnswered(request);

    private async Task AdvanceStepAsync(bool brief = false)
    {
        var roll = brief ? 0 : _random.NextDouble();
        var by = roll < 0.5 ? TimeSpan.FromMilliseconds(_random.Next(100, 3001))
            : roll < 0.85 ? TimeSpan.FromSeconds(_random.Next(3, 41))
            : TimeSpan.FromSeconds(_random.Next(60, 241));
        Trace($"#{_step} {Now()} advance {by.TotalSeconds:0.###} s");
        await AdvanceAsync(by);
        FlushEvents();
    }

    private async Task CancelAsync()
    {
        var cancellable = _invariants.Callers.Where(c => c.CompletedAt is null && c.Cancellation is { IsCancellationRequested: false }).ToList();
        if (cancellable.Count == 0)
        {
            await AdvanceStepAsync(brief: true);
            return;
        }

        var caller = cancellable[_random.Next(cancellable.Count)];
        Trace($"#{_step} {Now()} cancel c{caller.Id}");
        await caller.Cancellation!.CancelAsync();
        await EndStepAsync();
    }

    private async Task InvalidateAsync()
    {
        var served = _invariants.Callers.Where(c => c.Token is not null && !_instances[c.Instance].Disposed).TakeLast(8).ToList();
        if (served.Count == 0)
        {
            await AdvanceStepAsync(brief: true);
            return;
        }

        var caller = served[_random.Next(served.Count)];
        Trace($"#{_step} {Now()} the API rejects {caller.Token!.Value} (401): i{caller.Instance} {caller.Tenant ?? "(own)"} Invalidate");
        _invariants.Invalidated(caller.Instance, caller.Tenant);
        Client(_instances[caller.Instance], caller.Tenant).Invalidate(caller.Token);
        await EndStepAsync();
    }

    private async Task ReloadAsync()
    {
        var roll = _random.NextDouble();
        string what;
        if (roll < 0.35)
        {
            _configuration["Audience"] = $"aud-{++_audiences}";
            _invariants.Audience = $"aud-{_audiences}";
            what = $"the audience changes to aud-{_audiences} (a new identity)";
        }
        else if (roll < 0.7)
        {
            _configuration["ClientSecret"] = $"secret-{++_secrets}";
            what = $"the secret is rotated to secret-{_secrets} (same identity)";
        }
        else if (roll < 0.8)
        {
            var ratio = Math.Round(0.5 + (_random.NextDouble() * 0.45), 2);
            _configuration["RefreshRatio"] = ratio.ToString(CultureInfo.InvariantCulture);
            _invariants.LowestRefreshRatio = Math.Min(_invariants.LowestRefreshRatio, ratio);
            _highestRatio = Math.Max(_highestRatio, ratio);
            what = $"RefreshRatio changes to {ratio}";
        }
        else if (roll < 0.9)
        {
            _maxTenants = _random.Next(3, 9);
            _configuration["MaxTenants"] = _maxTenants.ToString(CultureInfo.InvariantCulture);
            what = $"MaxTenants changes to {_maxTenants}";
        }
        else
        {
            what = "nothing changes";
        }

        Trace($"#{_step} {Now()} configuration reload: {what}");
        _invariants.Reloaded();
        _configuration.Reload();
        await EndStepAsync();
    }

    private async Task StepClockAsync()
    {
        // A shared value carries wall-clock times to every instance: a wall clock stepped back under it overstates
        // its life everywhere, which no instance can tell. So only forward steps where tokens are shared.
        var back = !_settings.Shared && _random.NextDouble() < 0.5;
        var by = TimeSpan.FromSeconds(_random.Next(1, 121)) * (back ? -1 : 1);
        Trace($"#{_step} {Now()} the wall clock is stepped {(back ? "back" : "forward")} by {Math.Abs(by.TotalSeconds)} s");
        _invariants.ClockStepped();
        _clock.StepWallClock(by);
        _redis?.WallClockStepped();
        await EndStepAsync();
    }

    private async Task RedisFaultAsync(Instance instance)
    {
        var faults = _redis!.Faults[instance.Id];
        var roll = _random.NextDouble();
        string what;
        if (roll < 0.15)
        {
            faults.CacheThrows = !faults.CacheThrows;
            what = faults.CacheThrows ? "its cache throws" : "its cache answers again";
        }
        else if (roll < 0.3)
        {
            faults.CacheLatency = faults.CacheLatency > TimeSpan.Zero ? TimeSpan.Zero : Latency();
            what = $"its cache answers after {faults.CacheLatency.TotalSeconds:0.#} s";
        }
        else if (roll < 0.4)
        {
            faults.LockThrows = !faults.LockThrows;
            what = faults.LockThrows ? "its lock throws" : "its lock answers again";
        }
        else if (roll < 0.52)
        {
            faults.LockLatency = faults.LockLatency > TimeSpan.Zero ? TimeSpan.Zero : Latency();
            what = $"its lock answers after {faults.LockLatency.TotalSeconds:0.#} s";
        }
        else if (roll < 0.62)
        {
            faults.ReleaseFails = !faults.ReleaseFails;
            what = faults.ReleaseFails ? "its lock releases fail" : "its lock releases work again";
        }
        else if (roll < 0.9 && _settings.Lock)
        {
            var tenant = PickTenant();
            var kind = _random.NextDouble();
            TimeSpan? expiry = kind < 0.2 ? null : kind < 0.4 ? TimeSpan.FromHours(1) : TimeSpan.FromSeconds(_random.Next(2, 11));
            var planted = _redis.PlantForeignLock(KeyOf(tenant), expiry);
            what = $"a foreign lock on {tenant ?? "(own)"}'s key, {(expiry is { } e ? $"expiring in {e.TotalSeconds} s" : "with no expiry")}{(planted ? "" : " (not planted: the lock is held)")}";
        }
        else
        {
            _redis.RemoveForeignLocks();
            what = "the foreign locks are removed";
        }

        _redis.FaultsChanged(instance.Id);
        Trace($"#{_step} {Now()} Redis of i{instance.Id}: {what} (now: {faults})");
        await EndStepAsync();
    }

    private TimeSpan Latency() => TimeSpan.FromMilliseconds(_random.Next(100, (int)_settings.MaxLatency.TotalMilliseconds + 1));

    // The shared cache's key of a tenant under the current configuration.
    private string KeyOf(string? tenant)
    {
        var definition = _instances[0].Named.Definition;
        return SharedTokenLevel.KeyFor(definition.Options.SharedCacheKeyPrefix, ClientName, definition.IdentityOf(tenant).ToString());
    }

    // A token taken from the shared cache (and one fetched, where the client shares) is renewed at its renewal point plus a
    // random part of the margin left (Random.Shared, which no seed drives): a caller is never sent inside that window.
    private async Task AvoidJitterAsync(Instance instance, string? tenant)
    {
        if (!_settings.Shared || Lookup(instance, tenant)?.Cache.Held is not { } held || _endpoint.Issued(held.Value) is not { } issued)
        {
            return;
        }

        var received = issued.IssuedAt + issued.WallOffset;
        var margin = issued.Lifetime * (1 - _invariants.LowestRefreshRatio);
        var from = received + (issued.Lifetime * _invariants.LowestRefreshRatio);
        var to = received + (issued.Lifetime * _highestRatio) + TimeSpan.FromTicks(Math.Min((margin * 0.2).Ticks, TimeSpan.FromSeconds(30).Ticks));
        var now = _clock.GetUtcNow();
        if (now >= from && now <= to)
        {
            var by = to - now + TimeSpan.FromMilliseconds(1);
            Trace($"#{_step} {Now()} advance {by.TotalSeconds:0.###} s, past {issued.Value}'s random renewal point");
            await AdvanceAsync(by);
        }
    }

    /// <summary>The entry an instance holds for a tenant now, without making one.</summary>
    private static TenantEntry? Lookup(Instance instance, string? tenant) =>
        tenant is null ? (TenantEntry)s_own.GetValue(instance.Named)! : Tenants(instance).GetValueOrDefault(new EntryKey(tenant, null));

    private static ConcurrentDictionary<EntryKey, TenantEntry> Tenants(Instance instance) => (ConcurrentDictionary<EntryKey, TenantEntry>)s_tenants.GetValue(instance.Named)!;

    private (Task? Acquisition, string? Tenant) FindAcquisition(int id, string key)
    {
        var instance = _instances[id];
        foreach (var entry in Tenants(instance).Values.Append((TenantEntry)s_own.GetValue(instance.Named)!))
        {
            if (entry.Shared?.Key == key && entry.Cache.PendingAcquisition is { } acquisition)
            {
                return (acquisition, entry.Tenant);
            }
        }

        return (null, null);
    }

    /// <summary>Moves time forward, one event at a time (a timer, a late body, a slow answer, a threshold a poller watches), letting each settle.</summary>
    private async Task AdvanceAsync(TimeSpan by)
    {
        var target = _clock.MonotonicNow + by;
        for (var events = 0; !_hung; events++)
        {
            var now = _clock.MonotonicNow;
            var next = target;
            foreach (var due in new[] { _clock.NextTimerDue(), _endpoint.NextDue(), _redis?.NextDue() })
            {
                if (due is { } d && d < next)
                {
                    next = d;
                }
            }

            if (next < now)
            {
                next = now;
            }

            if (events > 10_000)
            {
                _invariants.Fail(8, "8c", $"time could not reach {by.TotalSeconds:0.###} s ahead: 10,000 events came due first (a timer re-armed in a loop?)");
                return;
            }

            _clock.AdvanceTo(next);
            _endpoint.RunDue();
            _redis?.TimeAdvanced(now);
            await SettleAsync();
            Check();
            if (_invariants.Failed || next >= target)
            {
                return;
            }
        }
    }

    private async Task EndStepAsync()
    {
        await SettleAsync();
        Check();
        FlushEvents();
    }

    private async Task SettleAsync()
    {
        await SettleQuietlyAsync();

        // The timers that fired, one at a time, each one's work settled before the next.
        while (!_hung && _clock.RunNextFired())
        {
            await SettleQuietlyAsync();
        }

        if (_redis is not null && !_hung && await _redis.ReleasePollersAsync(SettleQuietlyAsync) > 0)
        {
            await SettleQuietlyAsync();
        }
    }

    private async Task SettleQuietlyAsync()
    {
        if (_hung)
        {
            return;
        }

        try
        {
            await TimeDriving.SettleAsync(hangGuard: s_hangGuard);
        }
        catch (Xunit.Sdk.XunitException)
        {
            _hung = true;
            _invariants.Fail(8, "8c", $"the process did not go quiet within {s_hangGuard.TotalSeconds} s of real time after the step: work that never ends (a livelock?); "
                + $"token requests so far {_arrivals.Count} queued for the trace, open {_endpoint.OpenCount}");
        }
    }

    private readonly Dictionary<(int, string), TenantEntry> _entries = [];

    private void Check()
    {
        // Entries replaced or released since the last look (evictions, sweeps, changes of identity) allow a new request each.
        foreach (var instance in _instances.Where(i => !i.Disposed))
        {
            var now = Tenants(instance).ToDictionary(p => (instance.Id, p.Key.Tenant!), p => p.Value);
            now[(instance.Id, "(own)")] = (TenantEntry)s_own.GetValue(instance.Named)!;
            foreach (var (key, entry) in _entries.Where(e => e.Key.Item1 == instance.Id).ToList())
            {
                if (!now.TryGetValue(key, out var current) || !ReferenceEquals(current, entry))
                {
                    _invariants.EntryChanged(instance.Id, key.Item2 == "(own)" ? null : key.Item2);
                    _entries.Remove(key);
                }
            }

            foreach (var (key, entry) in now)
            {
                _entries[key] = entry;
            }
        }

        _invariants.Check(
            _instances.Where(i => !i.Disposed).Select(i => (i.Id, i.Named.TenantCount, _maxTenants)),
            _redis?.HeldHandles() ?? []);
    }

    private async Task DisposeAsync(Instance instance)
    {
        instance.Disposed = true;
        await instance.Provider.DisposeAsync();
        foreach (var key in _entries.Keys.Where(k => k.Item1 == instance.Id).ToList())
        {
            _entries.Remove(key);
        }

        await SettleAsync();
    }

    // The end of the schedule: every request still waiting gets a token, until every caller has its outcome; then time
    // runs on past every deadline, so that a caller that never completes is seen.
    private async Task DrainAsync()
    {
        Trace($"#{_step} {Now()} drain: every request is answered with a token from now on");
        for (var round = 0; round < 20 && !_invariants.Failed; round++)
        {
            foreach (var request in _endpoint.Waiting())
            {
                var lifetime = TimeSpan.FromSeconds(_random.Next(300, 3601));
                Trace($"#{_step} {Now()} answer {request.Id}: token {_endpoint.AnswerToken(request, lifetime).Value} for {lifetime.TotalSeconds} s");
            }

            await EndStepAsync();
            if (_invariants.Callers.All(c => c.CompletedAt is not null) && _endpoint.OpenCount == 0)
            {
                break;
            }

            await AdvanceAsync(TimeSpan.FromSeconds(1));
        }

        if (!_invariants.Failed)
        {
            var pastDeadlines = _settings.Limits(new HashSet<string>()).CallerWait + TimeSpan.FromSeconds(1);
            Trace($"#{_step} {Now()} advance {pastDeadlines.TotalSeconds:0.###} s, past every caller's deadline");
            await AdvanceAsync(pastDeadlines);
            FlushEvents();
        }
    }

    private void Trace(string line) => _trace.Add(line);

    // The step's request arrivals and callers' outcomes, sorted: threads may have made them in any order.
    private void FlushEvents()
    {
        var arrivals = new List<string>();
        while (_arrivals.TryDequeue(out var arrival))
        {
            arrivals.Add(arrival);
        }

        _trace.AddRange(arrivals.Order(StringComparer.Ordinal));
        foreach (var caller in _invariants.Callers.Where(c => c.CompletedAt is not null && !_reportedOutcomes.Contains(c.Id)))
        {
            _reportedOutcomes.Add(caller.Id);
            _trace.Add($"  c{caller.Id} ({caller.Key}) gets {caller.Outcome} at {Now(caller.CompletedAt!.Value)}");
        }
    }

    private readonly HashSet<int> _reportedOutcomes = [];

    private string Now() => Now(_clock.MonotonicNow) + (_clock.WallOffset == TimeSpan.Zero ? "" : $" (wall {_clock.WallOffset.TotalSeconds:+0.###;-0.###} s)");

    private static string Now(DateTimeOffset monotonic) => $"+{(monotonic - SimulationClock.Start).TotalSeconds:0.###}s";

    private sealed class Instance(int id, ServiceProvider provider, TokenClientFactory factory, NamedClient named)
    {
        public int Id { get; } = id;

        public ServiceProvider Provider { get; } = provider;

        public TokenClientFactory Factory { get; } = factory;

        public NamedClient Named { get; } = named;

        public volatile bool Disposed;
    }
}

internal enum StepKind
{
    Call,
    Answer,
    Advance,
    Cancel,
    Invalidate,
    Reload,
    ClockStep,
    RedisFault,
    Dispose,
}

/// <summary>What a seed's run ended with: its first violation, if any, and the schedule that led there.</summary>
internal sealed record SimulationOutcome(int Seed, Violation? Violation, int Step, IReadOnlyList<string> Trace, IReadOnlyList<string> Warnings, int Callers)
{
    public string Describe() =>
        $"Seed {Seed}, step {Step}: invariant {Violation!.Label} violated: {Violation.Message}"
        + (Warnings.Count == 0 ? "" : $"{Environment.NewLine}Not kept deterministic: {string.Join("; ", Warnings)}")
        + $"{Environment.NewLine}Reproduce: TOKENCLIENT_SIMULATION_SEED={Seed} dotnet test tests/TokenClient.Tests -c Release -f net10.0 --filter \"FullyQualifiedName~Simulation\""
        + $"{Environment.NewLine}The schedule so far:{Environment.NewLine}{string.Join(Environment.NewLine, Trace)}";
}

/// <summary>A seed's configuration: the client's options, the fleet's shape, the weights of the kinds of steps.</summary>
internal sealed record SimulationSettings(
    int MaxTenants,
    string[] Tenants,
    bool Shared,
    int Instances,
    bool Lock,
    bool DataProtection,
    int MaxRetries,
    TimeSpan AttemptTimeout,
    TimeSpan TotalTimeout,
    TimeSpan FailureCooldown,
    double RefreshRatio,
    TimeSpan MaxLatency,
    IReadOnlyList<(StepKind Kind, double Weight)> Weights)
{
    public IDataProtector? Protector { get; } = DataProtection ? new EphemeralDataProtectionProvider().CreateProtector("fleet") : null;

    public double TotalWeight => Weights.Sum(w => w.Weight);

    public static SimulationSettings Draw(Random random)
    {
        var maxTenants = random.Next(4, 9);
        var tenants = Enumerable.Range(0, maxTenants + random.Next(2, 7)).Select(i => $"t{i}").ToArray();
        var shared = random.NextDouble() < 0.4;
        var instances = shared && random.NextDouble() < 0.5 ? 2 : 1;
        var attempt = TimeSpan.FromSeconds(random.Next(2, 11));
        var total = attempt * random.Next(1, 4);
        double Weight(double typical) => typical * (0.5 + random.NextDouble()); // each seed leans its own way
        List<(StepKind, double)> weights =
        [
            (StepKind.Call, Weight(30)),
            (StepKind.Answer, Weight(25)),
            (StepKind.Advance, Weight(18)),
            (StepKind.Cancel, Weight(4)),
            (StepKind.Invalidate, Weight(5)),
            (StepKind.Reload, Weight(4)),
            (StepKind.ClockStep, Weight(3)),
            (StepKind.RedisFault, shared ? Weight(6) : 0),
            (StepKind.Dispose, instances > 1 ? 1 : 0),
        ];
        return new SimulationSettings(
            maxTenants,
            tenants,
            shared,
            instances,
            Lock: shared && random.NextDouble() < 0.8,
            DataProtection: shared && random.NextDouble() < (instances > 1 ? 0.2 : 0.5),
            MaxRetries: random.Next(0, 4),
            attempt,
            total,
            FailureCooldown: TimeSpan.FromSeconds(random.Next(0, 11)),
            RefreshRatio: Math.Round(0.5 + (random.NextDouble() * 0.45), 2),
            MaxLatency: TimeSpan.FromSeconds(3),
            weights);
    }

    public Dictionary<string, string?> Configuration() => new()
    {
        ["Provider"] = "Login3",
        ["TokenEndpoint"] = "https://login.sim.test/oauth/token",
        ["ClientId"] = "sim-client",
        ["ClientSecret"] = "secret-1",
        ["Audience"] = "aud-1",
        ["MaxTenants"] = MaxTenants.ToString(CultureInfo.InvariantCulture),
        ["MaxRetries"] = MaxRetries.ToString(CultureInfo.InvariantCulture),
        // No backoff of Polly's own, whose jitter no seed drives: a retry comes at once, or after the server's Retry-After.
        ["RetryDelay"] = "00:00:00",
        ["MaxRetryDelay"] = "00:00:05",
        ["AttemptTimeout"] = AttemptTimeout.ToString(),
        ["TotalTimeout"] = TotalTimeout.ToString(),
        ["FailureCooldown"] = FailureCooldown.ToString(),
        ["RefreshRatio"] = RefreshRatio.ToString(CultureInfo.InvariantCulture),
        ["SharedCache"] = Shared ? "true" : "false",
        ["AllowInsecureSharedCache"] = Shared && !DataProtection ? "true" : "false",
        // On the system clock: long enough never to fire in a run, so that only fake time decides.
        ["SharedCacheTimeout"] = "00:00:30",
    };

    /// <summary>
    /// A caller may wait TotalTimeout for its own request; where a lock is shared, first TotalTimeout plus the lock's
    /// expiry for another holder; three slow calls to the shared cache; and a second of slack. A lock may be held for its
    /// holder's work (TotalTimeout and two slow calls) plus its expiry.
    /// </summary>
    public SimulationLimits Limits(IReadOnlySet<string> ignored) => new(
        TotalTimeout + (Lock ? TotalTimeout + SharedTokenLevel.LockExpiry : TimeSpan.Zero) + (Shared ? MaxLatency * 3 : TimeSpan.Zero) + TimeSpan.FromSeconds(1),
        TotalTimeout + (MaxLatency * 2) + SharedTokenLevel.LockExpiry + TimeSpan.FromSeconds(1),
        ignored);

    public override string ToString() =>
        $"MaxTenants {MaxTenants}, {Tenants.Length} tenant names, MaxRetries {MaxRetries}, AttemptTimeout {AttemptTimeout.TotalSeconds} s, TotalTimeout {TotalTimeout.TotalSeconds} s, "
        + $"FailureCooldown {FailureCooldown.TotalSeconds} s, RefreshRatio {RefreshRatio}, "
        + (Shared ? $"shared by {Instances} instance(s){(Lock ? " with a lock" : " without a lock")}{(DataProtection ? ", Data Protection" : ", unencrypted")}" : "not shared");
}
