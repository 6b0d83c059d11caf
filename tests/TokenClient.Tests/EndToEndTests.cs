using System.Net;
using Microsoft.Extensions.DependencyInjection;
using TokenClient.Tests.TestSupport;

namespace TokenClient.Tests;

/// <summary>The whole path, over real sockets: registration, token endpoint, cache, handler, API.</summary>
public class EndToEndTests
{
    private const string Secret = "a+b/c=:é %";

    [Theory]
    [InlineData(ClientAuthentication.Basic)]
    [InlineData(ClientAuthentication.Body)]
    public async Task AddTokenHandler_AgainstLoopbackServer_OneTokenForManyCallsAndOneRenewalAfterRevocation(ClientAuthentication authentication)
    {
        await using var server = await LoopbackTokenServer.StartAsync("e2e-client", Secret);
        var services = new ServiceCollection();
        services.AddTokenClient("loopback", o =>
        {
            o.TokenEndpoint = server.TokenEndpoint;
            o.ClientId = "e2e-client";
            o.ClientSecret = Secret;
            o.ClientAuthentication = authentication;
        });
        services.AddHttpClient("api", c => c.BaseAddress = server.BaseAddress).AddTokenHandler("loopback");
        await using var provider = services.BuildServiceProvider();
        var http = provider.GetRequiredService<IHttpClientFactory>().CreateClient("api");

        var answers = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => http.GetStringAsync("/api/hello")));
        answers.Should().OnlyContain(a => a == "hello");
        server.TokensIssued.Should().Be(1);

        server.RevokeAll();
        using var afterRevocation = await http.GetAsync("/api/hello");

        afterRevocation.StatusCode.Should().Be(HttpStatusCode.OK);
        server.TokensIssued.Should().Be(2);
    }

    [Fact]
    public async Task GetTokenAsync_WrongSecretAgainstLoopbackServer_ThrowsInvalidClient()
    {
        await using var server = await LoopbackTokenServer.StartAsync("e2e-client", Secret);
        var services = new ServiceCollection();
        services.AddTokenClient("loopback", o =>
        {
            o.TokenEndpoint = server.TokenEndpoint;
            o.ClientId = "e2e-client";
            o.ClientSecret = "wrong";
        });
        await using var provider = services.BuildServiceProvider();
        var client = provider.GetRequiredKeyedService<ITokenClient>("loopback");

        var act = async () => await client.GetTokenAsync();

        var thrown = (await act.Should().ThrowAsync<TokenRequestException>()).Which;
        thrown.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        thrown.Error.Should().Be("invalid_client");
        thrown.ErrorDescription.Should().Be("Client authentication failed.");
        thrown.Message.Should().Contain("127.0.0.1").And.NotContain("wrong");
    }
}
