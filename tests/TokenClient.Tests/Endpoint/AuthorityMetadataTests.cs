using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using TokenClient.Tests.Conformance;
using TokenClient.Tests.TestSupport;

namespace TokenClient.Tests.Endpoint;

/// <summary>Authority: the token endpoint read from the issuer's metadata, checked, kept for a day, read again after a failure.</summary>
public sealed class AuthorityMetadataTests
{
    private static readonly Uri Authority = new("https://login.example.test/tenant-1");

    private static TestServices Services(Func<RecordedRequest, HttpResponseMessage> answer, Action<TokenClientOptions>? configure = null)
    {
        var services = new TestServices(o =>
        {
            o.TokenEndpoint = null;
            o.Authority = Authority;
            configure?.Invoke(o);
        });
        services.TokenEndpoint.Respond = _ => Task.FromResult(answer(services.TokenEndpoint.Requests.Last()));
        return services;
    }

    private static HttpResponseMessage Metadata(string issuer, string tokenEndpoint) =>
        FakeTokenEndpoint.Json(HttpStatusCode.OK, $$"""{"issuer":"{{issuer}}","token_endpoint":"{{tokenEndpoint}}","jwks_uri":"{{issuer}}/keys"}""");

    private static HttpResponseMessage Standard(RecordedRequest request) => request.Uri!.AbsolutePath switch
    {
        "/tenant-1/.well-known/openid-configuration" => Metadata("https://login.example.test/tenant-1", "https://login.example.test/tenant-1/oauth2/token"),
        "/tenant-1/oauth2/token" => FakeTokenEndpoint.Token("t-" + Guid.NewGuid().ToString("N"), 3600),
        _ => new HttpResponseMessage(HttpStatusCode.NotFound),
    };

    [Fact]
    public async Task TheTokenEndpoint_IsReadFromTheMetadata_OnceADay_AndAgainAfterAFailure()
    {
        await using var services = Services(Standard);
        var client = services.Client;

        client.Invalidate(await client.GetTokenAsync());
        client.Invalidate(await client.GetTokenAsync());
        var paths = () => services.TokenEndpoint.Requests.Select(r => $"{r.Method} {r.Uri!.AbsolutePath}").ToList();
        paths().Should().Equal("GET /tenant-1/.well-known/openid-configuration", "POST /tenant-1/oauth2/token", "POST /tenant-1/oauth2/token");

        services.Time.Advance(TimeSpan.FromDays(1));
        client.Invalidate(await client.GetTokenAsync());
        paths().Skip(3).Should().Equal("GET /tenant-1/.well-known/openid-configuration", "POST /tenant-1/oauth2/token");

        services.TokenEndpoint.Respond = _ => Task.FromResult(services.TokenEndpoint.Requests.Last().Method == HttpMethod.Post
            ? new HttpResponseMessage(HttpStatusCode.NotFound) // the endpoint moved
            : Standard(services.TokenEndpoint.Requests.Last()));
        await client.Invoking(c => c.GetTokenAsync().AsTask()).Should().ThrowAsync<TokenRequestException>();
        services.TokenEndpoint.Respond = _ => Task.FromResult(Standard(services.TokenEndpoint.Requests.Last()));
        services.Time.Advance(TimeSpan.FromSeconds(5)); // past the failure's cooldown
        await client.GetTokenAsync();
        paths().Skip(6).Should().Equal("GET /tenant-1/.well-known/openid-configuration", "POST /tenant-1/oauth2/token");
    }

    [Fact]
    public async Task MetadataThatCannotBeReadAgain_KeepsTheLastGoodEndpoint_AndIsTriedAgainAMinuteLater()
    {
        var metadataDown = false;
        await using var services = Services(r => metadataDown && r.Method == HttpMethod.Get ? new HttpResponseMessage(HttpStatusCode.ServiceUnavailable) : Standard(r));
        var client = services.Client;
        client.Invalidate(await client.GetTokenAsync());

        metadataDown = true;
        services.Time.Advance(TimeSpan.FromDays(1));
        client.Invalidate(await client.GetTokenAsync());
        client.Invalidate(await client.GetTokenAsync());
        services.Time.Advance(TimeSpan.FromMinutes(1));
        await client.GetTokenAsync();

        services.TokenEndpoint.Requests.Select(r => r.Method.Method).Should().Equal("GET", "POST", "GET", "POST", "POST", "GET", "POST");
    }

