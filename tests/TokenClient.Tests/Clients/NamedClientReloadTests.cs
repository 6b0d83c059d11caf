using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TokenClient.Clients;
using TokenClient.Tests.TestSupport;

namespace TokenClient.Tests.Clients;

/// <summary>A named client across configuration reloads: its entries replaced on a change of identity, kept otherwise, trimmed to a lowered cap.</summary>
public sealed class NamedClientReloadTests : IDisposable
{
    private readonly CountingTimeProvider _time = new();
    private readonly IConfigurationRoot _configuration;
    private readonly TestServices _services;

    public NamedClientReloadTests()
    {
        _configuration = TestServices.Settings(("Scope", "orders"), ("MaxTenants", "100"));
        _services = new TestServices(name: "t", configuration: _configuration, time: _time);
        Factory = _services.Provider.GetRequiredService<TokenClientFactory>();
    }

    private TokenClientFactory Factory { get; }

    private FakeTokenEndpoint TokenEndpoint => _services.TokenEndpoint;

    [Fact]
    public async Task ScopeChanged_EveryEntryOfTheOldIdentityIsReplaced_AndItsTimerDisposed()
    {
        var client = Factory.GetClient("t");
        await client.GetTokenAsync();
        for (var i = 0; i < 5; i++)
        {
            await Factory.GetClient("t", $"tenant-{i}").GetTokenAsync();
        }

        var timers = _time.LiveTimers; // the sweeper, and one renewal timer per cached token
        timers.Should().Be(1 + 6);

        _configuration["Scope"] = "orders invoices";
        _configuration.Reload();

        _time.LiveTimers.Should().Be(1, "the six entries of the old scope, and their timers, are gone");
        Factory.Named("t").TenantCount.Should().Be(0);
        (await client.GetTokenAsync()).Value.Should().Be("token-7");
        TokenEndpoint.Requests.Last().Fields.Should().Contain(new KeyValuePair<string, string>("scope", "orders invoices"));
    }

    [Fact]
    public async Task SecretChanged_CachedTokensKeepServing_AndTheNextRequestSendsTheNewSecret()
    {
        var client = Factory.GetClient("t");
        var token = await client.GetTokenAsync();

        _configuration["ClientSecret"] = "rotated";
        _configuration.Reload();

        (await client.GetTokenAsync()).Should().BeSameAs(token, "the identity is the same: no request storm");
        client.Invalidate(token);
        (await client.GetTokenAsync()).Value.Should().Be("token-2");
        TokenEndpoint.Requests.Last().Header("Authorization").Should().Be(TokenClient.Credentials.ClientSecretBasic.Header("id", "rotated").ToString());
    }

    [Fact]
    public async Task SecretChanged_ATenantTakenBefore_SendsTheNewSecretToo()
    {
        var tenant = Factory.GetClient("t", "acme");
        var token = await tenant.GetTokenAsync();

        _configuration["ClientSecret"] = "rotated";
        _configuration.Reload();
        tenant.Invalidate(token);
        await tenant.GetTokenAsync();

        TokenEndpoint.Requests.Last().Header("Authorization").Should().Be(TokenClient.Credentials.ClientSecretBasic.Header("id", "rotated").ToString());
    }

    [Fact]
    public async Task ScopeChanged_InvalidateThroughAHandleTakenBefore_ReachesTheNewEntry()
    {
        var tenant = Factory.GetClient("t", "acme");
        await tenant.GetTokenAsync();
        _configuration["Scope"] = "orders invoices";
        _configuration.Reload();
        var current = await tenant.GetTokenAsync();

        tenant.Invalidate(current);

        (await tenant.GetTokenAsync()).Should().NotBeSameAs(current, "the rejection reached the entry now serving the tenant");
    }

    [Theory]
    [InlineData("")]
    [InlineData(null)]
    public void GetClient_EmptyName_OrTenant_Throws(string? value)
    {
        Factory.Invoking(f => f.GetClient(value!)).Should().Throw<ArgumentException>();
        Factory.Invoking(f => f.GetClient("t", value!)).Should().Throw<ArgumentException>();
    }

