using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using TokenClient.Tests.TestSupport;

namespace TokenClient.Tests.DependencyInjection;

public class RegistrationTests
{
    [Fact]
    public void StartupValidation_ANameRegisteredTwice_FailsSayingSo()
    {
        var services = new ServiceCollection();
        services.AddTokenClient("api", Valid);
        services.AddTokenClient("api", o => o.Scope = "other");
        var act = Startup(services);

        act.Should().Throw<OptionsValidationException>().Which.Failures.Should().Equal(
            "Token client 'api' is registered 2 times (AddTokenClient, AddTokenClients); register each name once, since the registrations would merge their options (in tests, AddFakeTokenClient goes after the application's registrations, as in ConfigureTestServices).");
    }

    [Theory]
    [InlineData(true, "AddTokenHandler(\"apii\") names no registered token client; register it with services.AddTokenClient(\"apii\", ...). Registered: 'api'.")]
    [InlineData(false, "AddTokenHandler(\"apii\") names no registered token client; register it with services.AddTokenClient(\"apii\", ...). Registered: none.")]
    public void StartupValidation_AHandlerNamingNoRegisteredClient_FailsAtStartUp_NotAtTheFirstRequest(bool withClient, string expected)
    {
        var services = new ServiceCollection();
        if (withClient)
        {
            services.AddTokenClient("api", Valid);
        }

        services.AddHttpClient("orders").AddTokenHandler("apii");
        var act = Startup(services);

        act.Should().Throw<OptionsValidationException>().Which.Failures.Should().Equal(expected);
    }

    [Fact]
    public void AHandlerResolvedBeforeStartUpValidation_WithNoClientRegistered_SaysWhatIsWrong_NotThatAServiceIsMissing()
    {
        var services = new ServiceCollection();
        services.AddHttpClient("orders").AddTokenHandler("orders"); // a hosted service's typed client is built before the host validates
        using var provider = services.BuildServiceProvider();

        var act = () => provider.GetRequiredService<IHttpClientFactory>().CreateClient("orders");

        act.Should().Throw<OptionsValidationException>().Which.Failures.Should().Equal(
            "AddTokenHandler(\"orders\") names no registered token client; register it with services.AddTokenClient(\"orders\", ...). Registered: none.");
    }

    [Fact]
    public void AddTokenHandler_BadArguments_SayWhich()
    {
        var noBuilder = () => TokenHandlerHttpClientBuilderExtensions.AddTokenHandler(null!, "api");
        var noName = () => new ServiceCollection().AddHttpClient("orders").AddTokenHandler("");

        noBuilder.Should().Throw<ArgumentNullException>().WithParameterName("builder");
        noName.Should().Throw<ArgumentException>().WithParameterName("name");
    }

    [Fact]
    public void StartupValidation_AHandlerNamingARegisteredClient_Passes()
    {
        var services = new ServiceCollection();
        services.AddTokenClient("api", Valid);
        services.AddHttpClient("orders").AddTokenHandler("api");
        var act = Startup(services);

        act.Should().NotThrow();
    }

    private static void Valid(TokenClientOptions o)
    {
        o.TokenEndpoint = new Uri("https://auth.test/token");
        o.ClientId = "id";
        o.ClientSecret = "secret";
    }

    [Theory]
    [InlineData(null, "id", "secret", 0.9, "Token client 'api': TokenEndpoint is required when Provider is 'Generic'.")]
    [InlineData("https://auth.test/token", "", "secret", 0.9, "Token client 'api': ClientId is required.")]
    [InlineData("https://auth.test/token", "id", null, 0.9, "Token client 'api': ClientSecret is required.")]
    [InlineData("https://auth.test/token", "id", "secret", 0.0, "Token client 'api': RefreshRatio must be greater than 0 and less than 1, not 0.")]
    [InlineData("https://auth.test/token", "id", "secret", 1.0, "Token client 'api': RefreshRatio must be greater than 0 and less than 1, not 1.")]
    [InlineData("https://auth.test/token", "id", "secret", 1.5, "Token client 'api': RefreshRatio must be greater than 0 and less than 1, not 1.5.")]
    [InlineData("http://auth.test/token", "id", "secret", 0.9, "Token client 'api': TokenEndpoint 'http://auth.test/token' must use https (plain http is allowed only on loopback).")]
    [InlineData("/token", "id", "secret", 0.9, "Token client 'api': TokenEndpoint '/token' must be an absolute URI.")]
    [InlineData("https://svc:PASSWORD@auth.test/token", "id", "secret", 0.9, "Token client 'api': TokenEndpoint 'https://auth.test/token' must not carry user information (user:password@): give the credentials as ClientId and ClientSecret.")]
    public void StartupValidation_BadOption_FailsNamingClientAndKey(string? endpoint, string? clientId, string? secret, double ratio, string expected)
    {
        var services = new ServiceCollection();
        services.AddTokenClient("api", o =>
        {
            o.TokenEndpoint = endpoint is null ? null : new Uri(endpoint, UriKind.RelativeOrAbsolute);
            o.ClientId = clientId;
            o.ClientSecret = secret;
            o.RefreshRatio = ratio;
        });
        var act = Startup(services);

        act.Should().Throw<OptionsValidationException>().Which.Failures.Should().Equal(expected);
    }

