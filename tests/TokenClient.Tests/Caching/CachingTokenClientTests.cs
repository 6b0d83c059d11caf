using System.Net;
using Microsoft.Extensions.DependencyInjection;
using TokenClient.Caching;
using TokenClient.Tests.TestSupport;

namespace TokenClient.Tests.Caching;

public class CachingTokenClientTests
{
    private const double Lifetime = 1000; // seconds: 1% of it is 10 s

    [Fact]
    public async Task GetTokenAsync_ThousandConcurrentCallersOnEmptyCache_MakeOneRequestAndShareItsToken()
    {
        using var services = new TestServices();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        services.TokenEndpoint.Respond = async n =>
        {
            await gate.Task;
            return FakeTokenEndpoint.Token($"token-{n}", Lifetime);
        };
        var client = services.Client;

        var waiting = 0;
        var allWaiting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var callers = Enumerable.Range(0, 1000).Select(_ => Task.Run(async () =>
        {
            var call = client.GetTokenAsync();
            if (!call.IsCompleted && Interlocked.Increment(ref waiting) == 1000)
            {
                allWaiting.SetResult();
            }

            return await call;
        })).ToArray();
        await allWaiting.Task; // every caller is inside GetTokenAsync, waiting, while the one request is held: they overlap

        // The acquisition runs on the thread pool: on a loaded machine it may reach the endpoint after the last caller waits.
        await TimeDriving.UntilAsync(() => services.TokenEndpoint.RequestCount > 0, "the one acquisition reaches the endpoint");
        services.TokenEndpoint.RequestCount.Should().Be(1);
        gate.SetResult();
        var tokens = await Task.WhenAll(callers);

        services.TokenEndpoint.RequestCount.Should().Be(1);
        tokens.Select(t => t.Value).Distinct().Should().Equal("token-1");
        tokens.Distinct().Should().ContainSingle("every caller gets the very same instance");
    }

    [Fact]
    public async Task CallersWaitingOnOneFailedAcquisition_EachGetAnExceptionOfTheirOwn_WithTheSameFields()
    {
        using var services = new TestServices(o => (o.MaxRetries, o.FailureCooldown) = (0, TimeSpan.Zero));
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        services.TokenEndpoint.Respond = async _ =>
        {
            await gate.Task;
            return FakeTokenEndpoint.Json(HttpStatusCode.BadRequest, """{"error":"invalid_client","error_description":"unknown client"}""");
        };
        var callers = Enumerable.Range(0, 3).Select(_ => services.Client.GetTokenAsync().AsTask()).ToArray();
        await TimeDriving.UntilAsync(() => services.TokenEndpoint.RequestCount == 1, "the one acquisition reaches the endpoint");

        gate.SetResult();
        var failures = new List<TokenRequestException>();
        foreach (var caller in callers)
        {
            failures.Add((await caller.Invoking(c => c).Should().ThrowAsync<TokenRequestException>()).Which);
        }

        services.TokenEndpoint.RequestCount.Should().Be(1, "they waited on one acquisition");
        failures.Distinct().Should().HaveCount(3, "a thrown exception's stack trace is rewritten by each throw: one object shared by many would be written by all");
        failures.Should().OnlyContain(f => f.Error == "invalid_client" && f.ErrorDescription == "unknown client" && !f.IsTransient && f.StatusCode == HttpStatusCode.BadRequest);
        failures.Select(f => f.Message).Distinct().Should().ContainSingle();
    }

    [Fact]
    public async Task GetTokenAsync_CachedToken_ReturnsItWithoutWaitingOrRequesting()
    {
        using var services = new TestServices();
        services.TokenEndpoint.Respond = n => Task.FromResult(FakeTokenEndpoint.Token($"token-{n}", Lifetime));
        var client = services.Client;
        var first = await client.GetTokenAsync();

        var again = client.GetTokenAsync();

        again.IsCompletedSuccessfully.Should().BeTrue();
        (await again).Should().BeSameAs(first);
        services.TokenEndpoint.RequestCount.Should().Be(1);
    }

