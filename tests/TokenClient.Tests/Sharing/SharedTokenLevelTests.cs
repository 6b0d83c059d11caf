using System.Diagnostics;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;
using TokenClient.Sharing;
using TokenClient.Tests.TestSupport;

namespace TokenClient.Tests.Sharing;

/// <summary>
/// The shared level's decisions, each against a cache and a lock scripted by the test: what it takes, what it
/// waits for and how long, what it releases, when an outage starts and ends.
/// </summary>
public sealed class SharedTokenLevelTests
{
    [Fact]
    public void Invalidate_OnACacheThatHoldsNothing_DoesNothing()
    {
        using var services = Sharing(new ScriptedCache());

        var act = () => services.Client.Invalidate(new AccessToken("never-held", "Bearer", services.Time.GetUtcNow().AddHours(1)));

        act.Should().NotThrow();
    }

    [Fact]
    public async Task TheClientsOwnProtector_WinsOverTheContainersDataProtection()
    {
        var shared = TestServices.SharedCache();
        var mine = new EphemeralDataProtectionProvider().CreateProtector("mine");
        await using var services = new TestServices(
            o => { o.SharedCache = true; o.SharedCacheProtector = mine; },
            more: s => s.AddSingleton<IDistributedCache>(shared).AddDataProtection().UseEphemeralDataProtectionProvider());
        var token = await services.Client.GetTokenAsync();
        var key = services.Named.Existing(null)!.Shared!.Key;

        var value = SharedTokenValue.Parse(mine.CreateProtector(key).Unprotect((await shared.GetAsync(key))!), services.Time.GetUtcNow());

        value.Token.Should().Be(token.Value);
    }

    [Fact]
    public async Task WhileAnotherInstanceHoldsTheLock_ItWaitsItsTotalTimeoutPlusTheLocksExpiry_PollingEverLessOften()
    {
        var cache = new ScriptedCache();
        var locks = new ScriptedLock { Take = _ => null }; // held by a holder that lives and never shares
        await using var services = Sharing(cache, locks, o => { o.AttemptTimeout = o.TotalTimeout = TimeSpan.FromMilliseconds(500); });

        var watch = Stopwatch.StartNew();
        var token = await services.Client.GetTokenAsync();
        watch.Stop();

        token.Value.Should().Be("token-1");
        services.TokenEndpoint.RequestCount.Should().Be(1);
        watch.Elapsed.Should().BeGreaterThanOrEqualTo(TimeSpan.FromMilliseconds(500) + SharedTokenLevel.LockExpiry, "it waited for the holder");
        cache.Gets.Should().BeLessThan(40, "the looks grow from 50 ms to 400 ms apart: about 17 in 5.5 s");
        cache.Sets.Should().Be(1, "then it fetched, and shared what it fetched");
    }

    [Fact]
    public async Task ATokenSharedBetweenTheMissAndTheLock_IsTaken_AndTheLockReleased()
    {
        var now = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var cache = new ScriptedCache { Get = n => n == 1 ? null : Value("theirs", now) };
        var locks = new ScriptedLock();
        var logs = new CapturingLoggerProvider();
        await using var services = Sharing(cache, locks, logs: logs);

        var token = await services.Client.GetTokenAsync();

        token.Value.Should().Be("theirs");
        services.TokenEndpoint.RequestCount.Should().Be(0);
        (await locks.Released.Task.WaitAsync(TimeSpan.FromSeconds(30))).Should().Be(1);
        logs.Lines.Should().NotContain(l => l.Id.Name == "SharedValueUnreadable", "a key with no value is a plain miss");
    }

    [Fact]
    public async Task ACacheThatFailsWhileWaiting_SendsTheWaiterToTheEndpoint_WithoutAWrite()
    {
        var cache = new ScriptedCache { Get = n => n == 1 ? null : throw new InvalidOperationException("down") };
        await using var services = Sharing(cache, new ScriptedLock { Take = _ => null });

        var token = await services.Client.GetTokenAsync();

        token.Value.Should().Be("token-1");
        cache.Gets.Should().Be(2);
        cache.Sets.Should().Be(0, "the cache is out");
    }

