using System.Net;
using Microsoft.Extensions.DependencyInjection;
using TokenClient.Tests.TestSupport;

namespace TokenClient.Tests.Providers;

public class LoneWolfShaperTests
{
    [Fact]
    public async Task GetTokenAsync_SendsJsonWithFixedAudience()
    {
        using var services = ProviderAssertions.ForProvider("LoneWolf", o => o.ClientSecret = "a+b/é");

        await services.Client.GetTokenAsync();

        var request = services.TokenEndpoint.ShouldBeTheOnlyRequest(
            "https://gateway.lwolf.com/oauth/token", "application/json",
            ("grant_type", "client_credentials"), ("client_id", "client-id"), ("client_secret", "a+b/é"), ("audience", "https://api.lwolf.com"));
        request.ContentType.Should().Be("application/json");
        request.Body.Should().Be("""{"grant_type":"client_credentials","client_id":"client-id","client_secret":"a+b/é","audience":"https://api.lwolf.com"}""");
    }

    [Fact]
    public async Task GetTokenAsync_WithTenant_SendsLwtClientId()
    {
        using var services = ProviderAssertions.ForProvider("LoneWolf", o => o.Tenant = "customer-7");

        await services.Client.GetTokenAsync();

        services.TokenEndpoint.ShouldBeTheOnlyRequest(
            "https://gateway.lwolf.com/oauth/token", "application/json",
            ("grant_type", "client_credentials"), ("client_id", "client-id"), ("client_secret", "client-secret"),
            ("audience", "https://api.lwolf.com"), ("lwt_client_id", "customer-7"));
    }

    [Fact]
    public async Task GetTokenAsync_DocumentedSuccess_LastsItsExpiresIn()
    {
        using var services = ProviderAssertions.ForProvider("LoneWolf");

        var token = await services.TokenFor("""{"access_token":"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.x.y","token_type":"Bearer","expires_in":86400}""");

        token.Value.Should().Be("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.x.y");
        token.ExpiresAt.Should().Be(services.Time.GetUtcNow().AddSeconds(86400));
    }

    [Theory]
    [InlineData(HttpStatusCode.BadRequest, """{"error":"invalid_request","error_description":"Missing audience"}""", "invalid_request", "Missing audience", false)]
    [InlineData(HttpStatusCode.Unauthorized, """{"error":"access_denied","error_description":"Unauthorized"}""", "access_denied", "Unauthorized", false)]
    [InlineData(HttpStatusCode.TooManyRequests, """{"error":"too_many_requests","error_description":"Rate limit exceeded"}""", "too_many_requests", "Rate limit exceeded", true)]
    [InlineData(HttpStatusCode.TooManyRequests, "", null, null, true)]
    public async Task GetTokenAsync_DocumentedError_ThrowsWithStatusAndError(HttpStatusCode status, string body, string? error, string? description, bool transient)
    {
        using var services = ProviderAssertions.ForProvider("LoneWolf");

        var thrown = await services.FailureFor(status, body);

        thrown.ShouldBe(status, error, description, transient);
    }

    [Fact]
    public async Task GetClient_TwoTenants_TwoTokensAndTwoCacheEntries()
    {
        using var services = ProviderAssertions.ForProvider("LoneWolf");
        var factory = services.Provider.GetRequiredService<ITokenClientFactory>();

        var a = await factory.GetClient(TestServices.ClientName, "tenant-a").GetTokenAsync();
        var b = await factory.GetClient(TestServices.ClientName, "tenant-b").GetTokenAsync();
        var aAgain = await factory.GetClient(TestServices.ClientName, "tenant-a").GetTokenAsync();

        a.Value.Should().NotBe(b.Value);
        aAgain.Should().BeSameAs(a);
        services.TokenEndpoint.Requests.Select(r => r.Fields.Single(f => f.Key == "lwt_client_id").Value).Should().Equal("tenant-a", "tenant-b");
    }

    [Fact]
    public async Task GetClient_TenantOfTheCall_WinsOverTheConfiguredOne()
    {
        using var services = ProviderAssertions.ForProvider("LoneWolf", o => o.Tenant = "configured");
        var factory = services.Provider.GetRequiredService<ITokenClientFactory>();

        await factory.GetClient(TestServices.ClientName).GetTokenAsync();
        await factory.GetClient(TestServices.ClientName, "of-the-call").GetTokenAsync();

        services.TokenEndpoint.Requests.Select(r => r.Fields.Single(f => f.Key == "lwt_client_id").Value).Should().Equal("configured", "of-the-call");
    }
}
