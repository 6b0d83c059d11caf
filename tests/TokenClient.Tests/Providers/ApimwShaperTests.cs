using System.Net;
using TokenClient.Tests.TestSupport;

namespace TokenClient.Tests.Providers;

public class ApimwShaperTests
{
    [Fact]
    public async Task GetTokenAsync_SendsKeyAndSecretOnly()
    {
        using var services = ProviderAssertions.ForProvider("Apimw", o =>
        {
            o.ClientId = "ak_live_abc123xyz";
            o.ClientSecret = "sk_live_secret456";
        });
        services.TokenEndpoint.Respond = _ => Task.FromResult(FakeTokenEndpoint.Json(HttpStatusCode.OK,
            """{"success":true,"data":{"access_token":"t","token_type":"Bearer","expires_in":3600}}"""));

        await services.Client.GetTokenAsync();

        var request = services.TokenEndpoint.ShouldBeTheOnlyRequest(
            "https://api.apimw.com/v1/auth/token", "application/json", ("api_key", "ak_live_abc123xyz"), ("api_secret", "sk_live_secret456"));
        request.Body.Should().Be("""{"api_key":"ak_live_abc123xyz","api_secret":"sk_live_secret456"}""");
    }

    [Fact]
    public async Task GetTokenAsync_DocumentedEnvelope_UnwrapsTheToken()
    {
        using var services = ProviderAssertions.ForProvider("Apimw");

        var token = await services.TokenFor("""
            {"success": true, "data": {"access_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.a.b", "token_type": "Bearer", "expires_in": 3600, "refresh_token": "rt_abc123xyz456"}}
            """);

        token.Value.Should().Be("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.a.b");
        token.ExpiresAt.Should().Be(services.Time.GetUtcNow().AddHours(1));
    }

    [Theory]
    [InlineData(HttpStatusCode.Unauthorized)]
    [InlineData(HttpStatusCode.OK)]
    public async Task GetTokenAsync_ErrorEnvelope_ThrowsWithCodeAndMessage(HttpStatusCode status)
    {
        using var services = ProviderAssertions.ForProvider("Apimw");

        var thrown = await services.FailureFor(status,
            """{"success": false, "error": {"code": "INVALID_CREDENTIALS", "message": "Invalid API Key or Secret"}}""");

        thrown.ShouldBe(status, "INVALID_CREDENTIALS", "Invalid API Key or Secret", transient: false);
        thrown.Message.Should().Contain("INVALID_CREDENTIALS").And.Contain("api.apimw.com");
    }

    [Theory]
    [InlineData("""{"success": false}""", "success is not true")]
    [InlineData("""{"success": true}""", "no data")]
    [InlineData("""{"access_token": "bare", "expires_in": 60}""", "success is not true")]
    public async Task GetTokenAsync_OkWithoutAUsableEnvelope_IsAnErrorNotAToken(string body, string problem)
    {
        using var services = ProviderAssertions.ForProvider("Apimw");

        var thrown = await services.FailureFor(HttpStatusCode.OK, body);

        thrown.Message.Should().Contain(problem);
        thrown.StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task GetTokenAsync_ServerErrorWithoutEnvelope_IsTransient()
    {
        using var services = ProviderAssertions.ForProvider("Apimw");

        var thrown = await services.FailureFor(HttpStatusCode.ServiceUnavailable, "");

        thrown.ShouldBe(HttpStatusCode.ServiceUnavailable, null, null, transient: true);
    }
}
