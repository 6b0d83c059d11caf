using System.Net;
using FluentAssertions;
using Microsoft.Extensions.DependencyInjection;
using TokenClient.Tests.TestSupport;
using Xunit;

namespace TokenClient.Tests.Clients;

/// <summary>Per-call token parameters: what goes on the wire, one cache entry per set, and what a provider refuses.</summary>
public class TokenRequestParametersTests
{
    private static readonly TokenRequestParameters s_orders = new() { Scope = "orders.read" };

    [Fact]
    public async Task GetTokenAsync_WithScope_SendsItInPlaceOfTheConfiguredOne_AndCachesItApart()
    {
        using var services = new TestServices(o => o.Scope = "configured");

        var configured = await services.Client.GetTokenAsync();
        var orders = await services.Client.GetTokenAsync(s_orders);
        var again = await services.Client.GetTokenAsync(new TokenRequestParameters { Scope = "orders.read" });

        var requests = services.TokenEndpoint.Requests.ToArray();
        requests.Should().HaveCount(2, "a second instance with the same scope finds the first one's entry");
        requests[0].Fields.Should().ContainSingle(f => f.Key == "scope").Which.Value.Should().Be("configured");
        requests[1].Fields.Should().ContainSingle(f => f.Key == "scope").Which.Value.Should().Be("orders.read");
        orders.Value.Should().NotBe(configured.Value);
        again.Should().BeSameAs(orders);
        (await services.Client.GetTokenAsync()).Should().BeSameAs(configured, "the configured token keeps its own entry");
    }

    [Fact]
    public async Task GetTokenAsync_WithResources_SendsOneFieldEachInOrder_AndAnotherOrderIsAnotherToken()
    {
        using var services = new TestServices(o => o.Resource = "https://configured.test/");

        await services.Client.GetTokenAsync(new TokenRequestParameters { Resources = ["https://a.test/", "https://b.test/"] });
        await services.Client.GetTokenAsync(new TokenRequestParameters { Resources = ["https://b.test/", "https://a.test/"] });
        await services.Client.GetTokenAsync(new TokenRequestParameters { Resources = [] });

        var requests = services.TokenEndpoint.Requests.ToArray();
        requests.Should().HaveCount(3);
        Resources(requests[0]).Should().Equal("https://a.test/", "https://b.test/");
        Resources(requests[1]).Should().Equal("https://b.test/", "https://a.test/");
        Resources(requests[2]).Should().BeEmpty("an empty list asks for no resource, not the configured one");

        static IEnumerable<string> Resources(RecordedRequest request) => request.Fields.Where(f => f.Key == "resource").Select(f => f.Value);
    }

    [Fact]
    public async Task GetTokenAsync_WithParameters_AddsThem_AndOneOfTheConfiguredNameTakesItsPlace()
    {
        using var services = new TestServices(o =>
        {
            o.Parameters["tier"] = "standard";
            o.Parameters["region"] = "eu";
        });

        await services.Client.GetTokenAsync(new TokenRequestParameters { Parameters = new Dictionary<string, string> { ["tier"] = "gold", ["account"] = "42" } });

        var fields = services.TokenEndpoint.Requests.Single().Fields;
        fields.Where(f => f.Key == "tier").Should().ContainSingle().Which.Value.Should().Be("gold");
        fields.Should().Contain(new KeyValuePair<string, string>("region", "eu")).And.Contain(new KeyValuePair<string, string>("account", "42"));
    }

    [Theory]
    [InlineData("client_secret")]
    [InlineData("GRANT_TYPE")]
    [InlineData("scope")]
    public async Task GetTokenAsync_ParameterNamingAFieldTheLibrarySends_IsRefusedAtTheCall(string name)
    {
        using var services = new TestServices();

        var call = async () => await services.Client.GetTokenAsync(new TokenRequestParameters { Parameters = new Dictionary<string, string> { [name] = "x" } });

        (await call.Should().ThrowAsync<ArgumentException>()).Which.Message.Should().Contain($"'{name}'").And.Contain("Token client 'test'");
        services.TokenEndpoint.RequestCount.Should().Be(0);
        services.Named.TenantCount.Should().Be(0, "a refused key gets no entry");
    }

    [Theory]
    [InlineData("Scope")]
    [InlineData("Audience")]
    [InlineData("Resources")]
    public async Task GetTokenAsync_ParameterTheProviderCannotSend_IsRefusedNamingIt(string parameter)
    {
        using var services = new TestServices(o => o.Provider = "LoneWolf");
        var parameters = parameter switch
        {
            "Scope" => new TokenRequestParameters { Scope = "s" },
            "Audience" => new TokenRequestParameters { Audience = "https://other.test" },
            _ => new TokenRequestParameters { Resources = ["https://r.test/"] },
        };

        var call = async () => await services.Client.GetTokenAsync(parameters);

        (await call.Should().ThrowAsync<ArgumentException>()).Which.Message.Should().Contain($"TokenRequestParameters.{parameter} cannot be sent").And.Contain("'LoneWolf'");
        services.TokenEndpoint.RequestCount.Should().Be(0);
    }

    [Theory]
    [InlineData("relative/path", "Resources[1]")]
    [InlineData("https://r.test/#part", "Resources[1]")]
    public async Task GetTokenAsync_ResourceNotAnAbsoluteUriWithoutFragment_IsRefusedNamingItsIndex(string resource, string named)
    {
        using var services = new TestServices();

        var call = async () => await services.Client.GetTokenAsync(new TokenRequestParameters { Resources = ["https://ok.test/", resource] });

        (await call.Should().ThrowAsync<ArgumentException>()).Which.Message.Should().Contain(named).And.Contain("RFC 8707");
    }