    [Fact]
    public void OptionsToString_TokenEndpointWithUserInformation_LeavesItOut()
    {
        var options = new TokenClientOptions { ClientId = "id", TokenEndpoint = new Uri("https://svc:PASSWORD@auth.test:8443/oauth/token?x=1") };

        options.ToString().Should().Be("Generic client 'id' at https://auth.test:8443/oauth/token?x=1");
    }

    [Theory]
    [InlineData("Login3", "Domain is required when Provider is 'Login3' (or set TokenEndpoint).")]
    [InlineData("Login3", "Audience is required when Provider is 'Login3': it is the identifier of the API the token is for.")]
    [InlineData("Wokelo", "Username is required when Provider is 'Wokelo': the account's e-mail address.")]
    [InlineData("Wokelo", "Password is required when Provider is 'Wokelo'.")]
    [InlineData("LoneWolf", "ClientSecret is required.")]
    [InlineData("Wll", "ClientId is required.")]
    [InlineData("Apimw", "ClientSecret is required.")]
    public void StartupValidation_ProviderKeyMissing_FailsNamingClientAndKey(string provider, string expected)
    {
        var services = new ServiceCollection();
        services.AddTokenClient("api", o => o.Provider = provider);
        var act = Startup(services);

        act.Should().Throw<OptionsValidationException>().Which.Failures.Should().Contain($"Token client 'api': {expected}");
    }

    [Theory]
    [InlineData("LoneWolf")]
    [InlineData("Wll")]
    [InlineData("Apimw")]
    public void StartupValidation_ProviderWithDefaultEndpointAndCredentials_Passes(string provider)
    {
        var services = new ServiceCollection();
        services.AddTokenClient("api", o =>
        {
            o.Provider = provider;
            o.ClientId = "id";
            o.ClientSecret = "secret";
        });
        var act = Startup(services);

        act.Should().NotThrow();
    }

    [Theory]
    [InlineData("LoneWolf", "Audience", "Audience is not used when Provider is 'LoneWolf'; remove it (extra token request fields go in Parameters).")]
    [InlineData("Apimw", "Scope", "Scope is not used when Provider is 'Apimw'; remove it (extra token request fields go in Parameters).")]
    [InlineData("Generic", "Password", "Password is not used when Provider is 'Generic'; remove it (extra token request fields go in Parameters).")]
    [InlineData("Wokelo", "Tenant", "Tenant is not used when Provider is 'Wokelo'; remove it (extra token request fields go in Parameters).")]
    public void StartupValidation_KeyTheProviderDoesNotSend_FailsRatherThanDroppingIt(string provider, string key, string expected)
    {
        var wokelo = provider == "Wokelo";
        var act = StartupWith(("Provider", provider), ("Username", wokelo ? "u" : null), ("Password", wokelo ? "p" : null), (key, "value"));

        act.Should().Throw<OptionsValidationException>().Which.Failures.Should().Equal($"Token client 'api': {expected}");
    }

    [Fact]
    public void StartupValidation_Login3DomainWithScheme_SaysItMustBeAHostName()
    {
        var services = new ServiceCollection();
        services.AddTokenClient("api", o =>
        {
            o.Provider = "login3";
            o.Domain = "https://login.example.test/";
            o.Audience = "api";
            o.ClientId = "id";
            o.ClientSecret = "secret";
        });
        var act = Startup(services);

        act.Should().Throw<OptionsValidationException>().Which.Failures.Should().Contain(
            "Token client 'api': Domain 'https://login.example.test/' must be a host name such as login.example.com, without a scheme or a path.");
    }