    [Fact]
    public async Task AnOAuthErrorFromTheEndpoint_DoesNotHaveTheMetadataReadAgain()
    {
        await using var services = Services(r => r.Method == HttpMethod.Post
            ? FakeTokenEndpoint.Json(HttpStatusCode.BadRequest, """{"error":"invalid_scope"}""")
            : Standard(r), o => o.FailureCooldown = TimeSpan.Zero);

        await services.Client.Invoking(c => c.GetTokenAsync().AsTask()).Should().ThrowAsync<TokenRequestException>();
        await services.Client.Invoking(c => c.GetTokenAsync().AsTask()).Should().ThrowAsync<TokenRequestException>();

        services.TokenEndpoint.Requests.Select(r => r.Method.Method).Should().Equal("GET", "POST", "POST");
    }

    [Theory]
    [InlineData(HttpStatusCode.ServiceUnavailable, false)] // the endpoint answered: it is still there
    [InlineData(HttpStatusCode.BadRequest, false)]
    [InlineData(HttpStatusCode.NotFound, true)]
    [InlineData(HttpStatusCode.Gone, true)]
    [InlineData((HttpStatusCode)300, true)] // refused as a redirect, before its body is read
    [InlineData((HttpStatusCode)399, true)]
    public async Task AFailureWithoutAnOAuthError_HasTheMetadataReadAgain_OnlyWhereTheEndpointMayHaveMoved(HttpStatusCode status, bool readAgain)
    {
        var failing = true;
        await using var services = Services(r => r.Method == HttpMethod.Post && failing ? new HttpResponseMessage(status) : Standard(r), o => (o.FailureCooldown, o.MaxRetries) = (TimeSpan.Zero, 0));

        await services.Client.Invoking(c => c.GetTokenAsync().AsTask()).Should().ThrowAsync<TokenRequestException>();
        failing = false;
        await services.Client.GetTokenAsync();

        services.TokenEndpoint.Requests.Select(r => r.Method.Method).Should().Equal(readAgain ? ["GET", "POST", "GET", "POST"] : ["GET", "POST", "POST"]);
    }

    [Fact]
    public async Task WithMutualTls_TheMetadatasMtlsAlias_IsTheTokenEndpoint()
    {
        var endpoint = new FakeTokenEndpoint();
        endpoint.Respond = _ => Task.FromResult(FakeTokenEndpoint.Json(HttpStatusCode.OK, """
            {"issuer":"https://login.example.test/tenant-1","token_endpoint":"https://login.example.test/token",
             "mtls_endpoint_aliases":{"token_endpoint":"https://login.example.test/mtls/token"}}
            """));
        var services = new ServiceCollection();
        services.AddHttpClient("metadata").ConfigurePrimaryHttpMessageHandler(() => endpoint.Handler);
        await using var container = services.BuildServiceProvider();
        var time = TimeProvider.System;
        var options = new TokenClientOptions { Authority = Authority, ClientId = "id" };
        var context = RequestContexts.For("test", options, Authority);
        var transport = new TokenClient.Endpoint.TokenEndpointTransport(container.GetRequiredService<IHttpClientFactory>(), "metadata", time);

        var withTls = await new TokenClient.Endpoint.AuthorityMetadata(Authority, mutualTls: true, time).TokenEndpointAsync(context, transport, CancellationToken.None);
        var withoutTls = await new TokenClient.Endpoint.AuthorityMetadata(Authority, mutualTls: false, time).TokenEndpointAsync(context, transport, CancellationToken.None);

        withTls.Should().Be(new Uri("https://login.example.test/mtls/token"));
        withoutTls.Should().Be(new Uri("https://login.example.test/token"));
    }

