using System.Net;
using System.Text;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;
using TokenClient.Tests.TestSupport;

namespace TokenClient.Tests.Caching;

/// <summary>
/// A token's time where two clocks meet: the wall clock stepped while the timers run on, and a body that arrives long
/// after its headers. Expiry and renewal follow the monotonic clock; what is left of a lifetime is measured once the
/// body has been read.
/// </summary>
[Collection(nameof(DrivenTimeCollection))]
public class ClockAndLifetimeTests
{
    [Fact]
    public async Task WallClockSteppedBackAnHour_TheTokenIsStillRenewedAtItsPoint_AndNeverServedExpired()
    {
        var clock = new SteppedClock();
        using var services = new TestServices(time: clock);
        services.TokenEndpoint.Respond = n => Task.FromResult(FakeTokenEndpoint.Token($"token-{n}", 4)); // renewed at 3.6 s
        var client = services.Client;
        (await client.GetTokenAsync()).Value.Should().Be("token-1");

        clock.StepWallClock(TimeSpan.FromHours(-1));
        clock.Fake.Advance(TimeSpan.FromSeconds(3.6));
        await TimeDriving.SettleAsync();
        clock.Fake.Advance(TimeSpan.FromSeconds(1.4)); // 5 s after token-1 arrived: it expired a second ago

        (await client.GetTokenAsync()).Value.Should().Be("token-2", "token-1 expired after 4 s of the monotonic clock, whatever the wall clock says");
        services.TokenEndpoint.RequestCount.Should().Be(2);
    }

    [Fact]
    public async Task WallClockSteppedForwardThreeHours_TheValidTokenIsStillServedAtOnce_WithOneRenewal()
    {
        var clock = new SteppedClock();
        using var services = new TestServices(time: clock);
        var renewal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        services.TokenEndpoint.Respond = async n =>
        {
            if (n > 1)
            {
                await renewal.Task;
            }

            return FakeTokenEndpoint.Token($"token-{n}", 100);
        };
        var client = services.Client;
        var first = await client.GetTokenAsync();

        clock.StepWallClock(TimeSpan.FromHours(3));
        (await client.GetTokenAsync()).Should().BeSameAs(first, "no renewal before its point");
        clock.Fake.Advance(TimeSpan.FromSeconds(90)); // due, 10 s before expiry

        var calls = Enumerable.Range(0, 10).Select(_ => client.GetTokenAsync()).ToArray();
        calls.Should().OnlyContain(c => c.IsCompletedSuccessfully && ReferenceEquals(c.Result, first), "the token is still valid for 10 s: served at once while it renews");
        await TimeDriving.UntilAsync(() => services.TokenEndpoint.RequestCount == 2, "the one renewal reaches the endpoint");
        var renewing = services.Named.Cache.PendingAcquisition;
        renewing.Should().NotBeNull("the renewal is under way");
        renewal.SetResult();
        await renewing!;
        services.TokenEndpoint.RequestCount.Should().Be(2, "one renewal, not one per caller");
    }

    [Fact]
    public async Task WallClockSteppedBackDuringAFailureCooldown_TheCooldownStillEndsOnTime()
    {
        var clock = new SteppedClock();
        using var services = new TestServices(o => o.FailureCooldown = TimeSpan.FromSeconds(5), time: clock);
        services.TokenEndpoint.Respond = n => Task.FromResult(n == 1
            ? FakeTokenEndpoint.Json(HttpStatusCode.Unauthorized, """{"error":"invalid_client"}""")
            : FakeTokenEndpoint.Token("after-cooldown", 3600));
        var client = services.Client;
        await client.FailureAsync();

        clock.StepWallClock(TimeSpan.FromHours(-1));
        clock.Fake.Advance(TimeSpan.FromSeconds(5));

        (await client.GetTokenAsync()).Value.Should().Be("after-cooldown", "the cooldown lasts 5 s of the monotonic clock, not an hour more");
    }

