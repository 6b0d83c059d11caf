using Microsoft.Extensions.DependencyInjection;
using TokenClient.Tests.TestSupport;

namespace TokenClient.Tests.Clients;

/// <summary>
/// Many callers with different parameters and tenants at once: one request per key, and each caller the token issued
/// for its own key (the kind of bug in which concurrent callers with different parameters got another's token).
/// </summary>
public class ParameterConcurrencyTests
{
    [Fact]
    public async Task ThousandCallers_OverMixedAudiencesAndTenants_OneRequestPerKey_EachGetsItsOwnToken()
    {
        using var services = new TestServices(o =>
        {
            o.Provider = "Login3";
            o.Domain = "login.test";
            o.Audience = "https://configured.test";
            o.TokenEndpoint = TestServices.Endpoint;
        });
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        services.TokenEndpoint.RespondTo = async (request, _) =>
        {
            await release.Task;
            return FakeTokenEndpoint.Token($"for.{Field(request, "organization")}.{Field(request, "audience")![8..]}", 3600); // past "https://"
        };
        var factory = services.Provider.GetRequiredService<ITokenClientFactory>();
        string[] tenants = ["acme", "globex", "initech", "umbrella", "hooli"];
        TokenRequestParameters[] audiences = [.. Enumerable.Range(0, 4).Select(i => new TokenRequestParameters { Audience = $"https://api-{i}.test" })];

        var calls = new Task<AccessToken>[1000];
        Parallel.For(0, calls.Length, i =>
        {
            // A new instance per caller: keys are compared by content, not by reference.
            var parameters = audiences[i % audiences.Length] with { };
            calls[i] = factory.GetClient(TestServices.ClientName, tenants[i / audiences.Length % tenants.Length]).GetTokenAsync(parameters).AsTask();
        });
        release.SetResult();
        var tokens = await Task.WhenAll(calls);

        for (var i = 0; i < calls.Length; i++)
        {
            tokens[i].Value.Should().Be($"for.{tenants[i / audiences.Length % tenants.Length]}.api-{i % audiences.Length}.test", "caller {0} gets the token of its own tenant and audience", i);
        }

        services.TokenEndpoint.RequestCount.Should().Be(tenants.Length * audiences.Length, "one request per key");
        services.Named.TenantCount.Should().Be(tenants.Length * (audiences.Length + 1), "an entry per key, and one per tenant handle taken");
    }

    [Fact]
    public async Task FiftyThousandDistinctScopes_KeepTheEntriesUnderTheCap()
    {
        using var services = new TestServices(o => o.MaxTenants = 100);

        for (var i = 0; i < 50_000; i++)
        {
            await services.Client.GetTokenAsync(new TokenRequestParameters { Scope = $"scope-{i}" });
            services.Named.TenantCount.Should().BeLessThanOrEqualTo(100);
        }

        services.TokenEndpoint.RequestCount.Should().Be(50_000);
        (await services.Client.GetTokenAsync(new TokenRequestParameters { Scope = "scope-49999" })).Value.Should().Be("token-50000", "the most recent entries stay");
    }

    private static string? Field(RecordedRequest request, string name) => request.Fields.FirstOrDefault(f => f.Key == name).Value;
}