    [Fact]
    public async Task MoreTenantsThanTheCap_LiveEntriesNeverExceedIt_AndTheRecentOnesStay()
    {
        var named = Factory.Named("t");
        for (var i = 0; i < 1000; i++)
        {
            await Factory.GetClient("t", $"tenant-{i}").GetTokenAsync();
            named.TenantCount.Should().BeLessThanOrEqualTo(100);
            if (i % 100 == 0)
            {
                _time.Fake.Advance(TokenClientFactory.SweepInterval); // sweeps age the entries
            }
        }

        var requests = TokenEndpoint.RequestCount;
        await Factory.GetClient("t", "tenant-999").GetTokenAsync();
        TokenEndpoint.RequestCount.Should().Be(requests, "the most recent tenant kept its entry");
        await Factory.GetClient("t", "tenant-0").GetTokenAsync();
        TokenEndpoint.RequestCount.Should().Be(requests + 1, "the least recent was released and gets a fresh token");
    }

    [Fact]
    public async Task IdleTenant_ReleasedAfterItsTokenExpired_BusyTenantKeepsItsEntry_AndTheReleasedOneComesBack()
    {
        var named = Factory.Named("t");
        var busy = Factory.GetClient("t", "busy");
        await busy.GetTokenAsync();
        await Factory.GetClient("t", "idle").GetTokenAsync();

        // An hour and a half, a minute at a time, the busy tenant calling every minute.
        for (var minute = 1; minute <= 90; minute++)
        {
            _time.Fake.Advance(TimeSpan.FromMinutes(1));
            await busy.GetTokenAsync();
            await busy.RenewalSettledAsync();
            if (minute == 30)
            {
                named.TenantCount.Should().Be(2, "idle for half an hour, but its token is still valid: it stays");
            }
        }

        named.TenantCount.Should().Be(1, "the idle tenant is released once past its token's expiry");
        TokenEndpoint.RequestCount.Should().Be(2 + 1, "the busy tenant renewed once, at 54 minutes, and was never released");

        (await Factory.GetClient("t", "idle").GetTokenAsync()).Value.Should().Be("token-4", "a released tenant gets a fresh token when it returns");
    }

    [Fact]
    public async Task AfterTheContainerIsDisposed_HandlesThrowObjectDisposed_AndNothingRecursesOrLeaks()
    {
        var client = Factory.GetClient("t");
        var tenant = Factory.GetClient("t", "acme");
        await client.GetTokenAsync();
        await tenant.GetTokenAsync();

        _services.Dispose();

        await client.Invoking(c => c.GetTokenAsync().AsTask()).Should().ThrowAsync<ObjectDisposedException>();
        await tenant.Invoking(c => c.GetTokenAsync().AsTask()).Should().ThrowAsync<ObjectDisposedException>();
        _time.LiveTimers.Should().Be(0, "the sweeper and every entry's timer are gone");
    }

    [Theory]
    [InlineData("Parameters:resource_hint", "billing")]
    [InlineData("Environment", "Production")]
    [InlineData("ClientId", "another-id")]
    public async Task WhatIsSentChanged_TheOldTokenIsNotServed(string key, string value)
    {
        var client = Factory.GetClient("t");
        (await client.GetTokenAsync()).Value.Should().Be("token-1");

        _configuration[key] = value;
        _configuration.Reload();

        (await client.GetTokenAsync()).Value.Should().Be("token-2");
    }

    [Fact]
    public async Task ReloadThatChangesNothing_KeepsEverything_AndLogsNothing()
    {
        var client = Factory.GetClient("t");
        var token = await client.GetTokenAsync();
        var timers = _time.LiveTimers;

        _configuration.Reload();

        (await client.GetTokenAsync()).Should().BeSameAs(token);
        _time.LiveTimers.Should().Be(timers);
        Factory.Named("t").Definition.Options.ClientSecret.Should().Be("secret");
    }

    [Fact]
    public async Task MaxTenantsLowered_TheEntriesAreTrimmedAtOnce()
    {
        for (var i = 0; i < 80; i++)
        {
            await Factory.GetClient("t", $"tenant-{i}").GetTokenAsync();
        }

        _configuration["MaxTenants"] = "50";
        _configuration.Reload();

        Factory.Named("t").TenantCount.Should().BeLessThanOrEqualTo(50);
    }

    [Fact]
    public async Task RefreshRatioChanged_TheNextTokenIsRenewedAtTheNewPoint()
    {
        var client = Factory.GetClient("t");
        var first = await client.GetTokenAsync();
        _configuration["RefreshRatio"] = "0.5";
        _configuration.Reload();
        client.Invalidate(first);
        await client.GetTokenAsync(); // token-2, an hour long, due at half of it

        _time.Fake.Advance(TimeSpan.FromMinutes(31));
        await client.GetTokenAsync();
        await client.RenewalSettledAsync();

        TokenEndpoint.RequestCount.Should().Be(3, "renewed at 50% of the lifetime, not 90%");
    }

