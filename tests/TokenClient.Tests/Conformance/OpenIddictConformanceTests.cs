using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using TokenClient.Caching;
using TokenClient.Tests.TestSupport;

namespace TokenClient.Tests.Conformance;

/// <summary>
/// The shapers against OpenIddict, an OAuth 2.0 server that nobody on this team wrote, on 127.0.0.1:
/// client credentials with client_secret_basic and client_secret_post, the password and refresh
/// grants (the Wokelo shaper's flow), a renewal within the test, and a wrong secret.
/// </summary>
public class OpenIddictConformanceTests
{
    [Theory]
    [InlineData(ClientAuthentication.Basic)]
    [InlineData(ClientAuthentication.Body)]
    public async Task ClientCredentials_BothAuthenticationStyles_GetAToken(ClientAuthentication authentication)
    {
        await using var server = await OpenIddictServer.StartAsync(TimeSpan.FromMinutes(5));
        await using var services = Register(server, "Generic", o => o.ClientAuthentication = authentication);

        var token = await services.GetRequiredKeyedService<ITokenClient>("oidc").GetTokenAsync();

        token.Value.Should().NotBeNullOrEmpty();
        token.TokenType.Should().Be("Bearer");
        token.ExpiresAt.Should().BeCloseTo(services.GetRequiredService<TimeProvider>().GetUtcNow().AddMinutes(5), TimeSpan.FromSeconds(1));
        server.GrantsServed.Should().Equal("client_credentials");
    }

    [Fact]
    public async Task ClientCredentials_ShortLifetime_RenewsInTheBackground()
    {
        await using var server = await OpenIddictServer.StartAsync(TimeSpan.FromSeconds(5));
        await using var services = Register(server, "Generic");
        var time = (FakeTimeProvider)services.GetRequiredService<TimeProvider>();
        var client = services.GetRequiredKeyedService<ITokenClient>("oidc").Cache();

        var first = await client.GetTokenAsync();
        var lifetime = first.ExpiresAt - time.GetUtcNow();
        lifetime.Should().BeGreaterThanOrEqualTo(TimeSpan.FromSeconds(4)).And.BeLessThanOrEqualTo(TimeSpan.FromSeconds(5), "OpenIddict rounds a 5 s lifetime down");
        time.Advance(lifetime * 0.95);
        (await client.GetTokenAsync()).Should().BeSameAs(first, "the current token is served while the renewal runs");
        var renewed = await RenewalAsync(client);

        renewed.Value.Should().NotBe(first.Value);
        (await client.GetTokenAsync()).Should().BeSameAs(renewed);
        server.GrantsServed.Should().Equal("client_credentials", "client_credentials");
    }

    [Fact]
    public async Task WrongSecret_GivesInvalidClient()
    {
        await using var server = await OpenIddictServer.StartAsync(TimeSpan.FromMinutes(5));
        await using var services = Register(server, "Generic", o => o.ClientSecret = "not the secret");

        var act = async () => await services.GetRequiredKeyedService<ITokenClient>("oidc").GetTokenAsync();

        var thrown = (await act.Should().ThrowAsync<TokenRequestException>()).Which;
        thrown.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        thrown.Error.Should().Be("invalid_client");
        thrown.ErrorDescription.Should().Be("The client credentials are invalid.");
        thrown.IsTransient.Should().BeFalse();
        thrown.Message.Should().NotContain("not the secret");
    }

    [Fact]
    public async Task WokeloFlow_PasswordGrantThenRefreshGrantAtRenewal()
    {
        await using var server = await OpenIddictServer.StartAsync(TimeSpan.FromSeconds(5));
        await using var services = Register(server, "Wokelo", o =>
        {
            o.Username = OpenIddictServer.Username;
            o.Password = OpenIddictServer.Password;
        });
        var time = (FakeTimeProvider)services.GetRequiredService<TimeProvider>();
        var client = services.GetRequiredKeyedService<ITokenClient>("oidc").Cache();

        var first = await client.GetTokenAsync();
        time.Advance((first.ExpiresAt - time.GetUtcNow()) * 0.95);
        await client.GetTokenAsync();
        var second = await RenewalAsync(client);
        time.Advance((second.ExpiresAt - time.GetUtcNow()) * 0.95);
        await client.GetTokenAsync();
        var third = await RenewalAsync(client);

        new[] { first.Value, second.Value, third.Value }.Should().OnlyHaveUniqueItems();
        server.GrantsServed.Should().Equal("password", "refresh_token", "refresh_token");
    }

    [Fact]
    public async Task WokeloFlow_WrongPassword_GivesInvalidGrant()
    {
        await using var server = await OpenIddictServer.StartAsync(TimeSpan.FromMinutes(5));
        await using var services = Register(server, "Wokelo", o =>
        {
            o.Username = OpenIddictServer.Username;
            o.Password = "wrong password";
        });

        var act = async () => await services.GetRequiredKeyedService<ITokenClient>("oidc").GetTokenAsync();

        var thrown = (await act.Should().ThrowAsync<TokenRequestException>()).Which;
        thrown.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        thrown.Error.Should().Be("invalid_grant");
        thrown.Message.Should().NotContain("wrong password");
    }

    // The background renewal's token: awaited while it runs, or read from the cache once it has landed.
    private static async Task<AccessToken> RenewalAsync(CachingTokenClient client) =>
        client.PendingAcquisition is { } pending ? await pending : await client.GetTokenAsync();

    private static ServiceProvider Register(OpenIddictServer server, string provider, Action<TokenClientOptions>? configure = null) =>
        new TestServices(
            o =>
            {
                o.Provider = provider;
                o.ClientId = OpenIddictServer.ClientId;
                o.ClientSecret = OpenIddictServer.ClientSecret;
                configure?.Invoke(o);
            },
            name: "oidc",
            endpoint: server.TokenEndpoint).Provider;
}