    [Fact]
    public async Task GetTokenAsync_AcrossTheLifetime_RenewsInBackgroundAfterRefreshRatioAndNeverServesAnExpiredToken()
    {
        using var services = new TestServices();
        var renewalGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        services.TokenEndpoint.Respond = async n =>
        {
            if (n == 2)
            {
                await renewalGate.Task;
            }

            return n <= 2
                ? FakeTokenEndpoint.Token($"token-{n}", Lifetime)
                : FakeTokenEndpoint.Json(HttpStatusCode.ServiceUnavailable, """{"error":"temporarily_unavailable"}""");
        };
        var client = services.Client.Cache();
        var first = await client.GetTokenAsync();

        // 89%: still fresh, no request.
        services.Time.Advance(TimeSpan.FromSeconds(Lifetime * 0.89));
        (await client.GetTokenAsync()).Should().BeSameAs(first);
        services.TokenEndpoint.RequestCount.Should().Be(1);

        // 91%: the current token at once, and one renewal in the background.
        services.Time.Advance(TimeSpan.FromSeconds(Lifetime * 0.02));
        var during = client.GetTokenAsync();
        during.IsCompletedSuccessfully.Should().BeTrue("a caller with a valid token never waits for the renewal");
        (await during).Should().BeSameAs(first);
        var renewal = client.PendingAcquisition;
        renewal.Should().NotBeNull();
        (await client.GetTokenAsync()).Should().BeSameAs(first, "the renewal is still under way");
        await TimeDriving.UntilAsync(() => services.TokenEndpoint.RequestCount == 2, "the renewal's request");

        renewalGate.SetResult();
        var second = await renewal!;
        second.Value.Should().Be("token-2");
        (await client.GetTokenAsync()).Should().BeSameAs(second);
        services.TokenEndpoint.RequestCount.Should().Be(2, "only one renewal was started");

        // Past the second token's expiry, with a failing endpoint: an exception, never the expired token.
        services.Time.Advance(TimeSpan.FromSeconds(Lifetime + 1));
        var act = async () => await client.GetTokenAsync();
        var thrown = (await act.Should().ThrowAsync<TokenRequestException>()).Which;
        thrown.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        thrown.IsTransient.Should().BeTrue();
    }

    [Fact]
    public async Task GetTokenAsync_RenewalFailsWhileTokenValid_KeepsServingItAndTriesAgainLater()
    {
        using var services = new TestServices();
        var gate = new SemaphoreSlim(0);
        services.TokenEndpoint.Respond = async n =>
        {
            if (n > 1)
            {
                await gate.WaitAsync(); // holds each renewal until the test has seen it start
            }

            return n == 2
                ? FakeTokenEndpoint.Json(HttpStatusCode.InternalServerError, """{"error":"server_error"}""")
                : FakeTokenEndpoint.Token($"token-{n}", Lifetime);
        };
        var client = services.Client.Cache();
        var first = await client.GetTokenAsync();

        services.Time.Advance(TimeSpan.FromSeconds(Lifetime * 0.95));
        (await client.GetTokenAsync()).Should().BeSameAs(first);
        var failed = client.PendingAcquisition;
        failed.Should().NotBeNull();
        gate.Release();
        await failed!.Invoking(t => t).Should().ThrowAsync<TokenRequestException>();

        (await client.GetTokenAsync()).Should().BeSameAs(first, "the failure is not cached and the valid token stays");
        client.PendingAcquisition.Should().BeNull("the retry waits for its own time, not for every caller");
        services.TokenEndpoint.RequestCount.Should().Be(2);

        services.Time.Advance(CachingTokenClient.MaxRenewalRetryDelay);
        (await client.GetTokenAsync()).Should().BeSameAs(first);
        var retry = client.PendingAcquisition;
        retry.Should().NotBeNull();
        gate.Release();
        var retried = await retry!;
        retried.Value.Should().Be("token-3");
        (await client.GetTokenAsync()).Should().BeSameAs(retried);
    }

    [Fact]
    public async Task GetTokenAsync_FailedAcquisition_IsNotCachedAndTheNextCallerTriesAgain()
    {
        using var services = new TestServices(o => o.FailureCooldown = TimeSpan.Zero);
        services.TokenEndpoint.Respond = n => Task.FromResult(n == 1
            ? FakeTokenEndpoint.Json(HttpStatusCode.Unauthorized, """{"error":"invalid_client"}""")
            : FakeTokenEndpoint.Token("good", Lifetime));
        var client = services.Client;

        var act = async () => await client.GetTokenAsync();
        (await act.Should().ThrowAsync<TokenRequestException>()).Which.Error.Should().Be("invalid_client");

        (await client.GetTokenAsync()).Value.Should().Be("good");
        services.TokenEndpoint.RequestCount.Should().Be(2);
    }

