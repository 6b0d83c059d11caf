using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using TokenClient.Clients;
using TokenClient.Tests.TestSupport;

namespace TokenClient.Tests.Clients;

/// <summary>Tenant entries at the edges of their life: the sweep that releases them, the cap that evicts them, disposal.</summary>
public sealed class NamedClientTests : IDisposable
{
    private readonly CountingTimeProvider _time = new();
    private readonly CapturingLoggerProvider _logs = new();
    private readonly IConfigurationRoot _configuration = TestServices.Settings(("MaxTenants", "20"));

    private readonly TestServices _services;

    public NamedClientTests() => _services = new TestServices(configuration: _configuration, time: _time, logs: _logs);

    private TokenClientFactory Factory => _services.Provider.GetRequiredService<TokenClientFactory>();

    private NamedClient Named => Factory.Named(TestServices.ClientName);

    // The factory sweeps once a minute; a tenant goes once it was not used for a whole sweep and its token has expired.
    [Fact]
    public async Task Tenant_UsedDuringTheLastMinute_StaysThroughTheNextSweep_AndGoesAtTheOneAfter()
    {
        _configuration["RefreshRatio"] = "0.999"; // no renewal before 59:56
        _configuration.Reload();
        await Tenant("acme").GetTokenAsync(); // valid until 01:00:00
        var timers = _time.LiveTimers;

        _time.Fake.Advance(TimeSpan.FromSeconds((59 * 60) + 30));
        await Tenant("acme").GetTokenAsync(); // used between the sweeps of 00:59 and 01:00
        _time.Fake.Advance(TimeSpan.FromSeconds(30));
        Named.TenantCount.Should().Be(1, "expired at the sweep of 01:00, but used since the sweep before");

        _time.Fake.Advance(TimeSpan.FromMinutes(1));
        Named.TenantCount.Should().Be(0, "idle for the whole minute before the sweep of 01:01");
        _time.LiveTimers.Should().Be(timers - 1, "the released entry's timer is disposed");
    }

    [Fact]
    public async Task IdleTenant_IsReleasedByTheSweepAtTheInstantItsTokenExpires_AndNotBefore()
    {
        await Tenant("acme").GetTokenAsync(); // valid until 01:00:00, and a sweep comes at 01:00:00

        _time.Fake.Advance(TimeSpan.FromHours(1) - TimeSpan.FromTicks(1));
        Named.TenantCount.Should().Be(1, "its token was still valid at every sweep so far");

        _time.Fake.Advance(TimeSpan.FromTicks(1));
        Named.TenantCount.Should().Be(0);
    }