    [Theory]
    [InlineData(typeof(InvalidOperationException), 1)]
    [InlineData(typeof(ObjectDisposedException), 0)]
    public async Task ACacheThatFails_IsNotAskedForItsLock_NorWrittenTo_AndAShutdownIsNoOutage(Type failure, int reports)
    {
        var cache = new ScriptedCache { Get = _ => throw (Exception)Activator.CreateInstance(failure, "gone")! };
        var locks = new ScriptedLock();
        var logs = new CapturingLoggerProvider();
        await using var services = Sharing(cache, locks, logs: logs);

        (await services.Client.GetTokenAsync()).Value.Should().Be("token-1");

        locks.Takes.Should().Be(0);
        cache.Sets.Should().Be(0);
        logs.Lines.Count(l => l.Id.Name == "SharedCacheUnavailable").Should().Be(reports);
        if (reports == 1)
        {
            logs.Lines.Single(l => l.Id.Name == "SharedCacheUnavailable").Text.Should().StartWith("The shared token cache failed: reading, InvalidOperationException: gone.");
        }
    }

    [Fact]
    public async Task AWriteThatFails_IsReportedAsAWrite_AndTheTokenIsKept()
    {
        var cache = new ScriptedCache { SetFailure = new InvalidOperationException("read-only replica") };
        var logs = new CapturingLoggerProvider();
        await using var services = Sharing(cache, logs: logs);

        (await services.Client.GetTokenAsync()).Value.Should().Be("token-1");

        await WaitForAsync(() => logs.Lines.Any(l => l.Id.Name == "SharedCacheUnavailable"));
        logs.Lines.Single(l => l.Id.Name == "SharedCacheUnavailable").Text.Should()
            .StartWith("The shared token cache failed: writing, InvalidOperationException: read-only replica.");
        (await services.Client.GetTokenAsync()).Value.Should().Be("token-1");
    }

    [Fact]
    public async Task AfterAFailure_NobodyCallsTheCacheUntilThePauseIsOver_ThenTheNextAcquisitionDoes()
    {
        var cache = new ScriptedCache { Get = _ => throw new InvalidOperationException("down") };
        await using var services = Sharing(cache);
        for (var i = 0; i < 3; i++)
        {
            services.Client.Invalidate(await services.Client.GetTokenAsync());
        }

        cache.Gets.Should().Be(1, "the first failure started the pause");
        services.Time.Advance(SharedTokenStore.OutageRetry - TimeSpan.FromTicks(1));
        services.Client.Invalidate(await services.Client.GetTokenAsync());
        cache.Gets.Should().Be(1);

        services.Time.Advance(TimeSpan.FromTicks(1));
        await services.Client.GetTokenAsync();
        cache.Gets.Should().Be(2, "the pause is over at its very instant");
    }

    [Fact]
    public async Task ASlowCallThatStartedBeforeAFailure_DoesNotEndTheOutage()
    {
        var slowAnswer = new TaskCompletionSource<byte[]?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var slowStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var cache = new ScriptedCache
        {
            GetAsync = n =>
            {
                if (n == 1)
                {
                    slowStarted.SetResult();
                    return slowAnswer.Task;
                }

                throw new InvalidOperationException("down");
            },
        };
        var logs = new CapturingLoggerProvider();
        await using var services = Sharing(cache, configure: o => o.SharedCacheTimeout = TimeSpan.FromSeconds(30), logs: logs);
        var factory = services.Provider.GetRequiredService<ITokenClientFactory>();

        var slow = factory.GetClient(TestServices.ClientName, "slow").GetTokenAsync().AsTask();
        await slowStarted.Task;
        await factory.GetClient(TestServices.ClientName, "failing").GetTokenAsync();
        slowAnswer.SetResult(null);
        await slow;

        logs.Lines.Count(l => l.Id.Name == "SharedCacheUnavailable").Should().Be(1);
        logs.Lines.Should().NotContain(l => l.Id.Name == "SharedCacheRestored", "the slow answer says nothing of the cache since the failure");
        await factory.GetClient(TestServices.ClientName, "third").GetTokenAsync();
        cache.Gets.Should().Be(2, "the outage's pause still holds");
    }