    [Fact]
    public async Task GetTokenAsync_OneCallerCancels_OthersStillGetTheSharedToken()
    {
        using var services = new TestServices();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        services.TokenEndpoint.Respond = async n =>
        {
            await gate.Task;
            return FakeTokenEndpoint.Token($"token-{n}", Lifetime);
        };
        var client = services.Client;
        using var cancel = new CancellationTokenSource();

        var impatient = client.GetTokenAsync(cancel.Token).AsTask();
        var patient = Enumerable.Range(0, 10).Select(_ => client.GetTokenAsync().AsTask()).ToArray();
        await TimeDriving.UntilAsync(() => services.TokenEndpoint.RequestCount == 1, "the first request");
        await cancel.CancelAsync();

        await impatient.Invoking(t => t).Should().ThrowAsync<OperationCanceledException>();
        patient.Should().OnlyContain(t => !t.IsCompleted, "the shared acquisition goes on");
        gate.SetResult();
        (await Task.WhenAll(patient)).Should().OnlyContain(t => t.Value == "token-1");
        services.TokenEndpoint.RequestCount.Should().Be(1);
    }

    [Fact]
    public async Task GetTokenAsync_EveryCallerCancelsAndThenTheAcquisitionFails_LeavesNoUnobservedException()
    {
        var unobserved = await UnobservedExceptions.CountAsync(
            x => x is TokenRequestException { ErrorDescription: "unobserved-probe" },
            AbandonFailingAcquisitionAsync);

        unobserved.Should().Be(0);
    }

    // Kept out of the test's own frame, so that nothing it allocated is still reachable when the test collects.
    private static async Task AbandonFailingAcquisitionAsync()
    {
        using var services = new TestServices();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        services.TokenEndpoint.Respond = async _ =>
        {
            await gate.Task;
            return FakeTokenEndpoint.Json(HttpStatusCode.Unauthorized, """{"error":"invalid_client","error_description":"unobserved-probe"}""");
        };
        using var cancel = new CancellationTokenSource();
        var callers = Enumerable.Range(0, 3).Select(_ => services.Client.GetTokenAsync(cancel.Token).AsTask()).ToArray();
        await TimeDriving.UntilAsync(() => services.TokenEndpoint.RequestCount > 0, "the acquisition reaches the endpoint");
        var acquisition = services.Named.Cache.PendingAcquisition!;

        cancel.Cancel();
        foreach (var caller in callers)
        {
            await caller.Invoking(c => c).Should().ThrowAsync<OperationCanceledException>();
        }

        gate.SetResult();
        await ((Task)acquisition).ContinueWith(static _ => { }, TaskScheduler.Default); // ended, without reading its outcome
        acquisition.IsFaulted.Should().BeTrue("the endpoint refused the client after every caller had left");
    }

    [Fact]
    public async Task Invalidate_CurrentToken_NextCallAcquiresANewOne()
    {
        using var services = new TestServices();
        var client = services.Client;
        var first = await client.GetTokenAsync();

        client.Invalidate(first);
        var second = await client.GetTokenAsync();

        second.Value.Should().Be("token-2");
        services.TokenEndpoint.RequestCount.Should().Be(2);
    }

    [Fact]
    public async Task Invalidate_AnOlderToken_KeepsTheNewerOne()
    {
        using var services = new TestServices();
        var client = services.Client;
        var first = await client.GetTokenAsync();
        client.Invalidate(first);
        var second = await client.GetTokenAsync();

        client.Invalidate(first); // a late rejection of the old token

        (await client.GetTokenAsync()).Should().BeSameAs(second);
        services.TokenEndpoint.RequestCount.Should().Be(2);
    }

    [Fact]
    public async Task GetClient_SameNameTwice_SharesOneCacheEntryButTenantsDoNot()
    {
        using var services = new TestServices();
        var factory = services.Provider.GetRequiredService<ITokenClientFactory>();

        factory.GetClient("test").Should().BeSameAs(factory.GetClient("test"));
        factory.GetClient("test", "tenant-a").Should().BeSameAs(factory.GetClient("test", "tenant-a"));
        factory.GetClient("test", "tenant-a").Should().NotBeSameAs(factory.GetClient("test", "tenant-b"));
        (await factory.GetClient("test", "tenant-a").GetTokenAsync()).Should().NotBeSameAs(await factory.GetClient("test", "tenant-b").GetTokenAsync());
        services.TokenEndpoint.RequestCount.Should().Be(2);
    }
}