    [Fact]
    public async Task WithoutOpenIdConnectMetadata_Rfc8414sWellKnownPathIsRead()
    {
        await using var services = Services(r => r.Uri!.AbsolutePath switch
        {
            "/.well-known/oauth-authorization-server/tenant-1" => Metadata("https://login.example.test/tenant-1", "https://login.example.test/issue"),
            "/issue" => FakeTokenEndpoint.Token("t", 3600),
            _ => new HttpResponseMessage(HttpStatusCode.NotFound),
        });

        (await services.Client.GetTokenAsync()).Value.Should().Be("t");

        services.TokenEndpoint.Requests.Select(r => r.Uri!.AbsoluteUri).Should().Equal(
            "https://login.example.test/tenant-1/.well-known/openid-configuration",
            "https://login.example.test/.well-known/oauth-authorization-server/tenant-1",
            "https://login.example.test/issue");
    }

    [Fact]
    public async Task ARootAuthority_HasRfc8414sWellKnownPathAtTheRoot_AndTheMetadataIsAskedForAsJson()
    {
        await using var services = new TestServices(o =>
        {
            o.TokenEndpoint = null;
            o.Authority = new Uri("https://login.example.test/");
        });
        services.TokenEndpoint.Respond = _ => Task.FromResult(services.TokenEndpoint.Requests.Last().Uri!.AbsolutePath switch
        {
            "/.well-known/oauth-authorization-server" => Metadata("https://login.example.test/", "https://login.example.test/token"),
            "/token" => FakeTokenEndpoint.Token("t", 3600),
            _ => new HttpResponseMessage(HttpStatusCode.NotFound),
        });

        await services.Client.GetTokenAsync();

        services.TokenEndpoint.Requests.Select(r => r.Uri!.AbsoluteUri).Should().Equal(
            "https://login.example.test/.well-known/openid-configuration", "https://login.example.test/.well-known/oauth-authorization-server", "https://login.example.test/token");
        services.TokenEndpoint.Requests.Take(2).Should().OnlyContain(r => r.Header("Accept") == "application/json");
    }

    [Theory]
    [InlineData("https://evil.example.test/tenant-1", "https://login.example.test/tenant-1/oauth2/token", "its issuer 'https://evil.example.test/tenant-1' is not the Authority")]
    [InlineData("https://login.example.test/tenant-1", "http://login.example.test/oauth2/token", "its token_endpoint 'http://login.example.test/oauth2/token' is not an https URI")]
    [InlineData("https://login.example.test/tenant-1", "/oauth2/token", "its token_endpoint '/oauth2/token' is not an https URI")]
    [InlineData("https://login.example.test/tenant-1", "https://collector.example.test/token", "its token_endpoint 'https://collector.example.test/token' is not on the Authority's host; set TokenEndpoint for a provider whose endpoint is elsewhere")]
    [InlineData("https://login.example.test/tenant-1", "https://login.example.test:8443/token", "its token_endpoint 'https://login.example.test:8443/token' is not on the Authority's host; set TokenEndpoint for a provider whose endpoint is elsewhere")]
    [InlineData("https://login.example.test/tenant-1/", "https://user:pw@login.example.test/token", "its token_endpoint 'https://login.example.test/token' is not on the Authority's host; set TokenEndpoint for a provider whose endpoint is elsewhere")]
    public async Task MetadataNotToBeTrusted_IsRefused_AndNoCredentialIsSent(string issuer, string tokenEndpoint, string problem)
    {
        await using var services = Services(_ => Metadata(issuer, tokenEndpoint));

        var thrown = (await services.Client.Invoking(c => c.GetTokenAsync().AsTask()).Should().ThrowAsync<TokenRequestException>()).Which;

        thrown.Message.Should().Be($"Token client 'test' could not use the metadata of its Authority https://login.example.test/tenant-1 (/tenant-1/.well-known/openid-configuration): {problem}.");
        thrown.IsTransient.Should().BeFalse();
        services.TokenEndpoint.Requests.Should().OnlyContain(r => r.Method == HttpMethod.Get, "the credentials never went anywhere");
    }

