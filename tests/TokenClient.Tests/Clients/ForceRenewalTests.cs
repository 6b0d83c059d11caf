using System.Net;
using Microsoft.Extensions.DependencyInjection;
using TokenClient.Tests.TestSupport;

namespace TokenClient.Tests.Clients;

/// <summary>TokenRequestParameters.ForceRenewal: a new token, one request for all who force at once, the cooldown kept.</summary>
public class ForceRenewalTests
{
    private static readonly TokenRequestParameters s_force = new() { ForceRenewal = true };

    [Fact]
    public async Task ForceRenewal_GetsANewToken_ThatEveryCallerGetsAfterwards()
    {
        using var services = new TestServices();
        var first = await services.Client.GetTokenAsync();

        var forced = await services.Client.GetTokenAsync(s_force);

        forced.Value.Should().Be("token-2");
        (await services.Client.GetTokenAsync()).Should().BeSameAs(forced, "the new token takes the old one's place");
        services.TokenEndpoint.RequestCount.Should().Be(2);
        first.Value.Should().Be("token-1");
    }

    [Fact]
    public async Task ForceRenewal_FiftyCallersAtOnce_ShareOneRequest_WhileOthersKeepTheCurrentToken()
    {
        using var services = new TestServices();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        services.TokenEndpoint.RespondWith = async (n, _) =>
        {
            if (n > 1)
            {
                await release.Task;
            }

            return FakeTokenEndpoint.Token($"token-{n}", 3600);
        };
        var current = await services.Client.GetTokenAsync();

        var forcing = Enumerable.Range(0, 50).Select(_ => services.Client.GetTokenAsync(s_force).AsTask()).ToArray();
        var meanwhile = await services.Client.GetTokenAsync();
        release.SetResult();
        var renewed = await Task.WhenAll(forcing);

        meanwhile.Should().BeSameAs(current, "a caller who does not force is served the valid token while the renewal runs");
        renewed.Select(t => t.Value).Should().OnlyContain(v => v == "token-2");
        services.TokenEndpoint.RequestCount.Should().Be(2, "one request for the first token, one for all fifty who forced");
    }

    [Fact]
    public async Task ForceRenewal_WhileABackgroundRenewalRuns_JoinsIt()
    {
        using var services = new TestServices();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        services.TokenEndpoint.RespondWith = async (n, _) =>
        {
            if (n > 1)
            {
                await release.Task;
            }

            return FakeTokenEndpoint.Token($"token-{n}", 100);
        };
        await services.Client.GetTokenAsync();
        services.Time.Advance(TimeSpan.FromSeconds(95)); // past the renewal point, before expiry
        (await services.Client.GetTokenAsync()).Value.Should().Be("token-1");
        services.Named.Cache.IsAcquiring.Should().BeTrue("the renewal runs in the background");

        var forced = services.Client.GetTokenAsync(s_force).AsTask();
        release.SetResult();

        (await forced).Value.Should().Be("token-2");
        services.TokenEndpoint.RequestCount.Should().Be(2);
    }

    [Fact]
    public async Task ForceRenewal_AfterAPermanentFailure_RepeatsItWithinTheCooldown_AndTheValidTokenStaysInService()
    {
        using var services = new TestServices(o => o.FailureCooldown = TimeSpan.FromSeconds(30));
        services.TokenEndpoint.Respond = n => Task.FromResult(n == 1
            ? FakeTokenEndpoint.Token("token-1", 3600)
            : FakeTokenEndpoint.Json(HttpStatusCode.BadRequest, """{"error":"invalid_client"}"""));
        var current = await services.Client.GetTokenAsync();

        var first = async () => await services.Client.GetTokenAsync(s_force);
        var again = async () => await services.Client.GetTokenAsync(s_force);

        (await first.Should().ThrowAsync<TokenRequestException>()).Which.Error.Should().Be("invalid_client");
        (await again.Should().ThrowAsync<TokenRequestException>()).Which.InnerException.Should().BeOfType<TokenRequestException>("the cooldown repeats the failure");
        services.TokenEndpoint.RequestCount.Should().Be(2, "a caller who forces again and again does not hammer a failing endpoint");
        (await services.Client.GetTokenAsync()).Should().BeSameAs(current, "a failed forced renewal keeps the valid token for the others");
    }

    [Fact]
    public async Task ForceRenewal_ALateRejectionOfTheReplacedToken_KeepsTheNewOne()
    {
        using var services = new TestServices();
        var old = await services.Client.GetTokenAsync();
        var forced = await services.Client.GetTokenAsync(s_force);

        services.Client.Invalidate(old);

        (await services.Client.GetTokenAsync()).Should().BeSameAs(forced);
        services.TokenEndpoint.RequestCount.Should().Be(2);
    }

    [Fact]
    public async Task ForceRenewal_WithParameters_RenewsTheirEntryAlone()
    {
        using var services = new TestServices();
        var configured = await services.Client.GetTokenAsync();
        var scoped = await services.Client.GetTokenAsync(new TokenRequestParameters { Scope = "a" });

        var renewed = await services.Client.GetTokenAsync(new TokenRequestParameters { Scope = "a", ForceRenewal = true });

        renewed.Should().NotBeSameAs(scoped);
        (await services.Client.GetTokenAsync(new TokenRequestParameters { Scope = "a" })).Should().BeSameAs(renewed);
        (await services.Client.GetTokenAsync()).Should().BeSameAs(configured);
        services.TokenEndpoint.Requests.Last().Fields.Should().Contain(new KeyValuePair<string, string>("scope", "a"));
    }

    [Fact]
    public async Task ForceRenewal_OnATenantHandle_RenewsThatTenant()
    {
        using var services = new TestServices();
        var tenant = services.Provider.GetRequiredService<ITokenClientFactory>().GetClient(TestServices.ClientName, "acme");
        var before = await tenant.GetTokenAsync();

        var renewed = await tenant.GetTokenAsync(s_force);

        renewed.Should().NotBeSameAs(before);
        (await tenant.GetTokenAsync()).Should().BeSameAs(renewed);
    }

    [Fact]
    public async Task ForceRenewal_WithASharedCache_DoesNotTakeBackTheTokenItReplaces()
    {
        await using var services = new TestServices(o => { o.SharedCache = true; o.AllowInsecureSharedCache = true; }, more: s => s.AddDistributedMemoryCache());
        var old = await services.Client.GetTokenAsync();

        var forced = await services.Client.GetTokenAsync(s_force);

        forced.Value.Should().NotBe(old.Value, "the shared cache still holds the old token, which the renewal meant to replace");
        services.TokenEndpoint.RequestCount.Should().Be(2);
    }

    [Fact]
    public async Task ForceRenewal_CancelledBeforeTheCall_SendsNothing()
    {
        using var services = new TestServices();
        await services.Client.GetTokenAsync();

        var call = async () => await services.Client.GetTokenAsync(s_force, new CancellationToken(canceled: true));

        await call.Should().ThrowAsync<OperationCanceledException>();
        services.TokenEndpoint.RequestCount.Should().Be(1);
    }
}
