using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Quickstart;
using TokenClient.Tests.TestSupport;

namespace TokenClient.Tests;

/// <summary>
/// The whole path over real sockets, against the quickstart's local server on 127.0.0.1, which
/// speaks every provider's wire format and refuses anything else: registration, token endpoint,
/// cache, handler, API.
/// </summary>
public class EndToEndTests
{
    private const string AwkwardSecret = "a+b/c=:é %";

    [Theory]
    [InlineData("Generic", ClientAuthentication.Basic, "401")]
    [InlineData("Generic", ClientAuthentication.Body, "401")]
    [InlineData("LoneWolf", ClientAuthentication.Basic, "403")]
    [InlineData("Wll", ClientAuthentication.Basic, "401")]
    [InlineData("Apimw", ClientAuthentication.Basic, "401")]
    [InlineData("Login3", ClientAuthentication.Basic, "401")]
    [InlineData("Wokelo", ClientAuthentication.Basic, "401")]
    public async Task AddTokenHandler_EachProvider_OneTokenForManyCallsAndOneRenewalAfterRevocation(
        string provider, ClientAuthentication authentication, string rejection)
    {
        await using var server = await LocalServer.StartAsync(TimeSpan.FromHours(1), AwkwardSecret);
        await using var container = Register(server, provider, o => o.ClientAuthentication = authentication);
        var http = container.GetRequiredService<IHttpClientFactory>().CreateClient("api");

        var answers = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => http.GetStringAsync("greeting")));
        answers.Should().OnlyContain(a => a == "hello, holder of token #1");
        server.TokensIssued.Should().Be(1);

        server.RevokeAll();
        using var afterRevocation = await http.GetAsync("greeting");

        afterRevocation.StatusCode.Should().Be(HttpStatusCode.OK);
        server.ApiLog.TakeLast(2).Should().Equal(rejection, "200 for token #2");
        server.TokensIssued.Should().Be(2);
    }

    [Fact]
    public async Task AddTokenHandler_WokeloAfterRevocation_RenewsWithTheRefreshGrant()
    {
        await using var server = await LocalServer.StartAsync(TimeSpan.FromHours(1));
        await using var container = Register(server, "Wokelo");
        var http = container.GetRequiredService<IHttpClientFactory>().CreateClient("api");

        (await http.GetStringAsync("greeting")).Should().Be("hello, holder of token #1");
        server.RevokeAll();
        (await http.GetStringAsync("greeting")).Should().Be("hello, holder of token #2");
        server.RevokeAll();
        server.RevokeRefreshTokens();
        (await http.GetStringAsync("greeting")).Should().Be("hello, holder of token #3");

        server.TokenLog.Should().Equal(
            "Wokelo: token #1 for the password grant as multipart form-data",
            "Wokelo: token #2 for the refresh grant as multipart form-data",
            "Wokelo: token #3 for the password grant as multipart form-data");
    }

    [Fact]
    public async Task AddTokenHandler_LoneWolfTenantPerRequest_OneTokenPerCustomerInstance()
    {
        await using var server = await LocalServer.StartAsync(TimeSpan.FromHours(1));
        await using var container = Register(server, "LoneWolf");
        var http = container.GetRequiredService<IHttpClientFactory>().CreateClient("api");

        foreach (var tenant in new[] { "office-1", "office-2", "office-1", "office-2" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "greeting").WithTokenTenant(tenant);
            using var response = await http.SendAsync(request);
            response.StatusCode.Should().Be(HttpStatusCode.OK);
        }

        server.TokenLog.Should().Equal("LoneWolf: token #1 for JSON for customer instance office-1", "LoneWolf: token #2 for JSON for customer instance office-2");
        server.ApiLog.Should().Equal("200 for token #1", "200 for token #2", "200 for token #1", "200 for token #2");
    }

    [Theory]
    [InlineData("Generic", HttpStatusCode.Unauthorized, "invalid_client")]
    [InlineData("LoneWolf", HttpStatusCode.Unauthorized, "access_denied")]
    [InlineData("Wll", HttpStatusCode.Unauthorized, "access_denied")]
    [InlineData("Apimw", HttpStatusCode.Unauthorized, "INVALID_CREDENTIALS")]
    [InlineData("Login3", HttpStatusCode.Unauthorized, "access_denied")]
    [InlineData("Wokelo", HttpStatusCode.Unauthorized, "invalid_client")]
    public async Task GetTokenAsync_WrongSecret_ThrowsTheProvidersErrorWithoutTheSecret(string provider, HttpStatusCode status, string error)
    {
        await using var server = await LocalServer.StartAsync(TimeSpan.FromHours(1));
        await using var container = Register(server, provider, o => o.ClientSecret = "wrong-secret");
        var client = container.GetRequiredKeyedService<ITokenClient>("local");

        var act = async () => await client.GetTokenAsync();

        var thrown = (await act.Should().ThrowAsync<TokenRequestException>()).Which;
        thrown.StatusCode.Should().Be(status);
        thrown.Error.Should().Be(error);
        thrown.IsTransient.Should().BeFalse();
        thrown.Message.Should().Contain("127.0.0.1").And.NotContain("wrong-secret");
    }

    private static ServiceProvider Register(LocalServer server, string provider, Action<TokenClientOptions>? configure = null) =>
        new TestServices(
            o =>
            {
                o.Provider = provider;
                o.ClientId = LocalServer.ClientId;
                o.ClientSecret = server.ClientSecret;
                o.Audience = provider == "Login3" ? "https://api.test" : null;
                o.Username = provider == "Wokelo" ? LocalServer.WokeloUsername : null;
                o.Password = provider == "Wokelo" ? LocalServer.WokeloPassword : null;
                configure?.Invoke(o);
            },
            s => s.AddHttpClient("api", c => c.BaseAddress = new Uri(server.BaseAddress, $"/api/{provider}/")).AddTokenHandler("local"),
            name: "local",
            time: TimeProvider.System,
            endpoint: server.TokenEndpoint(provider)).Provider;
}
