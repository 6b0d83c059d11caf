using System.Net;
using TokenClient.Tests.TestSupport;

namespace TokenClient.Tests.Providers;

public class Login3ShaperTests
{
    [Fact]
    public async Task GetTokenAsync_SendsFormToDomainWithAudienceAndOrganization()
    {
        using var services = ProviderAssertions.ForProvider("Login3", o =>
        {
            o.Domain = "login.example.test";
            o.Audience = "https://orders.example.test";
            o.Tenant = "org_123";
        });

        await services.Client.GetTokenAsync();

        var request = services.TokenEndpoint.ShouldBeTheOnlyRequest(
            "https://login.example.test/oauth/token", "application/x-www-form-urlencoded",
            ("grant_type", "client_credentials"), ("client_id", "client-id"), ("client_secret", "client-secret"),
            ("audience", "https://orders.example.test"), ("organization", "org_123"));
        request.Body.Should().Be("grant_type=client_credentials&client_id=client-id&client_secret=client-secret&audience=https%3A%2F%2Forders.example.test&organization=org_123");
    }

    [Fact]
    public async Task GetTokenAsync_WithoutTenant_SendsNoOrganization()
    {
        using var services = Login3();

        await services.Client.GetTokenAsync();

        services.TokenEndpoint.ShouldBeTheOnlyRequest(
            "https://login.example.test/oauth/token", "application/x-www-form-urlencoded",
            ("grant_type", "client_credentials"), ("client_id", "client-id"), ("client_secret", "client-secret"), ("audience", "api"));
    }

    [Fact]
    public async Task GetTokenAsync_DocumentedSuccess_LastsItsExpiresIn()
    {
        using var services = Login3();

        var token = await services.TokenFor("""{"access_token":"eyJz93a...k4laUWw","token_type":"Bearer","expires_in":86400}""");

        token.Value.Should().Be("eyJz93a...k4laUWw");
        token.ExpiresAt.Should().Be(services.Time.GetUtcNow().AddSeconds(86400));
    }

    [Theory]
    [InlineData(HttpStatusCode.Unauthorized, """{"error":"access_denied","error_description":"Unauthorized"}""", "access_denied", "Unauthorized")]
    [InlineData(HttpStatusCode.Forbidden, """{"error":"unauthorized_client","error_description":"Client is not authorized to access this API"}""", "unauthorized_client", "Client is not authorized to access this API")]
    public async Task GetTokenAsync_Error_ThrowsWithStatusAndError(HttpStatusCode status, string body, string error, string description)
    {
        using var services = Login3();

        var thrown = await services.FailureFor(status, body);

        thrown.ShouldBe(status, error, description, transient: false);
    }

    private static TestServices Login3() => ProviderAssertions.ForProvider("Login3", o =>
    {
        o.Domain = "login.example.test";
        o.Audience = "api";
    });
}
