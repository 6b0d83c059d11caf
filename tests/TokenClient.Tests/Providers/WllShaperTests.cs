using System.Net;
using TokenClient.Tests.TestSupport;

namespace TokenClient.Tests.Providers;

public class WllShaperTests
{
    [Theory]
    [InlineData(null, null, null, "https://auth.wlloyalty.net/oauth/token", "wlloyalty.net")]
    [InlineData(WllRegion.US, WllEnvironment.Staging, null, "https://auth.us.wlloyalty.net/oauth/token", "staging.wlloyalty.net")]
    [InlineData(WllRegion.GCC, WllEnvironment.Production, null, "https://auth.me.wlloyalty.net/oauth/token", "production.wlloyalty.net")]
    [InlineData(WllRegion.EU, WllEnvironment.Production, "custom.audience", "https://auth.wlloyalty.net/oauth/token", "custom.audience")]
    public async Task GetTokenAsync_RegionPicksEndpointAndEnvironmentPicksAudience(
        WllRegion? region, WllEnvironment? environment, string? audience, string endpoint, string expectedAudience)
    {
        using var services = ProviderAssertions.ForProvider("Wll", o =>
        {
            o.Region = region ?? o.Region;
            o.Environment = environment ?? o.Environment;
            o.Audience = audience;
        });

        await services.Client.GetTokenAsync();

        var request = services.TokenEndpoint.ShouldBeTheOnlyRequest(
            endpoint, "application/json",
            ("client_id", "client-id"), ("client_secret", "client-secret"), ("audience", expectedAudience), ("grant_type", "client_credentials"));
        request.ContentType.Should().Be("application/json");
    }

    [Fact]
    public async Task GetTokenAsync_DocumentedSuccess_LastsTwentyFourHours()
    {
        using var services = ProviderAssertions.ForProvider("Wll");

        var token = await services.TokenFor("""{"access_token":"wll-token","token_type":"Bearer","expires_in":86400}""");

        token.ExpiresAt.Should().Be(services.Time.GetUtcNow().AddHours(24));
    }

    [Theory]
    [InlineData(HttpStatusCode.Unauthorized, """{"error":"access_denied","error_description":"Unauthorized"}""", "access_denied", "Unauthorized", false)]
    [InlineData(HttpStatusCode.Forbidden, """{"error":"access_denied","error_description":"Client is not authorized to access \"production.wlloyalty.net\"."}""", "access_denied", "Client is not authorized to access \"production.wlloyalty.net\".", false)]
    [InlineData(HttpStatusCode.TooManyRequests, """{"error":"too_many_requests","error_description":"Global limit has been reached"}""", "too_many_requests", "Global limit has been reached", true)]
    public async Task GetTokenAsync_Error_ThrowsWithStatusAndError(HttpStatusCode status, string body, string error, string description, bool transient)
    {
        using var services = ProviderAssertions.ForProvider("Wll");

        var thrown = await services.FailureFor(status, body);

        thrown.ShouldBe(status, error, description, transient);
    }
}