    [Fact]
    public async Task FloodOfNewTenantsAtTheCap_ABusyTenantKeepsItsEntry()
    {
        var busy = Factory.GetClient("t", "busy");
        await busy.GetTokenAsync();
        _time.Fake.Advance(TokenClientFactory.SweepInterval);
        await busy.GetTokenAsync();

        for (var i = 0; i < 150; i++)
        {
            await Factory.GetClient("t", $"flood-{i}").GetTokenAsync();
        }

        var requests = TokenEndpoint.RequestCount;
        await Factory.GetClient("t", "busy").GetTokenAsync();
        TokenEndpoint.RequestCount.Should().Be(requests, "the flood's one-time names went first, not the tenant in use since before it");
    }

    [Fact]
    public async Task FloodOfNewTenantsAtTheCap_ABusyTenantYoungerThanAMinute_KeepsItsEntry()
    {
        // Right after a start, every tenant is as young as the flood's names: what sets it apart is how often it is used.
        var first = await Factory.GetClient("t", "busy").GetTokenAsync();
        for (var i = 0; i < 2000; i++)
        {
            await Factory.GetClient("t", $"flood-{i}").GetTokenAsync();
            (await Factory.GetClient("t", "busy").GetTokenAsync()).Should().BeSameAs(first, $"the busy tenant keeps its entry after {i + 1} one-time names");
        }

        TokenEndpoint.RequestCount.Should().Be(2001);
        Factory.Named("t").TenantCount.Should().BeLessThanOrEqualTo(100);
    }

    [Fact]
    public async Task IdentityChangesWhileACallerWaitsForItsFirstToken_TheCallerGetsATokenOfTheNewIdentity()
    {
        TokenEndpoint.RespondWith = async (n, ct) =>
        {
            if (n == 1)
            {
                await Task.Delay(Timeout.Infinite, ct); // answers only once cancelled
            }

            return FakeTokenEndpoint.Token($"token-{n}", 3600);
        };
        var waiting = Factory.GetClient("t", "acme").GetTokenAsync().AsTask();
        await TimeDriving.UntilAsync(() => TokenEndpoint.RequestCount == 1, "the first request to be held");

        _configuration["Scope"] = "orders invoices";
        _configuration.Reload();

        (await waiting).Value.Should().Be("token-2", "the retired entry's acquisition was cancelled, and its caller moved on to the new entry");
    }

    [Fact]
    public async Task ConfigureCallbackThrowsOnReload_ErrorLogged_LastDefinitionKeepsServing()
    {
        var logs = new CapturingLoggerProvider();
        var broken = false;
        await using var services = new TestServices(
            _ => { if (broken) { throw new FormatException("a callback of the application's"); } },
            name: "c", configuration: _configuration, time: _time, logs: logs);
        var client = services.Provider.GetRequiredKeyedService<ITokenClient>("c");
        await client.GetTokenAsync();

        broken = true;
        _configuration["ClientSecret"] = "rotated";
        var reload = () => _configuration.Reload();

        reload.Should().NotThrow();
        logs.Lines.Should().ContainSingle(l => l.Id.Id == 13).Which.Text.Should().Contain("a callback of the application's");
        (await client.GetTokenAsync()).Value.Should().Be("token-1");
    }

    [Fact]
    public async Task SettingChanged_WokeloRenewsWithTheRefreshTokenItHadBefore()
    {
        var configuration = TestServices.Settings(("Provider", "Wokelo"), ("Username", "sam@example.test"), ("Password", "pw"));
        await using var services = new TestServices(name: "w", configuration: configuration, time: _time);
        services.TokenEndpoint.Respond = n => Task.FromResult(FakeTokenEndpoint.Json(System.Net.HttpStatusCode.OK,
            $$"""{"access_token":"token-{{n}}","refresh_token":"refresh-{{n}}","token_type":"Bearer","expires_in":3600}"""));
        var client = services.Provider.GetRequiredKeyedService<ITokenClient>("w");
        var token = await client.GetTokenAsync();

        configuration["MaxRetries"] = "2";
        configuration.Reload();
        client.Invalidate(token);
        await client.GetTokenAsync();

        services.TokenEndpoint.Requests.Last().Fields.Should().Contain(new KeyValuePair<string, string>("refresh_token", "refresh-1"),
            "a change of settings keeps what the server issued");
    }

    public void Dispose() => _services.Dispose();
}
