using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using TokenClient.Testing;

namespace TokenClient.Tests.Testing;

/// <summary>TokenClient.Testing's fake token endpoint: each provider's wire kept, blanks filled, tokens expired, revoked and refused.</summary>
public sealed class FakeTokenClientTests
{
    // An application's registration from configuration, without the secrets a test machine lacks.
    private static ServiceCollection Application(string provider, params (string Key, string Value)[] settings)
    {
        var values = settings.ToDictionary(s => $"TokenClients:app:{s.Key}", s => (string?)s.Value);
        values["TokenClients:app:Provider"] = provider;
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        var services = new ServiceCollection();
        services.AddTokenClients(configuration.GetSection("TokenClients"));
        return services;
    }

    [Theory]
    [InlineData("Generic", "https://fake-token-endpoint.test/app/token", "application/x-www-form-urlencoded", "grant_type", "client_credentials")]
    [InlineData("LoneWolf", "https://gateway.lwolf.com/oauth/token", "application/json", "audience", "https://api.lwolf.com")]
    [InlineData("Apimw", null, "application/json", "api_key", "app-id")]
    [InlineData("Login3", "https://login.example.test/oauth/token", "application/x-www-form-urlencoded", "audience", "https://fake-audience.test")]
    [InlineData("Wokelo", null, "multipart/form-data", "username", "fake-user@example.test")]
    public async Task AnApplicationsClient_KeepsItsProvidersWire_AndGetsATokenWithoutTheNetwork(string provider, string? endpoint, string contentType, string field, string value)
    {
        var services = provider == "Login3" ? Application(provider, ("ClientId", "app-id"), ("Domain", "login.example.test")) : Application(provider, ("ClientId", "app-id"));

        var tokens = services.AddFakeTokenClient("app");
        await using var container = services.BuildServiceProvider();
        container.GetRequiredService<IStartupValidator>().Validate(); // the blanks (secret, audience, user) are filled

        var token = await container.GetRequiredKeyedService<ITokenClient>("app").GetTokenAsync();

        tokens.IssuedTokens.Should().Equal(token.Value);
        tokens.IsValid(token.Value).Should().BeTrue();
        var request = tokens.Requests.Should().ContainSingle().Subject;
        request.ContentType.Should().Be(contentType);
        request.Field(field).Should().Be(value);
        request.ClientId.Should().Be("app-id");
        request.ClientSecret.Should().Be("fake-client-secret");
        if (endpoint is not null)
        {
            request.Uri.Should().Be(new Uri(endpoint), "the provider's own endpoint, answered in memory");
        }

        container.GetRequiredKeyedService<FakeTokenEndpoint>("app").Should().BeSameAs(tokens);
    }

    [Fact]
    public async Task Apimw_IsAnsweredInItsEnvelope_AndRefusedInIt()
    {
        var services = Application("Apimw", ("ClientId", "k"), ("ClientSecret", "the-apps-real-secret"), ("MaxRetries", "0"));
        var tokens = services.AddFakeTokenClient("app");
        await using var container = services.BuildServiceProvider();
        var client = container.GetRequiredKeyedService<ITokenClient>("app");

        (await client.GetTokenAsync()).Value.Should().Be(tokens.IssuedTokens.Single());
        tokens.Fail(error: "INVALID_CREDENTIALS", description: "Invalid API Key or Secret");
        tokens.Expire();

        var failure = (await client.Invoking(c => c.GetTokenAsync().AsTask()).Should().ThrowAsync<TokenRequestException>()).Which;
        failure.Error.Should().Be("INVALID_CREDENTIALS", "the code read from APIMW's envelope");
        tokens.Requests.Select(r => r.ClientSecret).Should().Equal(["fake-client-secret", "fake-client-secret"], "the application's secret never reaches the fake");
    }

    [Fact]
    public async Task AClientNotRegistered_IsRegisteredAsGeneric_WithTheTestsOptionsAppliedLast()
    {
        var services = new ServiceCollection();
        var tokens = services.AddFakeTokenClient("reports", o => o.Scope = "reports.read");
        await using var container = services.BuildServiceProvider();
        container.GetRequiredService<IStartupValidator>().Validate();

        await container.GetRequiredService<ITokenClientFactory>().GetClient("reports").GetTokenAsync();

        var request = tokens.Requests.Single();
        request.Uri.Should().Be(new Uri("https://fake-token-endpoint.test/reports/token"));
        request.Field("scope").Should().Be("reports.read");
        request.GrantType.Should().Be("client_credentials");
        request.Headers["Authorization"].Should().StartWith("Basic ");
        (request.ClientId, request.ClientSecret).Should().Be(("fake-client-id", "fake-client-secret"));
        container.GetRequiredService<IOptionsMonitor<TokenClientOptions>>().Get("reports").FailureCooldown.Should().Be(TimeSpan.Zero);
    }

    [Fact]
    public async Task Expire_DropsEveryTenantsToken_AndRevokeOnlyTellsTheApi()
    {
        var services = new ServiceCollection();
        var tokens = services.AddFakeTokenClient("crm");
        await using var container = services.BuildServiceProvider();
        var factory = container.GetRequiredService<ITokenClientFactory>();
        var own = await factory.GetClient("crm").GetTokenAsync();
        var tenant = await factory.GetClient("crm", "tenant-a").GetTokenAsync();

        tokens.Revoke();
        (await factory.GetClient("crm").GetTokenAsync()).Should().BeSameAs(own, "the client learns of a revocation from the API");
        tokens.IsValid(own.Value).Should().BeFalse();

        tokens.Expire();
        var ownAfter = await factory.GetClient("crm").GetTokenAsync();
        var tenantAfter = await factory.GetClient("crm", "tenant-a").GetTokenAsync();

        ownAfter.Value.Should().NotBe(own.Value);
        tenantAfter.Value.Should().NotBe(tenant.Value);
        tokens.RequestCount.Should().Be(4);
        tokens.IsValid(ownAfter.Value).Should().BeTrue();
        tokens.IsValid(tenant.Value).Should().BeFalse();
    }