    [Theory]
    [InlineData("MaxRetries", "-1", "MaxRetries must be from 0 to 100, not -1.")]
    [InlineData("RetryDelay", "-00:00:01", "RetryDelay must be from 00:00:00 to 1.00:00:00, not -00:00:01.")]
    [InlineData("MaxRetryDelay", "00:00:00", "MaxRetryDelay must be positive and at most 1.00:00:00, not 00:00:00.")]
    [InlineData("AttemptTimeout", "00:00:00.001", "AttemptTimeout must be from 00:00:00.010 to 1.00:00:00, not 00:00:00.0010000.")]
    [InlineData("TotalTimeout", "00:00:05", "TotalTimeout (00:00:05) must not be shorter than AttemptTimeout (00:00:10).")]
    [InlineData("TotalTimeout", "00:00:00.010", "TotalTimeout (00:00:00.0100000) must not be shorter than AttemptTimeout (00:00:10).")]
    [InlineData("FailureCooldown", "-00:00:01", "FailureCooldown must not be negative, not -00:00:01.")]
    [InlineData("MaxResponseSize", "0", "MaxResponseSize must be a positive number of bytes, not 0.")]
    [InlineData("DefaultLifetime", "00:00:01", "DefaultLifetime must be from 00:00:02 to 365.00:00:00, the shortest and longest lifetimes a token may have, not 00:00:01.")]
    [InlineData("DefaultLifetime", "365.00:00:01", "DefaultLifetime must be from 00:00:02 to 365.00:00:00, the shortest and longest lifetimes a token may have, not 365.00:00:01.")]
    [InlineData("MaxTenants", "0", "MaxTenants must be at least 1, not 0.")]
    [InlineData("MaxRetries", "101", "MaxRetries must be from 0 to 100, not 101.")]
    [InlineData("TotalTimeout", "1.00:00:00.001", "TotalTimeout must be from 00:00:00.010 to 1.00:00:00, not 1.00:00:00.0010000.")]
    public void StartupValidation_BadResilienceSetting_FailsNamingTheKey(string key, string value, string expected)
    {
        var act = StartupWith((key, value));

        act.Should().Throw<OptionsValidationException>().Which.Failures.Should().Equal($"Token client 'api': {expected}");
    }

    [Fact]
    public void StartupValidation_ASharedCacheKeyPrefixOfNull_IsRefused_AndAnEmptyOneIsNot()
    {
        foreach (var (prefix, failures) in new[] { ((string?)null, new[] { "Token client 'api': SharedCacheKeyPrefix must not be null (it may be empty)." }), ("", []) })
        {
            var services = new ServiceCollection();
            services.AddTokenClient("api", o =>
            {
                (o.TokenEndpoint, o.ClientId, o.ClientSecret) = (new Uri("https://auth.test/token"), "id", "secret");
                o.SharedCacheKeyPrefix = prefix!;
            });
            using var container = services.BuildServiceProvider();

            var act = () => container.GetRequiredService<IOptionsMonitor<TokenClientOptions>>().Get("api");

            (act.Try() ?? []).Should().Equal(failures);
        }
    }

