using System.Net;
using TokenClient.Caching;
using TokenClient.Tests.TestSupport;

namespace TokenClient.Tests.Providers;

public class WokeloShaperTests
{
    private const double Lifetime = 2628288;

    [Fact]
    public async Task GetTokenAsync_First_SendsPasswordGrantAsMultipartFormData()
    {
        using var services = Wokelo();

        await services.Client.GetTokenAsync();

        var request = services.TokenEndpoint.ShouldBeTheOnlyRequest(
            "https://api.wokelo.ai/auth/token/", "multipart/form-data; boundary=",
            ("client_id", "client-id"), ("client_secret", "client-secret"), ("username", "sam@abconsulting.com"),
            ("password", "p@ss word"), ("grant_type", "password"));
        request.ContentType.Should().StartWith("multipart/form-data; boundary=");
    }

    [Fact]
    public async Task GetTokenAsync_DocumentedSuccess_ParsesTokenScopeAndLifetime()
    {
        using var services = Wokelo();

        var token = await services.TokenFor(Response("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.w.t", "eyJ.refresh.1"));

        token.Value.Should().Be("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.w.t");
        token.Scope.Should().Be("read write");
        token.ExpiresAt.Should().Be(services.Time.GetUtcNow().AddSeconds(Lifetime));
    }

    [Fact]
    public async Task GetTokenAsync_AtRenewal_UsesTheNewestRefreshToken()
    {
        using var services = Wokelo();
        services.TokenEndpoint.Respond = n => Task.FromResult(FakeTokenEndpoint.Json(HttpStatusCode.OK, Response($"access-{n}", $"refresh-{n}")));
        var client = services.Client.Cache();

        await client.GetTokenAsync();
        await RenewAsync(services, client);
        await RenewAsync(services, client);

        var requests = services.TokenEndpoint.Requests.ToArray();
        requests.Select(r => Field(r, "grant_type")).Should().Equal("password", "refresh_token", "refresh_token");
        requests.Select(r => Field(r, "refresh_token")).Should().Equal(null, "refresh-1", "refresh-2");
        requests[1].Fields.Should().Equal(
            new("grant_type", "refresh_token"), new("refresh_token", "refresh-1"),
            new KeyValuePair<string, string>("client_id", "client-id"), new("client_secret", "client-secret"));
        (await client.GetTokenAsync()).Value.Should().Be("access-3");
    }

    [Fact]
    public async Task GetTokenAsync_RefreshTokenRefused_FallsBackToPasswordGrantOnce()
    {
        using var services = Wokelo();
        services.TokenEndpoint.Respond = n => Task.FromResult(n == 2
            ? FakeTokenEndpoint.Json(HttpStatusCode.BadRequest, """{"error":"invalid_grant","error_description":"Token is invalid or expired"}""")
            : FakeTokenEndpoint.Json(HttpStatusCode.OK, Response($"access-{n}", $"refresh-{n}")));
        var client = services.Client.Cache();

        await client.GetTokenAsync();
        await RenewAsync(services, client);

        services.TokenEndpoint.Requests.Select(r => Field(r, "grant_type")).Should().Equal("password", "refresh_token", "password");
        (await client.GetTokenAsync()).Value.Should().Be("access-3");
    }

    [Fact]
    public async Task GetTokenAsync_RefreshAndPasswordBothRefused_FailsWithoutLooping()
    {
        using var services = Wokelo();
        services.TokenEndpoint.Respond = n => Task.FromResult(n == 1
            ? FakeTokenEndpoint.Json(HttpStatusCode.OK, Response("access-1", "refresh-1"))
            : FakeTokenEndpoint.Json(HttpStatusCode.BadRequest, """{"error":"invalid_grant","error_description":"Invalid credentials given."}"""));
        var client = services.Client;
        await client.GetTokenAsync();

        services.Time.Advance(TimeSpan.FromSeconds(Lifetime + 1));
        var act = async () => await client.GetTokenAsync();

        var thrown = (await act.Should().ThrowAsync<TokenRequestException>()).Which;
        thrown.ShouldBe(HttpStatusCode.BadRequest, "invalid_grant", "Invalid credentials given.", transient: false);
        services.TokenEndpoint.Requests.Select(r => Field(r, "grant_type")).Should().Equal("password", "refresh_token", "password");
    }

    [Theory]
    [InlineData(HttpStatusCode.BadRequest, """{"error":"invalid_grant","error_description":"Invalid credentials given."}""", "invalid_grant", "Invalid credentials given.")]
    [InlineData(HttpStatusCode.Unauthorized, """{"error":"invalid_client","error_description":"Client authentication failed"}""", "invalid_client", "Client authentication failed")]
    public async Task GetTokenAsync_Error_ThrowsWithStatusAndError(HttpStatusCode status, string body, string error, string description)
    {
        using var services = Wokelo();

        var thrown = await services.FailureFor(status, body);

        thrown.ShouldBe(status, error, description, transient: false);
        thrown.Message.Should().NotContain("p@ss word");
    }

    private static TestServices Wokelo() => ProviderAssertions.ForProvider("Wokelo", o =>
    {
        o.Username = "sam@abconsulting.com";
        o.Password = "p@ss word";
    });

    private static string Response(string access, string refresh) =>
        $$"""{"access_token":"{{access}}","expires_in":{{Lifetime}},"token_type":"Bearer","scope":"read write","refresh_token":"{{refresh}}"}""";

    private static string? Field(RecordedRequest request, string name) =>
        request.Fields.Where(f => f.Key == name).Select(f => f.Value).SingleOrDefault();

    // Moves past the renewal point and waits for the background renewal to finish.
    private static async Task RenewAsync(TestServices services, CachingTokenClient client)
    {
        services.Time.Advance(TimeSpan.FromSeconds(Lifetime * 0.95));
        await client.GetTokenAsync();
        var renewal = client.PendingAcquisition;
        if (renewal is not null)
        {
            await renewal;
        }
    }
}