    [Fact]
    public async Task TheLookAfterTheLock_CancelledByTheEntrysEnd_ReleasesTheLock()
    {
        var looking = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var cache = new ScriptedCache
        {
            GetAsync = n =>
            {
                if (n == 1)
                {
                    return Task.FromResult<byte[]?>(null); // the miss before the lock
                }

                looking.TrySetResult();
                return new TaskCompletionSource<byte[]?>().Task; // the look after it answers only when cancelled
            },
        };
        var locks = new ScriptedLock();
        var services = Sharing(cache, locks, o => o.SharedCacheTimeout = TimeSpan.FromSeconds(30));

        var pending = services.Client.GetTokenAsync().AsTask();
        await looking.Task;
        await services.DisposeAsync(); // the entry ends (as at eviction, a reload that changes the identity, a sweep)

        (await locks.Released.Task.WaitAsync(TimeSpan.FromSeconds(30))).Should().Be(1, "a lock taken is released whatever ends the acquisition");
        await pending.ContinueWith(_ => { }, TaskScheduler.Default);
        services.TokenEndpoint.RequestCount.Should().Be(0);
    }

    [Fact]
    public async Task TheHoldersLock_IsReleasedOnce_AfterTheTokenIsWritten_NotWhenTheCallerHasIt()
    {
        var written = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var cache = new ScriptedCache { Writing = written.Task };
        var locks = new ScriptedLock();
        await using var services = Sharing(cache, locks);

        (await services.Client.GetTokenAsync()).Value.Should().Be("token-1", "the caller has its token while the write goes on");
        await TimeDriving.UntilAsync(() => cache.Sets == 1, "the token is being written");
        for (var pass = 0; pass < 50; pass++)
        {
            await Task.Run(static () => { }); // whatever the acquisition queued runs meanwhile
        }

        locks.Releases.Should().Be(0, "the instances that wait look for the token: the lock holds until it is written");
        written.SetResult();
        (await locks.Released.Task.WaitAsync(TimeSpan.FromSeconds(30))).Should().Be(1, "released once, after the write");
    }

    [Fact]
    public async Task ALockTakenWhileTheContainerIsDisposed_IsReleased()
    {
        var taking = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var grant = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var locks = new ScriptedLock { TakeAsync = async _ => { taking.SetResult(); await grant.Task; return true; } };
        var services = Sharing(new ScriptedCache(), locks, o => o.SharedCacheTimeout = TimeSpan.FromSeconds(30));

        var pending = services.Client.GetTokenAsync().AsTask();
        await taking.Task;
        await services.DisposeAsync();
        grant.SetResult();

        (await locks.Released.Task.WaitAsync(TimeSpan.FromSeconds(30))).Should().Be(1);
        await pending.ContinueWith(_ => { }, TaskScheduler.Default);
        pending.IsCompletedSuccessfully.Should().BeFalse("its container went away under it");
    }

    [Fact]
    public async Task ACallAbandonedAtItsTimeout_ThatFailsLater_LeavesNoUnobservedException()
    {
        var late = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var unobserved = await UnobservedExceptions.CountAsync(x => x is LateFailure, async () =>
        {
            await AbandonAsync(late);
            await AbandonAtDisposalAsync(late);
            late.SetResult();
            await Task.Delay(200);
        });

        unobserved.Should().Be(0);
    }

    [Fact]
    public async Task ATokenTakenFromTheSharedCache_IsKeptOutOfMessages_AsTheInstancesOwnAre()
    {
        var shared = TestServices.SharedCache();
        var protector = new EphemeralDataProtectionProvider().CreateProtector("fleet");
        await using var fetcher = new TestServices(o => { o.SharedCache = true; o.SharedCacheProtector = protector; }, more: s => s.AddSingleton<IDistributedCache>(shared));
        await using var taker = new TestServices(o => { o.SharedCache = true; o.SharedCacheProtector = protector; }, more: s => s.AddSingleton<IDistributedCache>(shared));
        fetcher.TokenEndpoint.Respond = _ => Task.FromResult(FakeTokenEndpoint.Token("fetchers-token-0123456789", 3600));
        var token = await fetcher.Client.GetTokenAsync();
        (await taker.Client.GetTokenAsync()).Value.Should().Be(token.Value);

        // The taker's endpoint then fails, echoing the token it was shown.
        taker.TokenEndpoint.Respond = _ => Task.FromResult(FakeTokenEndpoint.Json(HttpStatusCode.BadRequest, $$"""{"error":"invalid_request","error_description":"bad token {{token.Value}}"}"""));
        taker.Client.Invalidate(token);
        var act = async () => await taker.Client.GetTokenAsync();

        var failure = (await act.Should().ThrowAsync<TokenRequestException>()).Which;
        failure.Message.Should().NotContain(token.Value).And.Contain("[redacted]");
        failure.ErrorDescription.Should().Be("bad token [redacted]");
    }

