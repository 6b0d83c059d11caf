using Microsoft.Extensions.DependencyInjection;
using TokenClient.Clients;
using TokenClient.Tests.TestSupport;

namespace TokenClient.Tests.Clients;

/// <summary>The heap is the process's: this runs alone, after the tests that run in parallel.</summary>
[CollectionDefinition(nameof(MemoryCollection), DisableParallelization = true)]
public sealed class MemoryCollection;

/// <summary>
/// Memory is bounded by the tenants in use, not by every tenant ever seen. Measured with GC.GetTotalMemory, which
/// the other tests' allocations disturb: the category runs on its own, outside the default run (test.runsettings),
/// as .ci/run does: <c>dotnet test tests/TokenClient.Tests -c Release --settings tests/TokenClient.Tests/memory.runsettings</c>.
/// </summary>
[Collection(nameof(MemoryCollection))]
[Trait("Category", "Memory")]
public sealed class TenantMemoryTests
{
    [Fact]
    public async Task TwentyThousandTenants_IdlePastExpiry_MostOfTheirMemoryIsReleased()
    {
        const int Tenants = 20_000;
        using var services = new TestServices(o => o.MaxTenants = 30_000);
        var factory = services.Provider.GetRequiredService<TokenClientFactory>();
        var busy = factory.GetClient(TestServices.ClientName, "busy");
        await busy.GetTokenAsync();
        var before = GC.GetTotalMemory(forceFullCollection: true);

        for (var i = 0; i < Tenants; i++)
        {
            await factory.GetClient(TestServices.ClientName, $"tenant-{i}").GetTokenAsync();
        }

        // The fake endpoint's own record of the requests is not the client's memory.
        services.TokenEndpoint.Requests.Clear();
        services.TokenEndpoint.RequestTimes.Clear();
        var held = GC.GetTotalMemory(forceFullCollection: true) - before;
        var requests = services.TokenEndpoint.RequestCount;

        // Past the tokens' hour, a minute at a time, one tenant busy all along.
        for (var minute = 0; minute < 62; minute++)
        {
            services.Time.Advance(TokenClientFactory.SweepInterval);
            await busy.GetTokenAsync();
            await busy.RenewalSettledAsync();
        }

        services.TokenEndpoint.Requests.Clear();
        services.TokenEndpoint.RequestTimes.Clear();
        var left = GC.GetTotalMemory(forceFullCollection: true) - before;
        factory.Named(TestServices.ClientName).TenantCount.Should().Be(1, "only the busy tenant is left");
        ((double)(held - left) / held).Should().BeGreaterThanOrEqualTo(0.8, $"{held / 1024} KiB ({held / Tenants} B a tenant) were held by the tenants and {left / 1024} KiB are left");
        services.TokenEndpoint.RequestCount.Should().Be(requests + 1, "the busy tenant renewed once, at 54 minutes, and never lost its entry");

        (await factory.GetClient(TestServices.ClientName, "tenant-7").GetTokenAsync()).Value.Should().Be($"token-{requests + 2}", "a released tenant gets a fresh token");
    }
}
