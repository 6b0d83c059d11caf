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
    [InlineData("Wll", "https://auth.wlloyalty.net/oauth/token", "application/json", "client_id", "app-id")]
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
        failure.Message.Should().Contain("Invalid API Key or Secret");
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

        container.GetRequiredService<TokenClient.Clients.TokenClientFactory>().Named("app").Existing(null)!.Shared.Should().BeNull("no token from, or to, another process");
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
        var http = container.GetRequiredService<IHttpClientFactory>().CreateClient(TokenClient.Endpoint.TokenEndpointTransport.HttpClientNameOf("crm"));

        using var answer = await http.PostAsync(new Uri("https://fake-token-endpoint.test/crm/token"), new StringContent(body, System.Text.Encoding.UTF8, mediaType));

        answer.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await answer.Content.ReadAsStringAsync()).Should().Contain("\"invalid_request\"").And.Contain("found no fields");
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
        services.AddHttpClient(TokenClient.Endpoint.TokenEndpointTransport.HttpClientNameOf("crm")).AddHttpMessageHandler(() => new Gate(arrived, gate.Task));
        await using var container = services.BuildServiceProvider();
        var client = container.GetRequiredKeyedService<ITokenClient>("crm");

        var pending = client.GetTokenAsync().AsTask();
        await arrived.Task; // the acquisition is under way, held before the endpoint
        var cache = container.GetRequiredService<TokenClient.Clients.TokenClientFactory>().Named("crm").Cache;
        tokens.Expire();
        gate.SetResult();
        var first = await pending;

        // The token is dropped once published, by a continuation that may run just after this test's own: wait for it.
        for (var look = 0; look < 500 && cache.Held is not null; look++)
        {
            await Task.Delay(10);
        }

        cache.Held.Should().BeNull("Expire drops the token the acquisition under way published");

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
    public async Task AnotherClientRegistered_DoesNotStopTheFakeFromRegisteringItsOwn()
    {
        var services = Application("Generic", ("TokenEndpoint", "https://login.example.test/token"), ("ClientId", "id"), ("ClientSecret", "s"));
        services.AddKeyedSingleton<object>("billing", new object()); // a keyed service of the same name, not a token client
        var tokens = services.AddFakeTokenClient("billing");
        await using var container = services.BuildServiceProvider();
        container.GetRequiredService<IStartupValidator>().Validate();

        await container.GetRequiredKeyedService<ITokenClient>("billing").GetTokenAsync();

        tokens.RequestCount.Should().Be(1);
        tokens.Requests.Single().Uri.Should().Be(new Uri("https://fake-token-endpoint.test/billing/token"));
    }

    [Fact]
    public async Task AnApplicationThatSignsAssertions_WithAKeyTheTestMachineLacks_SendsTheMadeUpSecret()
    {
        var services = Application("Generic", ("TokenEndpoint", "https://login.example.test/token"), ("ClientId", "id"), ("ClientAuthentication", "PrivateKeyJwt"));
        var tokens = services.AddFakeTokenClient("app");
        await using var container = services.BuildServiceProvider();
        container.GetRequiredService<IStartupValidator>().Validate();

        await container.GetRequiredKeyedService<ITokenClient>("app").GetTokenAsync();

        tokens.Requests.Single().ClientSecret.Should().Be("fake-client-secret");
    }

    [Fact]
    public async Task Login3sAudience_WhenTheApplicationGivesOne_IsKept()
    {
        var services = Application("Login3", ("ClientId", "id"), ("Domain", "login.example.test"), ("Audience", "https://orders.example.test"));
        var tokens = services.AddFakeTokenClient("app");
        await using var container = services.BuildServiceProvider();

        await container.GetRequiredKeyedService<ITokenClient>("app").GetTokenAsync();

        tokens.Requests.Single().Field("audience").Should().Be("https://orders.example.test");
    }

    [Fact]
    public async Task Expire_AloneAlsoRevokes()
    {
        var services = new ServiceCollection();
        var tokens = services.AddFakeTokenClient("crm");
        await using var container = services.BuildServiceProvider();
        var token = await container.GetRequiredKeyedService<ITokenClient>("crm").GetTokenAsync();

        tokens.Expire();

        tokens.IsValid(token.Value).Should().BeFalse();
        tokens.IsValid(null).Should().BeFalse();
    }

    [Theory]
    [InlineData(null, """{"error":"invalid_client"}""")]
    [InlineData("Try again.", """{"error":"invalid_client","error_description":"Try again."}""")]
    public async Task Fail_AnswersRfc6749sErrorBody_WithTheDescriptionOnlyWhenGiven(string? description, string expected)
    {
        await using var raw = new Raw();
        var (tokens, http) = raw;
        tokens.Fail(description: description);

        using var answer = await http.PostAsync(FakeUri, Form("grant_type=client_credentials"));

        answer.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        (await answer.Content.ReadAsStringAsync()).Should().Be(expected);
        tokens.Invoking(t => t.Fail(error: "")).Should().Throw<ArgumentException>().WithParameterName("error");
    }

    [Fact]
    public async Task ATokenAnswer_IsRfc6749s_WithATokenTypeAndARefreshToken()
    {
        await using var raw = new Raw();
        var (tokens, http) = raw;
        tokens.Lifetime = TimeSpan.FromSeconds(90.2);

        using var answer = await http.PostAsync(FakeUri, Form("grant_type=client_credentials"));

        using var json = System.Text.Json.JsonDocument.Parse(await answer.Content.ReadAsStringAsync());
        json.RootElement.GetProperty("access_token").GetString().Should().Be(tokens.IssuedTokens.Single());
        json.RootElement.GetProperty("token_type").GetString().Should().Be("Bearer");
        json.RootElement.GetProperty("expires_in").GetInt64().Should().Be(91);
        json.RootElement.GetProperty("refresh_token").GetString().Should().StartWith("fake-refresh.");
    }

    [Fact]
    public async Task RecordedFields_KeepJsonValuesThatAreNotStrings_AndFormPairsWithoutAValue()
    {
        await using var raw = new Raw();
        var (tokens, http) = raw;

        await http.PostAsync(FakeUri, new StringContent("""{"grant_type":"client_credentials","n":12,"flag":true}""", System.Text.Encoding.UTF8, "application/json"));
        await http.PostAsync(FakeUri, Form("grant_type=client_credentials&alone&=orphan&a+b=c%2Bd"));

        var (json, form) = (tokens.Requests[0], tokens.Requests[1]);
        (json.Field("grant_type"), json.Field("n"), json.Field("flag")).Should().Be(("client_credentials", "12", "true"));
        form.Fields.Should().Contain(new KeyValuePair<string, string>("alone", "")).And.Contain(new KeyValuePair<string, string>("", "orphan"))
            .And.Contain(new KeyValuePair<string, string>("a b", "c+d"));
    }

    [Theory]
    [InlineData(":only-secret", "", "only-secret")]
    [InlineData("id%3A1:s%20t", "id:1", "s t")]
    [InlineData("no-colon", null, null)]
    public async Task BasicCredentials_AreDecodedAsRfc6749Says(string pair, string? id, string? secret)
    {
        await using var raw = new Raw();
        var (tokens, http) = raw;
        using var request = new HttpRequestMessage(HttpMethod.Post, FakeUri) { Content = Form("grant_type=client_credentials&client_id=body-id") };
        request.Headers.Authorization = new("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(pair)));
        request.Headers.TryAddWithoutValidation("X-Two", ["a", "b"]);

        await http.SendAsync(request);

        var recorded = tokens.Requests.Single();
        (recorded.ClientId, recorded.ClientSecret).Should().Be((id, secret), "Basic credentials win over the body's");
        recorded.Headers["X-Two"].Should().Be("a, b");
    }

    [Fact]
    public async Task BasicCredentials_NotBase64_AreNoCredentials()
    {
        await using var raw = new Raw();
        var (tokens, http) = raw;
        using var request = new HttpRequestMessage(HttpMethod.Post, FakeUri) { Content = Form("grant_type=client_credentials") };
        request.Headers.TryAddWithoutValidation("Authorization", "Basic not*base64");

        await http.SendAsync(request);

        (tokens.Requests.Single().ClientId, tokens.Requests.Single().ClientSecret).Should().Be(((string?)null, (string?)null));
    }

    private static readonly Uri FakeUri = new("https://fake-token-endpoint.test/crm/token");

    private static StringContent Form(string body) => new(body, System.Text.Encoding.UTF8, "application/x-www-form-urlencoded");

    // The fake's own HttpClient, for requests the library would never send.
    private sealed class Raw : IAsyncDisposable
    {
        private readonly ServiceProvider _container;

        public Raw()
        {
            var services = new ServiceCollection();
            Tokens = services.AddFakeTokenClient("crm");
            _container = services.BuildServiceProvider();
            Http = _container.GetRequiredService<IHttpClientFactory>().CreateClient(TokenClient.Endpoint.TokenEndpointTransport.HttpClientNameOf("crm"));
        }

        public FakeTokenEndpoint Tokens { get; }

        public HttpClient Http { get; }

        public void Deconstruct(out FakeTokenEndpoint tokens, out HttpClient http) => (tokens, http) = (Tokens, Http);

        public ValueTask DisposeAsync() => _container.DisposeAsync();
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
