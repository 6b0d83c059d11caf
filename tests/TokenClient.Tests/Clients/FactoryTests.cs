using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using TokenClient.Caching;
using TokenClient.Clients;
using TokenClient.Tests.TestSupport;

namespace TokenClient.Tests.Clients;

/// <summary>The factory's own duties: the sweep and what it reports, its subscriptions, the timers it creates.</summary>
public class FactoryTests
{
    private static readonly AsyncLocal<string?> Ambient = new();

    [Fact]
    public async Task Sweep_ReportsTheTenantsItReleased_AndSaysNothingWhenItReleasedNone()
    {
        var logs = new CapturingLoggerProvider();
        using var services = new TestServices(logs: logs);
        var factory = services.Provider.GetRequiredService<TokenClientFactory>();
        await factory.GetClient(TestServices.ClientName, "acme").GetTokenAsync();
        await factory.GetClient(TestServices.ClientName, "globex").GetTokenAsync();

        factory.Sweep(); // both were used since the last sweep
        Released(logs).Should().BeEmpty();

        services.Time.Advance(TimeSpan.FromHours(2)); // the tokens expired, and nobody called
        factory.Sweep();

        Released(logs).Should().ContainSingle().Which.Should().Be("Token client 'test' released 2 idle tenants; 0 remain");
    }

    [Fact]
    public async Task AfterDisposal_AConfigurationChangeReachesNothing()
    {
        var logs = new CapturingLoggerProvider();
        var configuration = TestServices.Settings();
        var services = new TestServices(configuration: configuration, logs: logs);
        await services.Client.GetTokenAsync();
        configuration["Scope"] = "orders";
        configuration.Reload();
        logs.Lines.Should().ContainSingle(l => l.Id.Name == "ConfigurationApplied", "a live factory applies the change");

        services.Dispose();
        configuration["Scope"] = "invoices";
        configuration.Reload();

        logs.Lines.Should().ContainSingle(l => l.Id.Name == "ConfigurationApplied", "the disposed factory no longer listens");
    }

    [Fact]
    public async Task ReloadWithTwoProblems_IsRejectedNamingBoth()
    {
        var logs = new CapturingLoggerProvider();
        var configuration = TestServices.Settings();
        using var services = new TestServices(configuration: configuration, logs: logs);
        await services.Client.GetTokenAsync();

        configuration["RefreshRatio"] = "2";
        configuration["MaxRetries"] = "-1";
        configuration.Reload();

        logs.Lines.Should().ContainSingle(l => l.Id.Name == "ConfigurationRejected").Which.Text.Should()
            .Contain("not 2. Token client 'test': MaxRetries must be from 0 to 100, not -1.", "each problem, one after the other");
    }

    [Fact]
    public async Task DetachedTimer_DoesNotCarryTheCreatorsExecutionContext_AndLeavesItsFlowAsItWas()
    {
        Ambient.Value = "the creator's request";
        var seen = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);

        using (TimeProvider.System.CreateDetachedTimer(_ => seen.TrySetResult(Ambient.Value), null, TimeSpan.Zero, Timeout.InfiniteTimeSpan))
        {
            (await seen.Task).Should().BeNull("the timer runs with no execution context of its creator");
        }

