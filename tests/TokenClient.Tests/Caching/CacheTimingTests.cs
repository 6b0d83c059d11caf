using Microsoft.Extensions.Time.Testing;
using TokenClient.Caching;
using TokenClient.Tests.TestSupport;

namespace TokenClient.Tests.Caching;

/// <summary>The cache alone, on fake time, at the exact instants where it decides: renewal, retry, expiry, disposal.</summary>
public sealed class CacheTimingTests : IDisposable
{
    private static readonly TimeSpan Tick = TimeSpan.FromTicks(1);

    private readonly CountingTimeProvider _time = new();
    private readonly CapturingLoggerProvider _logs = new();
    private readonly List<(bool Renewing, CancellationToken Token)> _requests = [];
    private readonly CachingTokenClient _cache;

    public CacheTimingTests() => _cache = new CachingTokenClient("cache", RequestAsync, refreshRatio: 0.9, _time, _logs.CreateLogger("cache"), TestMetrics.Create().CacheOf("cache"));

    /// <summary>Answers request number n (from 1); by default a token "token-n" valid for <see cref="Lifetime"/>.</summary>
    private Func<int, Task<IssuedToken>>? Respond { get; set; }

    private TimeSpan Lifetime { get; set; } = TimeSpan.FromSeconds(100);

    private FakeTimeProvider Time => _time.Fake;

    [Fact]
    public async Task RenewalFailsWithTenSecondsLeft_RetriesAfterHalfOfThem_NotAfterThirty()
    {
        Respond = n => n == 2 ? Task.FromException<IssuedToken>(Failure()) : Task.FromResult(Issued(n));
        var first = await _cache.GetTokenAsync();
        await RenewalFailsAtAsync(TimeSpan.FromSeconds(90)); // 10 s before expiry
        _time.LiveTimers.Should().Be(1, "the entry that waits for the retry replaced the one that was due");
        Logged("RenewalFailed").Should().ContainSingle().Which.Should().Contain("valid until 2026-01-01T00:01:40").And.Contain("tries again at 2026-01-01T00:01:35");

        Time.Advance(TimeSpan.FromSeconds(5) - Tick);
        (await CallAndSettleAsync()).Should().BeSameAs(first);
        _requests.Should().HaveCount(2, "the retry waits half of the 10 s left");

        Time.Advance(Tick);
        (await CallAndSettleAsync()).Should().BeSameAs(first);
        _requests.Select(r => r.Renewing).Should().Equal(false, true, true);
        (await _cache.GetTokenAsync()).Value.Should().Be("token-3");
    }

    [Fact]
    public async Task RenewalFailsWithAMinuteAndAHalfLeft_RetriesAfterThirtySeconds()
    {
        Lifetime = TimeSpan.FromSeconds(1000);
        Respond = n => n == 2 ? Task.FromException<IssuedToken>(Failure()) : Task.FromResult(Issued(n));
        await _cache.GetTokenAsync();
        await RenewalFailsAtAsync(TimeSpan.FromSeconds(900)); // 100 s before expiry: half would be 50 s

        Time.Advance(CachingTokenClient.MaxRenewalRetryDelay - Tick);
        await CallAndSettleAsync();
        _requests.Should().HaveCount(2);

        Time.Advance(Tick);
        await CallAndSettleAsync();
        _requests.Should().HaveCount(3);
        (await _cache.GetTokenAsync()).Value.Should().Be("token-3");
    }

    [Fact]
    public async Task AtTheRenewalInstantExactly_ARenewalStarts_AndNotATickBefore()
    {
        Respond = n => Task.FromResult(Issued(n));
        var first = await _cache.GetTokenAsync();

        Time.Advance(TimeSpan.FromSeconds(90) - Tick);
        (await CallAndSettleAsync()).Should().BeSameAs(first);
        _requests.Should().HaveCount(1);

        Time.Advance(Tick);
        (await CallAndSettleAsync()).Should().BeSameAs(first, "the current token is served while the renewal runs");
        _requests.Should().HaveCount(2);
        var renewed = await _cache.GetTokenAsync();
        renewed.Value.Should().Be("token-2");
        _cache.ExpiresAt.Should().Be(renewed.ExpiresAt);
    }

