using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using TokenClient.Clients;
using TokenClient.Tests.TestSupport;

namespace TokenClient.Tests.Clients;

/// <summary>Entries that come and go: replaced on a change of identity, released when idle, bounded by a cap.</summary>
public sealed class TenantLifetimeTests : IDisposable
{
    private readonly CountingTimeProvider _time = new();
    private readonly FakeTokenEndpoint _endpoint;
    private readonly IConfigurationRoot _configuration;
    private readonly ServiceProvider _services;

    public TenantLifetimeTests()
    {
        _endpoint = new FakeTokenEndpoint(_time);
        _configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["TokenEndpoint"] = TestServices.Endpoint.ToString(),
            ["ClientId"] = "id",
            ["ClientSecret"] = "secret",
            ["Scope"] = "orders",
            ["MaxRetries"] = "0",
            ["MaxTenants"] = "100",
        }).Build();
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(_time);
        services.AddTokenClient("t", _configuration)
            .ConfigureTokenEndpointHttpClient(b => b.ConfigurePrimaryHttpMessageHandler(() => _endpoint.Handler));
        _services = services.BuildServiceProvider();
        Factory = _services.GetRequiredService<TokenClientFactory>();
    }

    private TokenClientFactory Factory { get; }

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
        _endpoint.Requests.Last().Fields.Should().Contain(new KeyValuePair<string, string>("scope", "orders invoices"));
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
        _endpoint.Requests.Last().Header("Authorization").Should().Be(TokenClient.Providers.GenericShaper.BasicCredentials("id", "rotated").ToString());
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

        var requests = _endpoint.RequestCount;
        await Factory.GetClient("t", "tenant-999").GetTokenAsync();
        _endpoint.RequestCount.Should().Be(requests, "the most recent tenant kept its entry");
        await Factory.GetClient("t", "tenant-0").GetTokenAsync();
        _endpoint.RequestCount.Should().Be(requests + 1, "the least recent was released and gets a fresh token");
    }

    [Fact]
    public async Task IdleTenant_ReleasedAfterItsTokenExpired_BusyTenantKeepsItsEntry_AndTheReleasedOneComesBack()
    {
        var named = Factory.Named("t");
        var busy = Factory.GetClient("t", "busy");
        await busy.GetTokenAsync();
        await Factory.GetClient("t", "idle").GetTokenAsync();

        // An hour and a half, a minute at a time, the busy tenant calling every minute.
        for (var minute = 0; minute < 90; minute++)
        {
            _time.Fake.Advance(TimeSpan.FromMinutes(1));
            await busy.GetTokenAsync();
            await busy.RenewalSettledAsync();
        }

        named.TenantCount.Should().Be(1, "the idle tenant is released once past its token's expiry");
        _endpoint.RequestCount.Should().Be(2 + 1, "the busy tenant renewed once, at 54 minutes, and was never released");

        (await Factory.GetClient("t", "idle").GetTokenAsync()).Value.Should().Be("token-4", "a released tenant gets a fresh token when it returns");
    }

    public void Dispose() => _services.Dispose();
}