    [Fact]
    public void AddTokenClient_ResilienceKeysFromConfiguration_AreBound()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["TokenEndpoint"] = "https://auth.test/token",
            ["ClientId"] = "id",
            ["ClientSecret"] = "secret",
            ["MaxRetries"] = "5",
            ["RetryDelay"] = "00:00:00.250",
            ["MaxRetryDelay"] = "00:01:00",
            ["AttemptTimeout"] = "00:00:03",
            ["TotalTimeout"] = "00:00:20",
            ["FailureCooldown"] = "00:00:30",
            ["MaxResponseSize"] = "65536",
        }).Build();
        var services = new ServiceCollection();
        services.AddTokenClient("api", configuration);
        using var container = services.BuildServiceProvider();

        var options = container.GetRequiredService<IOptionsMonitor<TokenClientOptions>>().Get("api");

        options.MaxRetries.Should().Be(5);
        options.RetryDelay.Should().Be(TimeSpan.FromMilliseconds(250));
        options.MaxRetryDelay.Should().Be(TimeSpan.FromMinutes(1));
        options.AttemptTimeout.Should().Be(TimeSpan.FromSeconds(3));
        options.TotalTimeout.Should().Be(TimeSpan.FromSeconds(20));
        options.FailureCooldown.Should().Be(TimeSpan.FromSeconds(30));
        options.MaxResponseSize.Should().Be(65536);
    }

    [Fact]
    public void StartupValidation_UnknownProvider_ListsTheKnownOnes()
    {
        var services = new ServiceCollection();
        services.AddTokenClient("api", o => o.Provider = "Okta");
        var act = Startup(services);

        act.Should().Throw<OptionsValidationException>().WithMessage("*Token client 'api': Provider 'Okta' is not known; use one of Generic*");
    }

    [Theory]
    [InlineData("http://127.0.0.1:5000/token")]
    [InlineData("http://localhost/token")]
    [InlineData("https://auth.test/token")]
    public void StartupValidation_HttpsOrLoopback_Passes(string endpoint)
    {
        var services = new ServiceCollection();
        services.AddTokenClient("api", o =>
        {
            o.TokenEndpoint = new Uri(endpoint);
            o.ClientId = "id";
            o.ClientSecret = "secret";
        });
        var act = Startup(services);

        act.Should().NotThrow();
    }

    [Fact]
    public void GetClient_InvalidOptions_ThrowsTheValidationMessageAtFirstUse()
    {
        var services = new ServiceCollection();
        services.AddTokenClient("api", o => o.ClientId = "id");
        using var provider = services.BuildServiceProvider();

        var act = () => provider.GetRequiredKeyedService<ITokenClient>("api");

        act.Should().Throw<OptionsValidationException>().WithMessage("*Token client 'api': TokenEndpoint is required*");
    }

    [Fact]
    public void GetClient_UnregisteredName_SaysWhichNamesExist()
    {
        using var services = new TestServices();

        var act = () => services.Provider.GetRequiredService<ITokenClientFactory>().GetClient("other");

        act.Should().Throw<InvalidOperationException>().WithMessage("No token client named 'other' is registered*Registered: 'test'.");
    }

    [Fact]
    public void AddTokenClients_FromConfiguration_BindsEveryKeyOfEveryChildSection()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["TokenClients:billing:tokenEndpoint"] = "https://auth.test/oauth/token",
            ["TokenClients:billing:ClientId"] = "billing-id",
            ["TokenClients:billing:ClientSecret"] = "billing-secret",
            ["TokenClients:billing:Scope"] = "invoices.read",
            ["TokenClients:billing:Audience"] = "https://billing.test",
            ["TokenClients:billing:Resource"] = "urn:billing",
            ["TokenClients:billing:ClientAuthentication"] = "body",
            ["TokenClients:billing:RefreshRatio"] = "0.75",
            ["TokenClients:billing:DefaultLifetime"] = "00:10:00",
            ["TokenClients:billing:Headers:X-Api-Key"] = "k",
            ["TokenClients:billing:Parameters:tenant_hint"] = "t1",
            ["TokenClients:crm:Provider"] = "Wll",
            ["TokenClients:crm:Region"] = "us",
            ["TokenClients:crm:Environment"] = "Staging",
            ["TokenClients:login:Provider"] = "login3",
            ["TokenClients:login:Domain"] = "login.example.test",
            ["TokenClients:login:Audience"] = "api",
            ["TokenClients:login:Tenant"] = "org_9",
            ["TokenClients:login:ClientId"] = "login-id",
            ["TokenClients:login:ClientSecret"] = "login-secret",
            ["TokenClients:research:Provider"] = "Wokelo",
            ["TokenClients:research:Username"] = "sam@example.test",
            ["TokenClients:research:Password"] = "pw",
            ["TokenClients:research:ClientId"] = "w-id",
            ["TokenClients:research:ClientSecret"] = "w-secret",
            ["TokenClients:crm:ClientId"] = "crm-id",
            ["TokenClients:crm:ClientSecret"] = "crm-secret",
        }).Build();
        var services = new ServiceCollection();
        services.AddTokenClients(configuration.GetSection("TokenClients"));
        using var provider = services.BuildServiceProvider();

        provider.GetRequiredService<IStartupValidator>().Validate();
        var billing = provider.GetRequiredService<IOptionsMonitor<TokenClientOptions>>().Get("billing");
        billing.TokenEndpoint.Should().Be(new Uri("https://auth.test/oauth/token"));
        billing.ClientId.Should().Be("billing-id");
        billing.ClientSecret.Should().Be("billing-secret");
        billing.Scope.Should().Be("invoices.read");
        billing.Audience.Should().Be("https://billing.test");
        billing.Resource.Should().Be("urn:billing");
        billing.ClientAuthentication.Should().Be(ClientAuthentication.Body);
        billing.RefreshRatio.Should().Be(0.75);
        billing.DefaultLifetime.Should().Be(TimeSpan.FromMinutes(10));
        billing.Headers.Should().Equal(new Dictionary<string, string> { ["X-Api-Key"] = "k" });
        billing.Parameters.Should().Equal(new Dictionary<string, string> { ["tenant_hint"] = "t1" });
        var monitor = provider.GetRequiredService<IOptionsMonitor<TokenClientOptions>>();
        var crm = monitor.Get("crm");
        crm.Provider.Should().Be("Wll");
        crm.Region.Should().Be(WllRegion.US);
        crm.Environment.Should().Be(WllEnvironment.Staging);
        var login = monitor.Get("login");
        login.Domain.Should().Be("login.example.test");
        login.Tenant.Should().Be("org_9");
        var research = monitor.Get("research");
        research.Username.Should().Be("sam@example.test");
        research.Password.Should().Be("pw");
        var factory = provider.GetRequiredService<ITokenClientFactory>();
        provider.GetRequiredKeyedService<ITokenClient>("crm").Should().BeSameAs(factory.GetClient("crm"), "the keyed service is the factory's client of that name");
        provider.GetRequiredKeyedService<ITokenClient>("crm").Should().NotBeSameAs(provider.GetRequiredKeyedService<ITokenClient>("billing"));
    }

    [Theory]
    [InlineData("RefreshRatio", "ninety", "Token client 'api': configuration 'TokenClients:api:RefreshRatio' is not a number.")]
    [InlineData("ClientAuthentication", "Digest", "Token client 'api': configuration 'TokenClients:api:ClientAuthentication' is not one of Basic, Body, PrivateKeyJwt, Tls.")]
    [InlineData("Region", "Mars", "Token client 'api': configuration 'TokenClients:api:Region' is not one of EU, US, GCC.")]
    [InlineData("DefaultLifetime", "an hour", "Token client 'api': configuration 'TokenClients:api:DefaultLifetime' is not a time span such as 00:05:00.")]
    [InlineData("AllowInsecureHttp", "sometimes", "Token client 'api': configuration 'TokenClients:api:AllowInsecureHttp' is not true or false.")]
    [InlineData("MaxRetries", "three", "Token client 'api': configuration 'TokenClients:api:MaxRetries' is not a whole number.")]
    [InlineData("TokenEndpoint", "http://auth.test:99999/token", "Token client 'api': configuration 'TokenClients:api:TokenEndpoint' is not a URI.")]
    [InlineData("Headers:X-Api-Key:Nested", "k3y-value-9", "Token client 'api': configuration 'TokenClients:api:Headers:X-Api-Key' must be a single value.")]
    [InlineData("ClientSecert", "s3cr3t", "Token client 'api': configuration 'TokenClients:api:ClientSecert' is not a token client key*")]
    [InlineData("SigningKey", "key.pem", "Token client 'api': configuration 'TokenClients:api:SigningKey' is not a SigningKey setting; the settings are SigningKey:Path, SigningKey:Password, SigningKey:KeyId, SigningKey:Algorithm.")]
    public void AddTokenClient_BadConfigurationValue_FailsNamingThePathAndNotTheValue(string key, string value, string expected)
    {
        var act = StartupWith((key, value));

        var thrown = act.Should().Throw<OptionsValidationException>().Which;
        thrown.Failures.Should().ContainMatch(expected);
        thrown.Message.Should().NotContain(value);
    }

    [Fact]
    public void AddTokenClient_AnEmptyConfigurationThatIsNoSection_IsReportedAsSuch()
    {
        var services = new ServiceCollection();
        services.AddTokenClient("api", new ConfigurationBuilder().Build());
        using var container = services.BuildServiceProvider();

        var act = () => container.GetRequiredService<IStartupValidator>().Validate();

        act.Should().Throw<OptionsValidationException>().Which.Failures.Should().Equal("Token client 'api': the configuration given is empty.");
    }

    [Fact]
    public void StartupValidation_FiveDifferentProblems_AreAllReported_ParseErrorsAndUnknownKeysIncluded()
    {
        var act = StartupWith(("MaxRetries", "three"), ("ClientSecert", "s3cr3t"), ("Region", "Mars"), ("ClientId", ""), ("RefreshRatio", "1.5"));

        var failures = act.Should().Throw<OptionsValidationException>().Which.Failures;

        failures.Should().HaveCount(5);
        failures.Should().ContainMatch("Token client 'api': configuration 'TokenClients:api:MaxRetries' is not a whole number.");
        failures.Should().ContainMatch("Token client 'api': configuration 'TokenClients:api:ClientSecert' is not a token client key*");
        failures.Should().ContainMatch("Token client 'api': configuration 'TokenClients:api:Region' is not one of EU, US, GCC.");
        failures.Should().ContainMatch("Token client 'api': ClientId is required.");
        failures.Should().ContainMatch("Token client 'api': RefreshRatio must be greater than 0 and less than 1, not 1.5.");
    }

    [Fact]
    public async Task StartupValidation_ProblemsOfSeveralClients_ComeOutOfTheHostInOneException_OnePerLine()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["TokenClients:crm:ClientId"] = "id",
            ["TokenClients:crm:ClientSecret"] = "secret",
            ["TokenClients:crm:MaxRetries"] = "three",
            ["TokenClients:billing:Provider"] = "Wokelo",
            ["TokenClients:billing:ClientId"] = "id",
            ["TokenClients:billing:ClientSecret"] = "secret",
        });
        builder.Services.AddTokenClients(builder.Configuration.GetSection("TokenClients"));
        builder.Services.AddHttpClient("orders").AddTokenHandler("ordres");
        using var host = builder.Build();

        var act = () => host.StartAsync();

        var thrown = (await act.Should().ThrowAsync<OptionsValidationException>("one exception for every client, not an AggregateException of one per client")).Which;
        var problems = new[]
        {
            "AddTokenHandler(\"ordres\") names no registered token client; register it with services.AddTokenClient(\"ordres\", ...). Registered: 'billing', 'crm'.",
            "Token client 'billing': Username is required when Provider is 'Wokelo': the account's e-mail address.",
            "Token client 'billing': Password is required when Provider is 'Wokelo'.",
            "Token client 'crm': configuration 'TokenClients:crm:MaxRetries' is not a whole number.",
            "Token client 'crm': TokenEndpoint is required when Provider is 'Generic'.",
        };
        thrown.Failures.Should().Equal(problems);
        thrown.Message.Split(Environment.NewLine).Should().Equal(["The token clients' configuration has 5 problems:", .. problems]);
    }

    [Fact]
    public void StartupValidation_OneProblem_IsTheWholeMessage()
    {
        var act = StartupWith(("ClientId", ""));

        act.Should().Throw<OptionsValidationException>().Which.Message.Should().Be("Token client 'api': ClientId is required.");
    }

    [Fact]
    public void StartupValidation_AMistypedSectionPath_SaysTheSectionIsEmpty_NotThatEveryKeyIsMissing()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["TokenClients:api:ClientId"] = "id" }).Build();
        var services = new ServiceCollection();
        services.AddTokenClient("api", configuration.GetSection("TokenClients:apii"));
        var act = Startup(services);

        act.Should().Throw<OptionsValidationException>().Which.Failures.Should().Equal("Token client 'api': configuration section 'TokenClients:apii' is empty or missing.");
    }

    [Theory]
    [InlineData(null, false)]
    [InlineData("true", true)]
    [InlineData("False", false)]
    public void AddTokenClient_AllowInsecureHttp_BindsFromConfiguration(string? value, bool expected)
    {
        var values = new Dictionary<string, string?> { ["TokenEndpoint"] = "https://auth.test/token", ["ClientId"] = "id", ["ClientSecret"] = "s", ["AllowInsecureHttp"] = value };
        var services = new ServiceCollection();
        services.AddTokenClient("api", new ConfigurationBuilder().AddInMemoryCollection(values).Build());
        using var container = services.BuildServiceProvider();

        container.GetRequiredService<IOptionsMonitor<TokenClientOptions>>().Get("api").AllowInsecureHttp.Should().Be(expected);
    }

    // What the generic host does when it starts: every ValidateOnStart check, once.
    private static Action Startup(IServiceCollection services) => () =>
    {
        using var provider = services.BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate();
    };

    // Start-up of one client "api" bound from configuration: a valid generic client, changed by the settings given.
    private static Action StartupWith(params (string Key, string? Value)[] settings)
    {
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            ["TokenClients:api:TokenEndpoint"] = "https://auth.test/token",
            ["TokenClients:api:ClientId"] = "id",
            ["TokenClients:api:ClientSecret"] = "secret",
        };
        foreach (var (key, value) in settings)
        {
            values[$"TokenClients:api:{key}"] = value;
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        var services = new ServiceCollection();
        services.AddTokenClient("api", configuration.GetSection("TokenClients:api"));
        return Startup(services);
    }
}