    [Fact]
    public async Task ATokenTakenFromTheSharedCache_EndsTheTakersFailureCooldown()
    {
        var shared = TestServices.SharedCache();
        void Sharing(TokenClientOptions o) => (o.SharedCache, o.AllowInsecureSharedCache, o.FailureCooldown, o.MaxRetries) = (true, true, TimeSpan.FromHours(1), 0);
        await using var fetcher = new TestServices(Sharing, more: s => s.AddSingleton<IDistributedCache>(shared));
        await using var taker = new TestServices(Sharing, more: s => s.AddSingleton<IDistributedCache>(shared));
        taker.TokenEndpoint.Respond = _ => Task.FromResult(FakeTokenEndpoint.Json(HttpStatusCode.Unauthorized, """{"error":"invalid_client"}"""));
        await taker.Client.FailureAsync(); // the taker is now cooling down for an hour

        fetcher.TokenEndpoint.Respond = _ => Task.FromResult(FakeTokenEndpoint.Token("fetched", 3600));
        var taken = await fetcher.Client.GetTokenAsync();
        (await taker.Client.GetTokenAsync()).Value.Should().Be("fetched");

        // The token taken is then rejected by an API: the taker asks its own endpoint at once, not an hour later.
        taker.TokenEndpoint.Respond = n => Task.FromResult(FakeTokenEndpoint.Token($"takers-own-{n}", 3600));
        taker.Client.Invalidate(taken);
        (await taker.Client.GetTokenAsync()).Value.Should().StartWith("takers-own-");
    }

    [Fact]
    public async Task AnInstanceThatTakesAToken_RenewsWithinAFifthOfTheMarginAfterItsFetcher()
    {
        var shared = TestServices.SharedCache();
        void Sharing(TokenClientOptions o)
        {
            o.SharedCache = true;
            o.AllowInsecureSharedCache = true;
        }

        await using var fetcher = new TestServices(Sharing, more: s => s.AddSingleton<IDistributedCache>(shared));
        await using var taker = new TestServices(Sharing, more: s => s.AddSingleton<IDistributedCache>(shared));
        fetcher.TokenEndpoint.Respond = _ => Task.FromResult(FakeTokenEndpoint.Token("short", 100));
        var start = fetcher.Time.GetUtcNow();
        await fetcher.Client.GetTokenAsync();
        await taker.Client.GetTokenAsync();

        // 90% of 100 s, then at most a fifth of the 10 s margin.
        foreach (var renewAt in new[] { fetcher.Named.Cache.RenewAt!.Value, taker.Named.Cache.RenewAt!.Value })
        {
            renewAt.Should().BeOnOrAfter(start.AddSeconds(90)).And.BeOnOrBefore(start.AddSeconds(92));
        }

        taker.TokenEndpoint.RequestCount.Should().Be(0);
    }

    [Fact]
    public async Task AValueAtItsRenewalPoint_OrExpiringWithTheTokenHeld_IsNotTaken()
    {
        var shared = TestServices.SharedCache();
        await using var services = new TestServices(o => { o.SharedCache = true; o.AllowInsecureSharedCache = true; }, more: s => s.AddSingleton<IDistributedCache>(shared));
        var key = services.Named.Existing(null)!.Shared!.Key;
        var now = services.Time.GetUtcNow();

        await shared.SetAsync(key, SharedTokenValue.From(new AccessToken("due-now", "Bearer", now.AddMinutes(5)), now).ToBytes());
        var first = await services.Client.GetTokenAsync();
        first.Value.Should().Be("token-1", "a value due at this very instant is not taken");

        services.Time.Advance(TimeSpan.FromMinutes(55)); // the held token is due
        var later = services.Time.GetUtcNow();
        await shared.SetAsync(key, SharedTokenValue.From(new AccessToken("same-expiry", "Bearer", first.ExpiresAt), later.AddMinutes(1)).ToBytes());
        await services.Client.GetTokenAsync();
        await (services.Named.Cache.PendingAcquisition ?? Task.FromResult(first));

        (await services.Client.GetTokenAsync()).Value.Should().Be("token-2", "a value that expires with the token held is not newer");
    }

    private static async Task AbandonAsync(TaskCompletionSource late)
    {
        var cache = new ScriptedCache { GetAsync = _ => FailLaterAsync(late.Task) };
        await using var services = Sharing(cache, configure: o => o.SharedCacheTimeout = TimeSpan.FromMilliseconds(20));
        await services.Client.GetTokenAsync();
    }