    [Fact]
    public async Task AtTheExpiryInstantExactly_TheTokenIsNoLongerServed()
    {
        var renewal = new TaskCompletionSource<IssuedToken>(TaskCreationOptions.RunContinuationsAsynchronously);
        Respond = n => n == 1 ? Task.FromResult(Issued(n)) : renewal.Task;
        var first = await _cache.GetTokenAsync();
        Time.Advance(TimeSpan.FromSeconds(90));
        await _cache.GetTokenAsync(); // starts the renewal, which hangs

        Time.Advance(TimeSpan.FromSeconds(10) - Tick);
        var before = _cache.GetTokenAsync();
        before.IsCompletedSuccessfully.Should().BeTrue();
        (await before).Should().BeSameAs(first);

        Time.Advance(Tick);
        var atExpiry = _cache.GetTokenAsync().AsTask();
        atExpiry.IsCompleted.Should().BeFalse("an expired token is never served: the caller waits for the renewal");
        renewal.SetResult(Issued(2));
        (await atExpiry).Value.Should().Be("token-2");
        _requests.Should().HaveCount(2, "the caller joined the renewal under way");
    }

    [Fact]
    public async Task RenewalFailsAfterExpiry_NothingIsKept_AndTheNextCallerTriesAgain()
    {
        Respond = n => n == 2 ? Task.FromException<IssuedToken>(Failure()) : Task.FromResult(Issued(n));
        await _cache.GetTokenAsync();
        Time.Advance(TimeSpan.FromSeconds(100));

        await _cache.Invoking(c => c.GetTokenAsync().AsTask()).Should().ThrowAsync<TokenRequestException>();
        Logged("RenewalFailed").Should().BeEmpty("an expired token is not kept for a retry");
        (await _cache.GetTokenAsync()).Value.Should().Be("token-3");
        _requests.Select(r => r.Renewing).Should().Equal(false, false, false);
    }

    [Fact]
    public async Task TokenValidForAYear_IsRenewedAtNinetyPercent_ThroughTimerSteps()
    {
        Lifetime = TimeSpan.FromDays(365);
        Respond = n => Task.FromResult(Issued(n));
        await _cache.GetTokenAsync();

        Time.Advance(TimeSpan.FromDays(328));
        await CallAndSettleAsync();
        _requests.Should().HaveCount(1, "90% of 365 days is 328.5 days");

        Time.Advance(TimeSpan.FromDays(0.5));
        await CallAndSettleAsync();
        (await _cache.GetTokenAsync()).Value.Should().Be("token-2");
        _time.LiveTimers.Should().Be(1, "one timer, that of the new token");
    }

    [Fact]
    public async Task CachedToken_IsServedWithoutReadingTheClock_UntilItsTimerMarksItDue()
    {
        Respond = n => Task.FromResult(Issued(n));
        var first = await _cache.GetTokenAsync();
        var reads = _time.Reads;

        for (var i = 0; i < 100; i++)
        {
            (await _cache.GetTokenAsync()).Should().BeSameAs(first);
        }

        _time.Reads.Should().Be(reads, "the hit path reads one field, not the clock");
        Time.Advance(TimeSpan.FromSeconds(90));
        await _cache.GetTokenAsync();
        _time.Reads.Should().BeGreaterThan(reads, "once due, the caller reads the clock to tell renewal from expiry");
    }

    [Fact]
    public async Task AtTheExpiryInstantExactly_WithNoRenewalUnderWay_ANewTokenIsRequestedAsAFirstOne()
    {
        Respond = n => Task.FromResult(Issued(n));
        await _cache.GetTokenAsync();

        Time.Advance(TimeSpan.FromSeconds(100)); // nobody called between the renewal point and expiry

        (await _cache.GetTokenAsync()).Value.Should().Be("token-2", "the expired token is not served, even at the instant it expires");
        _requests.Select(r => r.Renewing).Should().Equal(false, false);
    }