    [Fact]
    public async Task GetTokenAsync_EmptyScope_IsRefusedSayingToLeaveItNull()
    {
        using var services = new TestServices();

        var call = async () => await services.Client.GetTokenAsync(new TokenRequestParameters { Scope = "" });

        (await call.Should().ThrowAsync<ArgumentException>()).Which.Message.Should().Contain("Scope is empty");
    }

    [Fact]
    public async Task GetTokenAsync_OnATenant_KeysByTenantAndParameters()
    {
        using var services = new TestServices(o =>
        {
            o.Provider = "Login3";
            o.Audience = "https://configured.test";
            o.Domain = "login.test";
            o.TokenEndpoint = TestServices.Endpoint;
        });
        var factory = services.Provider.GetRequiredService<ITokenClientFactory>();
        var other = new TokenRequestParameters { Audience = "https://other.test" };

        var a = await factory.GetClient(TestServices.ClientName, "acme").GetTokenAsync(other);
        var b = await factory.GetClient(TestServices.ClientName, "globex").GetTokenAsync(other);
        (await factory.GetClient(TestServices.ClientName, "acme").GetTokenAsync(other)).Should().BeSameAs(a);

        a.Value.Should().NotBe(b.Value);
        services.TokenEndpoint.Requests.Select(r => (Field(r, "organization"), Field(r, "audience")))
            .Should().Equal(("acme", "https://other.test"), ("globex", "https://other.test"));
    }

    [Fact]
    public async Task GetTokenAsync_SameParametersReused_AllocatesNothingOnAHit()
    {
        using var services = new TestServices();
        var client = services.Client;
        await client.GetTokenAsync(s_orders);
        await client.GetTokenAsync(s_orders); // the first hit warms the path

        var before = GC.GetAllocatedBytesForCurrentThread();
        var completed = 0;
        for (var i = 0; i < 1000; i++)
        {
            completed += client.GetTokenAsync(s_orders).IsCompletedSuccessfully ? 1 : 0;
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        completed.Should().Be(1000, "a hit completes at once");
        allocated.Should().Be(0);
    }

    [Fact]
    public async Task Parameters_AreCopiedWhenSet_SoChangingTheCallersCollectionsChangesNothing()
    {
        using var services = new TestServices();
        var resources = new List<string> { "https://a.test/" };
        var fields = new Dictionary<string, string> { ["k"] = "v" };
        var parameters = new TokenRequestParameters { Resources = resources, Parameters = fields };

        var first = await services.Client.GetTokenAsync(parameters);
        resources.Add("https://b.test/");
        fields["k"] = "changed";
        var second = await services.Client.GetTokenAsync(new TokenRequestParameters { Resources = ["https://a.test/"], Parameters = new Dictionary<string, string> { ["k"] = "v" } });

        second.Should().BeSameAs(first);
        parameters.Resources.Should().Equal("https://a.test/");
        parameters.Parameters!["k"].Should().Be("v");
    }

    [Fact]
    public void Equality_IsByContent_ResourcesInOrder_ParametersByName()
    {
        var a = new TokenRequestParameters { Scope = "s", Resources = ["https://a/", "https://b/"], Parameters = new Dictionary<string, string> { ["x"] = "1", ["y"] = "2" } };
        var b = new TokenRequestParameters { Scope = "s", Resources = ["https://a/", "https://b/"], Parameters = new Dictionary<string, string> { ["y"] = "2", ["x"] = "1" } };

        a.Should().Be(b);
        a.GetHashCode().Should().Be(b.GetHashCode());
        a.Should().NotBe(b with { Resources = ["https://b/", "https://a/"] });
        a.Should().NotBe(b with { Audience = "aud" });
        a.Should().NotBe(b with { ForceRenewal = true });
        a.Should().NotBe(b with { Parameters = new Dictionary<string, string> { ["x"] = "1", ["y"] = "3" } });
        (a with { Scope = "t" }).GetHashCode().Should().NotBe(a.GetHashCode(), "a copy hashes its own fields, not the original's cached hash");
    }

    [Fact]
    public void ToString_NamesTheParametersWithoutTheirValues()
    {
        var parameters = new TokenRequestParameters { Scope = "secret-scope", Resources = ["https://r/"], Audience = "aud-x", Parameters = new Dictionary<string, string> { ["acct"] = "v-123" }, ForceRenewal = true };

        var text = parameters.ToString();

        text.Should().Be("token request parameters: Scope; 1 Resources; Audience; Parameters acct; ForceRenewal");
        new TokenRequestParameters().ToString().Should().Be("token request parameters: none");
    }

    [Fact]
    public async Task ForeignImplementation_TakesParametersThatChangeNothing_AndRefusesOthers()
    {
        ITokenClient foreign = new FixedClient();

        (await foreign.GetTokenAsync(new TokenRequestParameters())).Value.Should().Be("fixed");
        var call = async () => await foreign.GetTokenAsync(s_orders);
        (await call.Should().ThrowAsync<NotSupportedException>()).Which.Message.Should().Contain(nameof(FixedClient));
    }

    private static string? Field(RecordedRequest request, string name) => request.Fields.FirstOrDefault(f => f.Key == name).Value;

    private sealed class FixedClient : ITokenClient
    {
        public ValueTask<AccessToken> GetTokenAsync(CancellationToken cancellationToken = default) => new(new AccessToken("fixed", "Bearer", DateTimeOffset.MaxValue));

        public void Invalidate(AccessToken rejected)
        {
        }
    }
}