    // A read still running when the container is disposed: its caller stops waiting, the read fails later.
    private static async Task AbandonAtDisposalAsync(TaskCompletionSource late)
    {
        var reading = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var cache = new ScriptedCache { GetAsync = _ => { reading.SetResult(); return FailLaterAsync(late.Task); } };
        var services = Sharing(cache, configure: o => o.SharedCacheTimeout = TimeSpan.FromSeconds(30));
        var pending = services.Client.GetTokenAsync().AsTask();
        await reading.Task;
        await services.DisposeAsync();
        await pending.ContinueWith(_ => { }, TaskScheduler.Default);
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        var watch = Stopwatch.StartNew();
        while (!condition() && watch.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(10);
        }
    }

    private static async Task<byte[]?> FailLaterAsync(Task signal)
    {
        await signal;
        throw new LateFailure();
    }

    private static byte[] Value(string token, DateTimeOffset now) =>
        SharedTokenValue.From(new AccessToken(token, "Bearer", now.AddHours(1)), now.AddMinutes(54)).ToBytes();

    private static TestServices Sharing(ScriptedCache cache, ScriptedLock? locks = null, Action<TokenClientOptions>? configure = null, CapturingLoggerProvider? logs = null) =>
        new(
            o =>
            {
                o.SharedCache = true;
                o.AllowInsecureSharedCache = true;
                configure?.Invoke(o);
            },
            more: s =>
            {
                s.AddSingleton<IDistributedCache>(cache);
                if (locks is not null)
                {
                    s.AddSingleton<ISharedTokenLock>(locks);
                }
            },
            logs: logs);


    private sealed class LateFailure : Exception;

    /// <summary>A distributed cache whose reads answer as the test says (by default: nothing there); counts reads and writes.</summary>
    private sealed class ScriptedCache : IDistributedCache
    {
        private int _gets;
        private int _sets;

        public Func<int, byte[]?> Get { get; init; } = _ => null;

        public Func<int, Task<byte[]?>>? GetAsync { get; init; }

        public Exception? SetFailure { get; init; }

        /// <summary>What a write waits for before it is done, if anything.</summary>
        public Task? Writing { get; init; }

        public int Gets => Volatile.Read(ref _gets);

        public int Sets => Volatile.Read(ref _sets);

        byte[]? IDistributedCache.Get(string key) => throw new NotSupportedException();

        Task<byte[]?> IDistributedCache.GetAsync(string key, CancellationToken token)
        {
            var n = Interlocked.Increment(ref _gets);
            return GetAsync is { } async ? async(n) : Task.FromResult(Get(n));
        }

        public void Set(string key, byte[] value, DistributedCacheEntryOptions options) => throw new NotSupportedException();

        public Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default)
        {
            Interlocked.Increment(ref _sets);
            return SetFailure is not null ? Task.FromException(SetFailure) : Writing ?? Task.CompletedTask;
        }

        public void Refresh(string key) => throw new NotSupportedException();

        public Task RefreshAsync(string key, CancellationToken token = default) => Task.CompletedTask;

        public void Remove(string key) => throw new NotSupportedException();

        public Task RemoveAsync(string key, CancellationToken token = default) => Task.CompletedTask;
    }

    /// <summary>A lock that grants, or not, as the test says (by default: granted); counts takes and releases.</summary>
    private sealed class ScriptedLock : ISharedTokenLock
    {
        private int _takes;
        private int _released;

        public Func<int, bool?> Take { get; init; } = _ => true;

        public Func<int, Task<bool>>? TakeAsync { get; init; }

        public int Takes => Volatile.Read(ref _takes);

        public int Releases => Volatile.Read(ref _released);

        /// <summary>Completes with the number of releases at the first one.</summary>
        public TaskCompletionSource<int> Released { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async ValueTask<IAsyncDisposable?> TryTakeAsync(string key, TimeSpan expiry, CancellationToken cancellationToken)
        {
            var n = Interlocked.Increment(ref _takes);
            var granted = TakeAsync is { } async ? await async(n) : Take(n) == true;
            return granted ? new Handle(this) : null;
        }

        private sealed class Handle(ScriptedLock owner) : IAsyncDisposable
        {
            public ValueTask DisposeAsync()
            {
                owner.Released.TrySetResult(Interlocked.Increment(ref owner._released));
                return ValueTask.CompletedTask;
            }
        }
    }
}