    [Fact]
    public async Task Dispose_CancelsTheAcquisitionUnderWay_AndNoTimerOutlivesTheCache()
    {
        var answer = new TaskCompletionSource<IssuedToken>(TaskCreationOptions.RunContinuationsAsynchronously);
        Respond = _ => answer.Task;
        var waiting = _cache.GetTokenAsync().AsTask();
        await TimeDriving.UntilAsync(() => _requests.Count == 1, "the request");

        _cache.Dispose();

        _requests[0].Token.IsCancellationRequested.Should().BeTrue();
        answer.SetResult(Issued(1)); // the server answered all the same
        (await waiting).Value.Should().Be("token-1");
        _time.LiveTimers.Should().Be(0, "the token that came after disposal holds no timer");
    }

    [Fact]
    public async Task Dispose_WithACachedToken_DisposesItsTimer()
    {
        Respond = n => Task.FromResult(Issued(n));
        await _cache.GetTokenAsync();
        _time.LiveTimers.Should().Be(1);

        _cache.Dispose();

        _time.LiveTimers.Should().Be(0);
    }

    [Fact]
    public async Task GetTokenAsync_AlreadyCancelled_IsCancelledWithoutARequest()
    {
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        Respond = _ => new TaskCompletionSource<IssuedToken>().Task; // an acquisition, if one started, would still be pending below

        var call = _cache.GetTokenAsync(cancelled.Token);

        call.IsCanceled.Should().BeTrue();
        _cache.PendingAcquisition.Should().BeNull("a caller that has already given up starts nothing");
    }

    [Fact]
    public async Task Invalidate_NullOrAnotherToken_LeavesTheCacheAsItIs()
    {
        Respond = n => Task.FromResult(Issued(n));
        var first = await _cache.GetTokenAsync();

        _cache.Invoking(c => c.Invalidate(null!)).Should().Throw<ArgumentNullException>();
        _cache.Invalidate(new AccessToken("someone-else", "Bearer", first.ExpiresAt));

        (await _cache.GetTokenAsync()).Should().BeSameAs(first);
        Logged("TokenInvalidated").Should().BeEmpty();
        _cache.Invalidate(new AccessToken(first.Value, "Bearer", first.ExpiresAt)); // equal by value, not the same instance
        _time.LiveTimers.Should().Be(0, "the dropped entry's timer is disposed");
        Logged("TokenInvalidated").Should().ContainSingle();
        (await _cache.GetTokenAsync()).Value.Should().Be("token-2");
    }

    public void Dispose() => _cache.Dispose();

    private IEnumerable<string> Logged(string eventName) => _logs.Lines.Where(l => l.Id.Name == eventName).Select(l => l.Text);

    // A call, and the wait for the renewal it started, if any: what the renewal did then shows in the requests.
    private async Task<AccessToken> CallAndSettleAsync()
    {
        var token = await _cache.GetTokenAsync();
        if (_cache.PendingAcquisition is { } renewal)
        {
            await renewal.ContinueWith(_ => { }, TaskScheduler.Default);
        }

        return token;
    }

    private async Task RenewalFailsAtAsync(TimeSpan sinceIssue)
    {
        Time.Advance(sinceIssue);
        await CallAndSettleAsync();
        _requests.Should().HaveCount(2, "the renewal point has come");
        _requests[1].Renewing.Should().BeTrue();
    }

    private Task<IssuedToken> RequestAsync(bool renewing, CancellationToken cancellationToken)
    {
        lock (_requests)
        {
            _requests.Add((renewing, cancellationToken));
            return Respond!(_requests.Count);
        }
    }

    private IssuedToken Issued(int n)
    {
        var now = Time.GetUtcNow();
        return new IssuedToken(new AccessToken($"token-{n}", "Bearer", now + Lifetime), now, Time.GetTimestamp(), RefreshToken: null);
    }

    private static TokenRequestException Failure() => new("cache", "the endpoint failed", isTransient: true);
}