    [Fact]
    public async Task ABodyThatArrivesAfterTheTokensLifetime_IsRefusedAsTransient_AndNothingIsCached()
    {
        using var services = new TestServices();
        var body = new GatedBody("""{"access_token":"slow-1","token_type":"Bearer","expires_in":3}""");
        services.TokenEndpoint.Respond = n => Task.FromResult(n == 1 ? body.Response() : FakeTokenEndpoint.Token($"token-{n}", 3600));
        var client = services.Client;

        var call = client.GetTokenAsync().AsTask();
        await body.Reading.Task; // the headers were taken, and their time with them
        services.Time.Advance(TimeSpan.FromSeconds(3.5)); // within AttemptTimeout, past the token's 3 s
        body.Release();

        var failure = (await call.Invoking(c => c).Should().ThrowAsync<TokenRequestException>()).Which;
        failure.IsTransient.Should().BeTrue();
        failure.StatusCode.Should().Be(HttpStatusCode.OK);
        failure.Message.Should().Be("Token client 'test' could not get a token from auth.test: HTTP 200 (OK), a token of 3 s whose body took 3.5 s to arrive, leaving less than the minimum lifetime of 2 s.");
        services.Named.Cache.Held.Should().BeNull("an expired token is never cached");
        (await client.GetTokenAsync()).Value.Should().Be("token-2", "no cooldown after a slow answer");
    }

    [Fact]
    public async Task ABodyThatArrivesLate_WithSharing_FailsWithATokenRequestException_AndSharesNothing()
    {
        var shared = TestServices.SharedCache();
        using var services = new TestServices(o => (o.SharedCache, o.AllowInsecureSharedCache) = (true, true), more: s => s.AddSingleton<IDistributedCache>(shared));
        var body = new GatedBody("""{"access_token":"slow-1","token_type":"Bearer","expires_in":3}""");
        services.TokenEndpoint.Respond = _ => Task.FromResult(body.Response());

        var call = services.Client.GetTokenAsync().AsTask();
        await body.Reading.Task; // the headers were taken, and their time with them
        services.Time.Advance(TimeSpan.FromSeconds(3.5));
        body.Release();

        (await call.Invoking(c => c).Should().ThrowAsync<TokenRequestException>()).Which.IsTransient.Should().BeTrue();
        (await shared.GetAsync(services.Named.Existing(null)!.Shared!.Key)).Should().BeNull();
    }

    [Fact]
    public async Task ABodyThatArrivesLate_WithLifetimeLeft_CountsTheLifetimeFromTheHeaders()
    {
        using var services = new TestServices();
        var body = new GatedBody("""{"access_token":"slow-1","token_type":"Bearer","expires_in":10}""");
        services.TokenEndpoint.Respond = _ => Task.FromResult(body.Response());
        var headersAt = services.Time.GetUtcNow();

        var call = services.Client.GetTokenAsync().AsTask();
        await body.Reading.Task; // the headers were taken, and their time with them
        services.Time.Advance(TimeSpan.FromSeconds(3.5));
        body.Release();

        (await call).ExpiresAt.Should().Be(headersAt + TimeSpan.FromSeconds(10), "6.5 s are left, and the token expires when it does, not 3.5 s later");
    }

    /// <summary>A token response whose headers go at once and whose body waits until the test releases it.</summary>
    private sealed class GatedBody(string json)
    {
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Completes when the client starts reading the body: after it took the headers.</summary>
        public TaskCompletionSource Reading { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public HttpResponseMessage Response()
        {
            var content = new StreamContent(new Gated(Encoding.UTF8.GetBytes(json), this));
            content.Headers.ContentType = new("application/json");
            return new HttpResponseMessage(HttpStatusCode.OK) { Content = content };
        }

        public void Release() => _release.SetResult();

        private sealed class Gated(byte[] bytes, GatedBody owner) : MemoryStream(bytes)
        {
            public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
            {
                owner.Reading.TrySetResult();
                await owner._release.Task.WaitAsync(cancellationToken);
                return await base.ReadAsync(buffer, cancellationToken);
            }
        }
    }
}
