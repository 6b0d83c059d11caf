using System.Net;
using TokenClient.Caching;
using TokenClient.Tests.TestSupport;

namespace TokenClient.Tests.Endpoint;

/// <summary>
/// The failure cooldown: after a permanent failure, the same failure for a while without a request. Where it meets
/// other parts, its tests sit with them: a configuration change (TokenEndpointClientTests, LiveConfigurationTests), the
/// shared cache (SharedTokenLevelTests), its metric (TokenClientMetricsTests), a clock step (ClockAndLifetimeTests).
/// </summary>
public class FailureCooldownTests
{
    [Fact]
    public async Task GetTokenAsync_WithinCooldownAfterPermanentFailure_RepeatsTheFailureWithoutCallingTheEndpoint()
    {
        using var services = new TestServices(o => o.FailureCooldown = TimeSpan.FromSeconds(5));
        services.TokenEndpoint.Respond = n => Task.FromResult(n == 1
            ? FakeTokenEndpoint.Json(HttpStatusCode.Unauthorized, """{"error":"invalid_client"}""")
            : FakeTokenEndpoint.Token("after-cooldown", 3600));
        var client = services.Client;

        var first = await client.FailureAsync();
        services.Time.Advance(TimeSpan.FromSeconds(4));
        var callers = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => client.FailureAsync()));

        callers.Should().OnlyContain(e => e.InnerException is TokenRequestException && e.InnerException.Message == first.Message && e.Error == "invalid_client"
            && e.StatusCode == HttpStatusCode.Unauthorized && !e.IsTransient && e.ClientName == first.ClientName && e.Message.StartsWith(first.Message)
            && e.Message.EndsWith("(Repeated without a new request until 2026-01-01T00:00:05.0000000+00:00: the failure cooldown.)"));
        services.TokenEndpoint.RequestCount.Should().Be(1, "a misconfigured client must not hammer the provider");

        services.Time.Advance(TimeSpan.FromSeconds(1));
        (await client.GetTokenAsync()).Value.Should().Be("after-cooldown");
        services.TokenEndpoint.RequestCount.Should().Be(2);
    }

    [Fact]
    public async Task GetTokenAsync_ManyCallersWithinCooldown_EachGetsAnExceptionOfItsOwn_WhoseTextDoesNotGrow()
    {
        using var services = new TestServices(o => o.FailureCooldown = TimeSpan.FromMinutes(5));
        services.TokenEndpoint.Respond = _ => Task.FromResult(FakeTokenEndpoint.Json(HttpStatusCode.Unauthorized, """{"error":"invalid_client"}"""));
        var client = services.Client;
        var first = await client.FailureAsync();
        var firstText = first.ToString().Length;

        var repeated = new List<TokenRequestException>();
        for (var i = 0; i < 2000; i++)
        {
            repeated.Add(await client.FailureAsync());
        }

        repeated.Distinct().Should().HaveCount(2000, "no exception object is shared between callers");
        repeated.Should().NotContain(first);
        first.ToString().Length.Should().Be(firstText, "the stored failure is never thrown again, so its stack trace never grows");
        repeated[^1].ToString().Length.Should().BeLessThanOrEqualTo(repeated[0].ToString().Length * 2, "the 2,000th is no longer than the first, give or take its own stack");
        repeated[^1].ToString().Length.Should().BeLessThan(16 * 1024);
        services.TokenEndpoint.RequestCount.Should().Be(1);
    }

    [Fact]
    public async Task GetTokenAsync_AfterTransientFailure_NoCooldown()
    {
        using var services = new TestServices();
        services.TokenEndpoint.Respond = n => Task.FromResult(n == 1 ? new HttpResponseMessage(HttpStatusCode.BadGateway) : FakeTokenEndpoint.Token("next", 3600));
        var client = services.Client;

        await client.FailureAsync();

        (await client.GetTokenAsync()).Value.Should().Be("next");
    }

    [Fact]
    public async Task BackgroundRenewal_DuringCooldown_StillCallsTheEndpoint()
    {
        // An hour-long token: the cooldown's cap (a tenth of the lifetime) is 6 minutes, longer than the renewal's retry delay.
        using var services = new TestServices(o => o.FailureCooldown = TimeSpan.FromHours(1));
        services.TokenEndpoint.Respond = n => Task.FromResult(n == 2
            ? FakeTokenEndpoint.Json(HttpStatusCode.Unauthorized, """{"error":"invalid_client"}""")
            : FakeTokenEndpoint.Token($"token-{n}", 3600));
        var client = services.Client;
        (await client.GetTokenAsync()).Value.Should().Be("token-1");

        services.Time.Advance(TimeSpan.FromMinutes(54)); // the renewal point: the renewal is refused, a cooldown starts
        (await client.GetTokenAsync()).Value.Should().Be("token-1");
        await client.RenewalSettledAsync();
        services.TokenEndpoint.RequestCount.Should().Be(2);

        services.Time.Advance(CachingTokenClient.MaxRenewalRetryDelay); // the renewal's next try, inside the cooldown
        (await client.GetTokenAsync()).Value.Should().Be("token-1");
        await client.RenewalSettledAsync();

        services.TokenEndpoint.RequestCount.Should().Be(3, "a cooldown never holds back the renewal of a token that is still valid");
        (await client.GetTokenAsync()).Value.Should().Be("token-3");
    }

    [Fact]
    public async Task GetTokenAsync_PermanentFailure_CooldownIsCappedAtATenthOfTheTokenLifetime()
    {
        using var services = new TestServices(o => o.FailureCooldown = TimeSpan.FromMinutes(5));
        services.TokenEndpoint.Respond = n => Task.FromResult(n == 2
            ? FakeTokenEndpoint.Json(HttpStatusCode.Unauthorized, """{"error":"invalid_client"}""")
            : FakeTokenEndpoint.Token($"token-{n}", 20));
        var client = services.Client;
        client.Invalidate(await client.GetTokenAsync()); // the API rejected it: the next caller has no token

        var first = await client.FailureAsync();
        services.Time.Advance(TimeSpan.FromSeconds(1.9));
        (await client.FailureAsync()).InnerException!.Message.Should().Be(first.Message, "within a tenth of the 20 s lifetime: repeated");
        services.TokenEndpoint.RequestCount.Should().Be(2);

        services.Time.Advance(TimeSpan.FromSeconds(0.1));
        (await client.GetTokenAsync()).Value.Should().Be("token-3", "a 5-minute cooldown would outlast 15 tokens of 20 s");
    }

    [Fact]
    public async Task GetTokenAsync_ConfigurationChangesDuringCooldown_CallsTheEndpointAtOnce()
    {
        var configuration = TestServices.Settings(("ClientSecret", "old-secret"), ("FailureCooldown", "00:05:00"));
        await using var services = new TestServices(name: "live", configuration: configuration);
        var endpoint = services.TokenEndpoint;
        endpoint.Respond = n => Task.FromResult(n == 1
            ? FakeTokenEndpoint.Json(HttpStatusCode.Unauthorized, """{"error":"invalid_client"}""")
            : FakeTokenEndpoint.Token("after-change", 3600));
        var client = services.Client;
        var first = await client.FailureAsync();
        (await client.FailureAsync()).InnerException!.Message.Should().Be(first.Message);

        configuration["ClientSecret"] = "new-secret";
        configuration.Reload();

        (await client.GetTokenAsync()).Value.Should().Be("after-change");
        endpoint.RequestCount.Should().Be(2);
    }
}
