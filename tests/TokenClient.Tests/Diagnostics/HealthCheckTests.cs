using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using TokenClient.Tests.TestSupport;

namespace TokenClient.Tests.Diagnostics;

/// <summary>The health check's three states, on fake time, read from the caches without a token request.</summary>
public sealed class HealthCheckTests
{
    [Fact]
    public async Task HealthyWithAToken_DegradedWhileRenewalsFail_UnhealthyOnceItExpires_AndNoProbeRequestsAToken()
    {
        await using var services = new TestServices(more: s => s.AddTokenClientHealthChecks());
        services.TokenEndpoint.Respond = n => Task.FromResult(n == 1
            ? FakeTokenEndpoint.Token("token-1", 100)
            : FakeTokenEndpoint.Json(HttpStatusCode.ServiceUnavailable, """{"error":"temporarily_unavailable","error_description":"down for maintenance"}"""));
        var start = services.Time.GetUtcNow();

        var idle = await CheckAsync(services);
        idle.Status.Should().Be(HealthStatus.Healthy);
        idle.Entries["tokenclient"].Description.Should().Be("'test': no token requested yet");

        await services.Client.GetTokenAsync();
        var healthy = await CheckAsync(services);
        healthy.Status.Should().Be(HealthStatus.Healthy);
        healthy.Entries["tokenclient"].Description.Should().Be($"'test': token valid until {start.AddSeconds(100):O}");

        services.Time.Advance(TimeSpan.FromSeconds(95)); // past the renewal point at 90 s
        await services.Client.GetTokenAsync();
        await (services.Named.Cache.PendingAcquisition ?? Task.FromResult<AccessToken>(null!)).ContinueWith(_ => { }, TaskScheduler.Default);
        var degraded = await CheckAsync(services);
        degraded.Status.Should().Be(HealthStatus.Degraded);
        degraded.Entries["tokenclient"].Description.Should().StartWith($"'test': token valid until {start.AddSeconds(100):O}, but its renewal failed at {start.AddSeconds(95):O}: ")
            .And.Contain("down for maintenance");

        services.Time.Advance(TimeSpan.FromSeconds(10)); // past the expiry
        var unhealthy = await CheckAsync(services);
        unhealthy.Status.Should().Be(HealthStatus.Unhealthy);
        unhealthy.Entries["tokenclient"].Description.Should().StartWith($"'test': no valid token; the last request failed at {start.AddSeconds(95):O}: ");
        unhealthy.Entries["tokenclient"].Data.Should().Contain(new KeyValuePair<string, object>("test", "Unhealthy"));

        services.TokenEndpoint.RequestCount.Should().Be(2, "one token and one failed renewal: the four probes asked for nothing");
    }

    [Fact]
    public async Task ATokenAgain_AfterAFailure_IsHealthyAgain()
    {
        await using var services = new TestServices(more: s => s.AddTokenClientHealthChecks());
        services.TokenEndpoint.Respond = n => Task.FromResult(n == 1
            ? FakeTokenEndpoint.Json(HttpStatusCode.ServiceUnavailable, "{}")
            : FakeTokenEndpoint.Token($"token-{n}", 3600));
        var act = async () => await services.Client.GetTokenAsync();
        await act.Should().ThrowAsync<TokenRequestException>();
        (await CheckAsync(services)).Status.Should().Be(HealthStatus.Unhealthy);

        await services.Client.GetTokenAsync();

        (await CheckAsync(services)).Status.Should().Be(HealthStatus.Healthy);
    }

    private static Task<HealthReport> CheckAsync(TestServices services) =>
        services.Provider.GetRequiredService<HealthCheckService>().CheckHealthAsync();
}