    [Theory]
    [InlineData(HttpStatusCode.ServiceUnavailable, "", true, "HTTP 503 (ServiceUnavailable)")]
    [InlineData(HttpStatusCode.OK, "<html>maintenance</html>", true, "it is not a JSON object with an issuer and a token_endpoint")]
    [InlineData(HttpStatusCode.OK, """{"issuer":"https://login.example.test/tenant-1"}""", true, "it is not a JSON object with an issuer and a token_endpoint")]
    [InlineData(HttpStatusCode.Forbidden, "", false, "HTTP 403 (Forbidden)")]
    public async Task MetadataThatCannotBeRead_FailsTheRequest_TransientOrNot(HttpStatusCode status, string body, bool transient, string problem)
    {
        await using var services = Services(_ => new HttpResponseMessage(status) { Content = new StringContent(body) });

        var thrown = (await services.Client.Invoking(c => c.GetTokenAsync().AsTask()).Should().ThrowAsync<TokenRequestException>()).Which;

        thrown.IsTransient.Should().Be(transient);
        thrown.Message.Should().EndWith($": {problem}.");
    }

    [Fact]
    public async Task AMetadataRedirect_IsNotFollowed()
    {
        await using var services = Services(_ =>
        {
            var moved = new HttpResponseMessage(HttpStatusCode.Found);
            moved.Headers.Location = new Uri("https://evil.example.test/.well-known/openid-configuration");
            return moved;
        });

        var thrown = (await services.Client.Invoking(c => c.GetTokenAsync().AsTask()).Should().ThrowAsync<TokenRequestException>()).Which;

        thrown.Message.Should().Contain("a redirect to evil.example.test; token requests never follow redirects");
        services.TokenEndpoint.RequestCount.Should().Be(1);
    }

    [Fact]
    public async Task OpenIddictsOwnMetadata_LeadsToItsTokenEndpoint()
    {
        await using var server = await OpenIddictServer.StartAsync(TimeSpan.FromMinutes(5));
        var authority = new Uri(server.TokenEndpoint.GetLeftPart(UriPartial.Authority) + "/");
        await using var services = new TestServices(
            o =>
            {
                o.TokenEndpoint = null;
                o.Authority = authority;
                o.ClientId = OpenIddictServer.ClientId;
                o.ClientSecret = OpenIddictServer.ClientSecret;
            },
            endpoint: server.TokenEndpoint,
            time: TimeProvider.System);

        (await services.Client.GetTokenAsync()).Value.Should().NotBeNullOrEmpty();

        server.GrantsServed.Should().Equal("client_credentials");
    }

    [Theory]
    [InlineData("https://login.example.test/", "https://login.example.test/token", "Generic", "Authority and TokenEndpoint are both set; set one: the Authority's metadata names its token endpoint.")]
    [InlineData("https://login.example.test/", null, "Login3", "Authority is not used when Provider is 'Login3': its token endpoint is fixed; remove it.")]
    [InlineData("http://login.example.test/", null, "Generic", "Authority 'http://login.example.test/' must use https (plain http is allowed only on loopback).")]
    [InlineData("https://login.example.test/?tenant=1", null, "Generic", "Authority 'https://login.example.test/' must have no query or fragment: it is an issuer identifier.")]
    [InlineData("https://user:s3cret@login.example.test/", null, "Generic", "Authority 'https://login.example.test/' must not carry user information: it is an issuer identifier.")]
    public void StartUp_AnAuthorityThatCannotBeUsed_IsReported(string authority, string? tokenEndpoint, string provider, string expected)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Provider"] = provider,
            ["Authority"] = authority,
            ["TokenEndpoint"] = tokenEndpoint,
            ["ClientId"] = "id",
            ["ClientSecret"] = "s",
            ["Audience"] = "https://api.example.test",
            ["Domain"] = "login.example.test",
        };
        var services = new ServiceCollection();
        services.AddTokenClient("api", new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        using var container = services.BuildServiceProvider();

        var act = () => container.GetRequiredService<IStartupValidator>().Validate();

        act.Should().Throw<OptionsValidationException>().Which.Failures.Should().Contain("Token client 'api': " + expected);
    }
}