        ExecutionContext.IsFlowSuppressed().Should().BeFalse("the flow is restored");
        (await Task.Run(() => Ambient.Value)).Should().Be("the creator's request");
    }

    [Fact]
    public void DetachedTimer_CreatedWhileTheFlowIsAlreadySuppressed_LeavesItSuppressed()
    {
        using (ExecutionContext.SuppressFlow())
        {
            using var timer = TimeProvider.System.CreateDetachedTimer(_ => { }, null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);

            ExecutionContext.IsFlowSuppressed().Should().BeTrue("the caller's suppression is the caller's to undo");
        }
    }

    private static IEnumerable<string> Released(CapturingLoggerProvider logs) =>
        logs.Lines.Where(l => l.Id.Name == "TenantsReleased").Select(l => l.Text.Trim());

    [Fact]
    public async Task TheOptionsValidatedForAClient_AreTheOnesItIsBuiltFrom_NotBuiltASecondTime()
    {
        var built = 0;
        using var services = new TestServices(_ => Interlocked.Increment(ref built));

        await services.Client.GetTokenAsync();

        built.Should().Be(1, "the registry's validation builds the options, and the client is built from them");
    }

    [Fact]
    public async Task AChangeAfterValidation_IsWhatTheClientIsBuiltFrom()
    {
        var configuration = TestServices.Settings();
        using var services = new TestServices(configuration: configuration);
        var factory = services.Provider.GetRequiredService<ITokenClientFactory>(); // the registry validated, the client not built yet

        configuration["Scope"] = "changed-before-first-use";
        configuration.Reload();
        await factory.GetClient(TestServices.ClientName).GetTokenAsync();

        services.TokenEndpoint.Requests.Single().Fields.Should().Contain(new KeyValuePair<string, string>("scope", "changed-before-first-use"));
    }

    [Fact]
    public async Task UnderAHost_StartUpValidation_BuildsTheOptionsTheClientIsBuiltFrom()
    {
        var built = 0;
        var endpoint = new FakeTokenEndpoint();
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        AddClient(builder.Services, endpoint, _ => Interlocked.Increment(ref built));
        using var host = builder.Build();

        await host.StartAsync();
        built.Should().Be(1, "start-up validation builds the options");
        await host.Services.GetRequiredKeyedService<ITokenClient>("api").GetTokenAsync();
        await host.StopAsync();

        built.Should().Be(1, "the client is built from the options start-up validation built, not from a second build");
    }

    [Fact]
    public async Task TwoContainersOfOneServiceCollection_EachBuildItsClientFromTheOptionsItValidated()
    {
        var built = 0;
        var endpoint = new FakeTokenEndpoint();
        var services = new ServiceCollection();
        AddClient(services, endpoint, o => o.Scope = $"scope-{Interlocked.Increment(ref built)}");
        using var first = services.BuildServiceProvider();
        using var second = services.BuildServiceProvider();
        var firstFactory = first.GetRequiredService<ITokenClientFactory>(); // validates, building scope-1
        var secondFactory = second.GetRequiredService<ITokenClientFactory>(); // validates, building scope-2

        await firstFactory.GetClient("api").GetTokenAsync();
        await secondFactory.GetClient("api").GetTokenAsync();

        endpoint.Requests.Select(r => r.Fields.Single(f => f.Key == "scope").Value).Should().Equal("scope-1", "scope-2");
        built.Should().Be(2);
    }

    [Fact]
    public void AContainer_ReadsTheRegistrationsMadeBeforeItWasBuilt_NotThoseOfACopyOrOfLater()
    {
        var endpoint = new FakeTokenEndpoint();
        var services = new ServiceCollection();
        AddClient(services, endpoint, _ => { });
        using var before = services.BuildServiceProvider();
        IServiceCollection copy = new ServiceCollection();
        foreach (var descriptor in services)
        {
            copy.Add(descriptor);
        }

        AddClient(copy, endpoint, _ => { }); // "api" a second time, in the copy only
        services.AddTokenClient("later", o => (o.TokenEndpoint, o.ClientId, o.ClientSecret) = (TestServices.Endpoint, "id", "secret"));

        var factory = before.GetRequiredService<ITokenClientFactory>(); // neither the copy's "api" nor "later" is its problem
        factory.Invoking(f => f.GetClient("later")).Should().Throw<InvalidOperationException>()
            .WithMessage("No token client named 'later' is registered; *. Registered: 'api'.");
        using var copied = copy.BuildServiceProvider();
        copied.Invoking(c => c.GetRequiredService<ITokenClientFactory>()).Should().Throw<OptionsValidationException>()
            .WithMessage("Token client 'api' is registered 2 times*");
        using var after = services.BuildServiceProvider();
        after.GetRequiredService<ITokenClientFactory>().GetClient("later").Should().NotBeNull();
    }

    [Fact]
    public async Task AChangeWhileTheFactoryValidates_IsWhatTheClientIsBuiltFrom()
    {
        var configuration = TestServices.Settings(("Scope", "before"));
        var changed = 0;
        using var services = new TestServices(configuration: configuration, configure: _ =>
        {
            if (Interlocked.Increment(ref changed) == 1)
            {
                configuration["Scope"] = "changed-during-validation"; // the options being validated were bound before it
                configuration.Reload();
            }
        });

        await services.Client.GetTokenAsync();

        services.TokenEndpoint.Requests.Single().Fields.Should().Contain(new KeyValuePair<string, string>("scope", "changed-during-validation"));
    }

    [Fact]
    public void AFactoryThatFailsValidation_LeavesNoSubscriptionToConfigurationChanges()
    {
        var source = new CountingChangeSource("api");
        var services = new ServiceCollection();
        services.AddTokenClient("api", o => (o.TokenEndpoint, o.ClientSecret) = (TestServices.Endpoint, "secret")); // no ClientId
        services.AddSingleton<IOptionsChangeTokenSource<TokenClientOptions>>(source);
        using var provider = services.BuildServiceProvider();

        var act = () => provider.GetRequiredService<ITokenClientFactory>();

        act.Should().Throw<OptionsValidationException>().WithMessage("Token client 'api': ClientId is required.");
        source.Subscribed.Should().Be(1, "the factory watched the source before it validated");
        source.Live.Should().Be(0, "the factory that failed no longer watches it");
    }

    private static void AddClient(IServiceCollection services, FakeTokenEndpoint endpoint, Action<TokenClientOptions> configure) =>
        services.AddTokenClient("api", o =>
            {
                (o.TokenEndpoint, o.ClientId, o.ClientSecret, o.MaxRetries) = (TestServices.Endpoint, "id", "secret", 0);
                configure(o);
            })
            .ConfigureTokenEndpointHttpClient(b => b.ConfigurePrimaryHttpMessageHandler(() => endpoint.Handler));

    private sealed class CountingChangeSource(string name) : IOptionsChangeTokenSource<TokenClientOptions>, IChangeToken
    {
        private int _live;
        private int _subscribed;

        public int Live => Volatile.Read(ref _live);

        public int Subscribed => Volatile.Read(ref _subscribed);

        public string Name => name;

        public bool HasChanged => false;

        public bool ActiveChangeCallbacks => true;

        public IChangeToken GetChangeToken() => this;

        public IDisposable RegisterChangeCallback(Action<object?> callback, object? state)
        {
            Interlocked.Increment(ref _subscribed);
            Interlocked.Increment(ref _live);
            return new Registration(this);
        }

        private sealed class Registration(CountingChangeSource source) : IDisposable
        {
            private int _disposed;

            public void Dispose()
            {
                if (Interlocked.Exchange(ref _disposed, 1) == 0)
                {
                    Interlocked.Decrement(ref source._live);
                }
            }
        }
    }
}