    [Fact]
    public async Task Fail_ATransientStatus_IsRetriedPerMaxRetries_ThenRecoverIssuesAgain()
    {
        var services = new ServiceCollection();
        var tokens = services.AddFakeTokenClient("crm", o =>
        {
            o.MaxRetries = 1;
            o.RetryDelay = TimeSpan.Zero;
        });
        await using var container = services.BuildServiceProvider();
        var client = container.GetRequiredKeyedService<ITokenClient>("crm");
        tokens.Fail(HttpStatusCode.ServiceUnavailable, "temporarily_unavailable");

        var failure = (await client.Invoking(c => c.GetTokenAsync().AsTask()).Should().ThrowAsync<TokenRequestException>()).Which;
        failure.IsTransient.Should().BeTrue();
        tokens.RequestCount.Should().Be(2, "one retry");

        tokens.Recover();
        tokens.Lifetime = TimeSpan.FromMinutes(5);
        var token = await client.GetTokenAsync();
        tokens.IssuedTokens.Should().Equal(token.Value);
        (token.ExpiresAt - DateTimeOffset.UtcNow).Should().BeCloseTo(TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(1));
    }

    [Fact]
    public async Task AnApplicationThatShares_IsFakedWithoutTheSharedCache_AndWithoutItsSecrets()
    {
        var services = Application("Wokelo", ("ClientId", "app-id"), ("ClientSecret", "real-secret"), ("Username", "sam@example.test"), ("Password", "real-password"), ("SharedCache", "true"));
        services.AddDistributedMemoryCache();
        services.AddDataProtection();
        var tokens = services.AddFakeTokenClient("app");
        await using var container = services.BuildServiceProvider();

        await container.GetRequiredKeyedService<ITokenClient>("app").GetTokenAsync();

        container.GetRequiredService<TokenClient.Clients.TokenClientFactory>().Named("app").Entry(null).Shared.Should().BeNull("no token from, or to, another process");
        var request = tokens.Requests.Single();
        (request.Field("username"), request.Field("password"), request.ClientSecret).Should().Be(("sam@example.test", "fake-password", "fake-client-secret"));
        string.Join(" ", request.Fields.Values.Concat(request.Headers.Values)).Should().NotContain("real-");
    }

    [Theory]
    [InlineData("application/json", "{not json")]
    [InlineData("application/json", "[1,2]")]
    [InlineData("application/x-www-form-urlencoded", "")]
    public async Task ABodyWithNoFields_IsRecordedAndRefusedAsInvalidRequest_NotThrown(string mediaType, string body)
    {
        var services = new ServiceCollection();
        var tokens = services.AddFakeTokenClient("crm");
        await using var container = services.BuildServiceProvider();
        var http = container.GetRequiredService<IHttpClientFactory>().CreateClient(TokenClient.Clients.ClientDefinition.HttpClientNameOf("crm"));

        using var answer = await http.PostAsync(new Uri("https://fake-token-endpoint.test/crm/token"), new StringContent(body, System.Text.Encoding.UTF8, mediaType));

        answer.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await answer.Content.ReadAsStringAsync()).Should().Contain("\"invalid_request\"");
        tokens.Requests.Should().ContainSingle().Which.Fields.Should().BeEmpty();
        tokens.IssuedTokens.Should().BeEmpty();
    }

    [Fact]
    public async Task Expire_WhileAnAcquisitionIsUnderWay_DropsTheTokenItPublishes()
    {
        var services = new ServiceCollection();
        var tokens = services.AddFakeTokenClient("crm");
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        services.AddHttpClient(TokenClient.Clients.ClientDefinition.HttpClientNameOf("crm")).AddHttpMessageHandler(() => new Gate(arrived, gate.Task));
        await using var container = services.BuildServiceProvider();
        var client = container.GetRequiredKeyedService<ITokenClient>("crm");

        var pending = client.GetTokenAsync().AsTask();
        await arrived.Task; // the acquisition is under way, held before the endpoint
        var acquisition = container.GetRequiredService<TokenClient.Clients.TokenClientFactory>().Named("crm").Cache.PendingAcquisition!;
        tokens.Expire();
        gate.SetResult();
        await acquisition; // awaited after Expire: its continuation has run by then
        var first = await pending;

        var next = await client.GetTokenAsync();

        next.Value.Should().NotBe(first.Value, "the token published after Expire was dropped");
        tokens.RequestCount.Should().Be(2);
    }

    private sealed class Gate(TaskCompletionSource arrived, Task open) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            arrived.TrySetResult();
            await open;
            return await base.SendAsync(request, cancellationToken);
        }
    }

    [Fact]
    public void AddFakeTokenClient_BadArguments_SayWhich()
    {
        var services = new ServiceCollection();

        services.Invoking(s => s.AddFakeTokenClient("")).Should().Throw<ArgumentException>().WithParameterName("name");
        var noServices = () => FakeTokenClientServiceCollectionExtensions.AddFakeTokenClient(null!, "x");
        noServices.Should().Throw<ArgumentNullException>().WithParameterName("services");
    }
}