    [Fact]
    public async Task AtTheCap_ANewTenantEvictsATenthOfTheCap_TheLeastRecentlyUsed()
    {
        for (var i = 0; i < 20; i++)
        {
            await Tenant($"t{i}").GetTokenAsync();
        }

        Named.TenantCount.Should().Be(20, "up to the cap, nothing is evicted");
        _logs.Lines.Should().NotContain(l => l.Id.Name == "TenantsEvicted");
        var timers = _time.LiveTimers;

        await Tenant("newcomer").GetTokenAsync();

        Named.TenantCount.Should().Be(19, "two of 20 went (a tenth of the cap), then the newcomer came");
        _logs.Lines.Should().ContainSingle(l => l.Id.Name == "TenantsEvicted").Which.Text.Should().Contain("cap of 20 tenants and released the 2 least recently used");
        _time.LiveTimers.Should().Be(timers - 2 + 1, "the evicted entries' timers are disposed");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AtTheCap_AmongTenantsLastUsedInOneSweep_TheLeastUsedGoFirst_ThenThoseUsedOverTheShortestSpan(bool sameUses)
    {
        await Tenant("old-1").GetTokenAsync(); // made in the first sweep's minute
        await Tenant("old-2").GetTokenAsync();
        _time.Fake.Advance(TokenClientFactory.SweepInterval * 2); // two sweeps: their tokens, valid for an hour, keep them
        await Tenant("old-1").GetTokenAsync(); // used again in the same sweep as the 18 below
        await Tenant("old-2").GetTokenAsync();
        for (var i = 0; i < 18; i++)
        {
            for (var use = 0; use < (sameUses ? 2 : 3); use++)
            {
                await Tenant($"new-{i}").GetTokenAsync();
            }
        }

        await Tenant("newcomer").GetTokenAsync();

        // Used twice each, like the old ones (sameUses), the new ones were used over a shorter span: a flood's names, the
        // first to go; used three times each, they were used more than the old ones, which go first.
        var survivors = new[] { "old-1", "old-2" }.Where(t => Named.Existing(t) is not null);
        survivors.Should().HaveCount(sameUses ? 2 : 0);
        Named.TenantCount.Should().Be(19);
    }

    [Fact]
    public async Task ATenantsUseCount_StopsAtSixteen()
    {
        for (var i = 0; i < 20; i++)
        {
            await Tenant("busy").GetTokenAsync();
        }

        Named.Existing("busy")!.Uses.Should().Be(16, "enough to tell a tenant in use from a flood of names used once or twice");
    }

    [Fact]
    public async Task AtTheCap_TenantsWaitingForTheirFirstToken_AreNotEvicted_AndNewOnesFailFastUntilThereIsRoom()
    {
        var gate = HoldAnswers();

        // 40 callers on 40 new tenants at once, twice the cap, while the endpoint has not answered yet.
        var calls = Enumerable.Range(0, 40).Select(i => Tenant($"t{i}").GetTokenAsync().AsTask()).ToArray();
        await TimeDriving.UntilAsync(() => _services.TokenEndpoint.RequestCount == 20, "the first 20 tenants' requests reach the endpoint");

        Named.TenantCount.Should().Be(20);
        var refused = calls.Where(c => c.IsFaulted).Select(c => c.Exception!.InnerException).ToArray();
        refused.Should().HaveCount(20, "a tenant waiting for its first token is never evicted to make room");
        refused.Should().AllBeOfType<TokenRequestException>().And.OnlyContain(e => ((TokenRequestException)e!).IsTransient);
        refused[0]!.Message.Should().Be("Token client 'test' holds its cap of 20 tenants (MaxTenants), each waiting for a token request under way: " +
            "a new tenant is not added until one of them is served. Try again shortly, or raise MaxTenants.");
        _logs.Lines.Should().ContainSingle(l => l.Id.Name == "TenantsFull", "logged when refusals begin, not once per refused caller");
        _logs.Lines.Should().NotContain(l => l.Id.Name == "TenantsEvicted");

        gate.SetResult();
        var served = await Task.WhenAll(calls.Where(c => !c.IsFaulted));
        served.Select(t => t.Value).Should().OnlyHaveUniqueItems().And.HaveCount(20);
        _services.TokenEndpoint.RequestCount.Should().Be(20, "each tenant served cost one request");

        // Served, the first 20 can give way: the refused ones come back, each for one request.
        for (var i = 20; i < 40; i++)
        {
            await Tenant($"t{i}").GetTokenAsync();
            Named.TenantCount.Should().BeLessThanOrEqualTo(20);
        }

        _services.TokenEndpoint.RequestCount.Should().Be(40);
    }

    [Fact]
    public async Task AtTheCap_AHandleTakenWhileFull_WorksOnceThereIsRoom()
    {
        var gate = HoldAnswers();
        var calls = Enumerable.Range(0, 20).Select(i => Tenant($"t{i}").GetTokenAsync().AsTask()).ToArray();
        var late = Tenant("late");
        (await late.Invoking(l => l.GetTokenAsync().AsTask()).Should().ThrowAsync<TokenRequestException>()).Which.IsTransient.Should().BeTrue();
        late.Invalidate(new AccessToken("never-served", "Bearer", DateTimeOffset.MaxValue)); // no entry: nothing to drop, nothing thrown

        gate.SetResult();
        await Task.WhenAll(calls);

        (await late.GetTokenAsync()).Value.Should().Be("token-21");
        Named.TenantCount.Should().BeLessThanOrEqualTo(20);
        Tenant("late").Should().BeOfType<TenantEntry>("it has an entry now");
    }

    [Theory]
    [InlineData(256, true)]
    [InlineData(257, false)]
    public async Task TenantName_LongerThan256Characters_IsRefusedByNameAndLimit(int length, bool accepted)
    {
        var name = new string('x', length);
        if (accepted)
        {
            await Tenant(name).GetTokenAsync();
            Named.TenantCount.Should().Be(1);
            new HttpRequestMessage().WithTokenTenant(name).Should().NotBeNull();
            return;
        }

        Factory.Invoking(f => f.GetClient(TestServices.ClientName, name)).Should().Throw<ArgumentException>()
            .WithMessage("A tenant name has at most 256 characters; this one has 257.*").Which.ParamName.Should().Be("tenant");
        new HttpRequestMessage().Invoking(r => r.WithTokenTenant(name)).Should().Throw<ArgumentException>()
            .WithMessage("A tenant name has at most 256 characters; this one has 257.*");
        Named.TenantCount.Should().Be(0);
    }

    [Fact]
    public async Task CapLoweredWhileEveryTenantWaitsForItsToken_IsAppliedAtOnce_AndEveryCallerStillEnds()
    {
        var gate = HoldAnswers();
        var calls = Enumerable.Range(0, 5).Select(i => Tenant($"t{i}").GetTokenAsync().AsTask()).ToArray();
        await TimeDriving.UntilAsync(() => _services.TokenEndpoint.RequestCount == 5, "the five requests reach the endpoint");

        _configuration["MaxTenants"] = "3"; // an operator's choice, not a flood: it binds even tenants that wait
        _configuration.Reload();

        Named.TenantCount.Should().BeLessThanOrEqualTo(3);
        gate.SetResult();
        await Task.WhenAll(calls.Select(c => c.ContinueWith(_ => { }, TaskScheduler.Default)));
        calls.Should().OnlyContain(c => c.IsCompletedSuccessfully || c.Exception!.InnerException is TokenRequestException,
            "each caller ends with a token, or a transient failure at the cap, never hangs");
        Named.TenantCount.Should().BeLessThanOrEqualTo(3);
    }

    [Fact]
    public async Task AtTheCap_ATenantTakenButNotYetAsked_IsNotEvictedBeforeItsFirstCall()
    {
        for (var i = 0; i < 19; i++)
        {
            await Tenant($"t{i}").GetTokenAsync();
        }

        var fresh = Tenant("fresh"); // an entry, used by nobody yet: the least used of all
        await Tenant("newcomer").GetTokenAsync();

        Named.Existing("fresh").Should().BeSameAs(fresh, "its first call is yet to come: evicting it now would waste it");
        Named.TenantCount.Should().BeLessThanOrEqualTo(20);
    }

    [Theory]
    [InlineData(1, true)]
    [InlineData(2, false)]
    public async Task AtTheCap_ATenantTakenButNotYetAsked_IsKeptThroughTheNextSweep_AndThenMayGo(int sweeps, bool kept)
    {
        var fresh = Tenant("fresh"); // an entry, used by nobody yet
        _time.Fake.Advance(TokenClientFactory.SweepInterval * sweeps);
        for (var i = 0; i < 19; i++)
        {
            await Tenant($"t{i}").GetTokenAsync();
        }

        await Tenant("newcomer").GetTokenAsync();

        (Named.Existing("fresh") is not null).Should().Be(kept, "a tenant's first call may come up to a sweep after it was taken");
        if (kept)
        {
            Named.Existing("fresh").Should().BeSameAs(fresh);
        }
    }

    [Fact]
    public async Task CapLoweredToExactlyTheTenantsHeld_EvictsNone()
    {
        for (var i = 0; i < 5; i++)
        {
            await Tenant($"t{i}").GetTokenAsync();
        }

        _configuration["MaxTenants"] = "5";
        _configuration.Reload();

        Named.TenantCount.Should().Be(5);
        _logs.Lines.Should().NotContain(l => l.Id.Name == "TenantsEvicted");
    }

    [Fact]
    public async Task AfterDisposal_ANewTenantIsRefused_AndNoEntryIsHeld()
    {
        await Tenant("acme").GetTokenAsync();
        var factory = Factory;
        var named = Named;

        _services.Dispose();

        named.TenantCount.Should().Be(0);
        factory.Invoking(f => f.GetClient(TestServices.ClientName, "newcomer")).Should().Throw<ObjectDisposedException>();
    }

    [Fact]
    public void UnknownClientName_ListsTheRegisteredOnesInOrder()
    {
        using var services = new TestServices(more: s => s.AddTokenClient("alpha", o =>
        {
            o.TokenEndpoint = TestServices.Endpoint;
            o.ClientId = "a";
            o.ClientSecret = "b";
        }));

        var act = () => services.Provider.GetRequiredService<ITokenClientFactory>().GetClient("missing");

        act.Should().Throw<InvalidOperationException>().WithMessage("No token client named 'missing' is registered;*Registered: 'alpha', 'test'.");
        new TokenClientRegistry([]).Describe().Should().Be("none");
    }

    [Fact]
    public void Build_OptionsTheValidatorWouldRefuse_FailsNamingTheProblem()
    {
        var unknown = () => ClientDefinition.Build("x", new TokenClientOptions { Provider = "Nope" }, _time, NullLogger.Instance);
        var noEndpoint = () => ClientDefinition.Build("x", new TokenClientOptions { Provider = "Generic" }, _time, NullLogger.Instance);

        unknown.Should().Throw<InvalidOperationException>().WithMessage("Token client 'x': Provider 'Nope' is not known.");
        noEndpoint.Should().Throw<InvalidOperationException>().WithMessage("Token client 'x': *TokenEndpoint*");
    }

    public void Dispose() => _services.Dispose();

    private ITokenClient Tenant(string tenant) => Factory.GetClient(TestServices.ClientName, tenant);

    // The endpoint answers "token-n" for an hour once the returned gate is opened, not before.
    private TaskCompletionSource HoldAnswers()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _services.TokenEndpoint.Respond = async n =>
        {
            await gate.Task;
            return FakeTokenEndpoint.Token($"token-{n}", 3600);
        };
        return gate;
    }
}
