using System.Net;
using System.Text;
using TokenClient.Tests.TestSupport;

namespace TokenClient.Tests.Providers;

public class GenericShaperTests
{
    private const string AwkwardSecret = "a+b/c=:é %";

    [Fact]
    public async Task GetTokenAsync_BasicAuthentication_SendsFormAndEncodedBasicCredentials()
    {
        using var services = new TestServices(o =>
        {
            o.ClientId = "my client";
            o.ClientSecret = AwkwardSecret;
            o.Scope = "read write";
            o.Audience = "https://api.test";
            o.Resource = "urn:resource";
            o.Parameters["extra"] = "x&y";
        });

        await services.Client.GetTokenAsync();

        var request = services.TokenEndpoint.Requests.Should().ContainSingle().Subject;
        request.Method.Should().Be(HttpMethod.Post);
        request.Uri.Should().Be(TestServices.Endpoint);
        request.ContentType.Should().Be("application/x-www-form-urlencoded");
        request.Body.Should().Be("grant_type=client_credentials&scope=read+write&audience=https%3A%2F%2Fapi.test&resource=urn%3Aresource&extra=x%26y");
        var expected = Convert.ToBase64String(Encoding.UTF8.GetBytes("my+client:a%2Bb%2Fc%3D%3A%C3%A9+%25"));
        request.Header("Authorization").Should().Be($"Basic {expected}");
        request.Header("Accept").Should().Be("application/json");
    }

    [Fact]
    public async Task GetTokenAsync_BodyAuthentication_SendsCredentialsAsFormFieldsAndNoAuthorizationHeader()
    {
        using var services = new TestServices(o =>
        {
            o.ClientAuthentication = ClientAuthentication.Body;
            o.ClientSecret = AwkwardSecret;
        });

        await services.Client.GetTokenAsync();

        var request = services.TokenEndpoint.Requests.Should().ContainSingle().Subject;
        request.Body.Should().Be("grant_type=client_credentials&client_id=client-id&client_secret=a%2Bb%2Fc%3D%3A%C3%A9+%25");
        request.Header("Authorization").Should().BeNull();
        request.ContentType.Should().Be("application/x-www-form-urlencoded");
    }

    [Theory]
    [InlineData("3600", 3600)]
    [InlineData("\"3600\"", 3600)]
    [InlineData("90.5", 90.5)]
    public async Task GetTokenAsync_ExpiresInAsNumberOrNumericString_SetsExpiry(string expiresIn, double seconds)
    {
        using var services = new TestServices();
        services.TokenEndpoint.Respond = _ => Task.FromResult(FakeTokenEndpoint.Json(HttpStatusCode.OK,
            $$"""{"access_token":"abc","token_type":"BEARER","expires_in":{{expiresIn}},"scope":"read"}"""));

        var token = await services.Client.GetTokenAsync();

        token.Value.Should().Be("abc");
        token.TokenType.Should().Be("Bearer");
        token.Scope.Should().Be("read");
        token.ExpiresAt.Should().Be(services.Time.GetUtcNow() + TimeSpan.FromSeconds(seconds));
    }

    [Fact]
    public async Task GetTokenAsync_NoExpiresInAndJwt_UsesExpClaim()
    {
        using var services = new TestServices();
        var exp = services.Time.GetUtcNow().AddMinutes(20);
        var jwt = Jwt(exp.ToUnixTimeSeconds());
        services.TokenEndpoint.Respond = _ => Task.FromResult(FakeTokenEndpoint.Json(HttpStatusCode.OK, $$"""{"access_token":"{{jwt}}","token_type":"Bearer"}"""));

        var token = await services.Client.GetTokenAsync();

        token.ExpiresAt.Should().Be(exp);
    }

    [Fact]
    public async Task GetTokenAsync_JwtExpiringInCenturies_IsCappedAtTheLongestLifetime()
    {
        using var services = new TestServices();
        var jwt = Jwt(new DateTimeOffset(2999, 1, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeSeconds());
        services.TokenEndpoint.Respond = _ => Task.FromResult(FakeTokenEndpoint.Json(HttpStatusCode.OK, $$"""{"access_token":"{{jwt}}","token_type":"Bearer"}"""));

        var token = await services.Client.GetTokenAsync();

        token.ExpiresAt.Should().Be(services.Time.GetUtcNow().AddDays(365), "as for expires_in: a token is renewed at least once a year");
    }

    [Fact]
    public async Task GetTokenAsync_JwtExpiringWithinTheMinimumLifetime_UsesDefaultLifetime()
    {
        using var services = new TestServices(o => o.DefaultLifetime = TimeSpan.FromMinutes(7));
        var jwt = Jwt(services.Time.GetUtcNow().AddSeconds(1).ToUnixTimeSeconds());
        services.TokenEndpoint.Respond = _ => Task.FromResult(FakeTokenEndpoint.Json(HttpStatusCode.OK, $$"""{"access_token":"{{jwt}}","token_type":"Bearer"}"""));

        var token = await services.Client.GetTokenAsync();

        token.ExpiresAt.Should().Be(services.Time.GetUtcNow().AddMinutes(7), "an exp a second away says more about the server's clock than about the token");
    }

    [Fact]
    public async Task GetTokenAsync_NoExpiresInAndOpaqueToken_UsesDefaultLifetime()
    {
        using var services = new TestServices(o => o.DefaultLifetime = TimeSpan.FromMinutes(7));
        services.TokenEndpoint.Respond = _ => Task.FromResult(FakeTokenEndpoint.Json(HttpStatusCode.OK, """{"access_token":"opaque","token_type":"Bearer"}"""));

        var token = await services.Client.GetTokenAsync();

        token.ExpiresAt.Should().Be(services.Time.GetUtcNow() + TimeSpan.FromMinutes(7));
    }

    [Fact]
    public async Task GetTokenAsync_Rfc6749ErrorResponse_ThrowsWithErrorAndDescription()
    {
        using var services = new TestServices();
        services.TokenEndpoint.Respond = _ => Task.FromResult(FakeTokenEndpoint.Json(HttpStatusCode.BadRequest,
            """{"error":"invalid_scope","error_description":"The scope 'admin' is not allowed.","error_uri":"https://auth.test/errors"}"""));

        var act = async () => await services.Client.GetTokenAsync();

        var thrown = (await act.Should().ThrowAsync<TokenRequestException>()).Which;
        thrown.ClientName.Should().Be("test");
        thrown.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        thrown.Error.Should().Be("invalid_scope");
        thrown.ErrorDescription.Should().Be("The scope 'admin' is not allowed.");
        thrown.IsTransient.Should().BeFalse();
        thrown.Message.Should().Contain("'test'").And.Contain("auth.test").And.Contain("400").And.Contain("invalid_scope");
    }

    [Fact]
    public async Task GetTokenAsync_ServerErrorWithHtml_ThrowsTransientWithoutOAuthError()
    {
        using var services = new TestServices();
        services.TokenEndpoint.Respond = _ => Task.FromResult(new HttpResponseMessage(HttpStatusCode.BadGateway)
        {
            Content = new StringContent("<html><body>Bad gateway</body></html>", Encoding.UTF8, "text/html"),
        });

        var act = async () => await services.Client.GetTokenAsync();

        var thrown = (await act.Should().ThrowAsync<TokenRequestException>()).Which;
        thrown.StatusCode.Should().Be(HttpStatusCode.BadGateway);
        thrown.Error.Should().BeNull();
        thrown.IsTransient.Should().BeTrue();
        thrown.Message.Should().Contain("502");
    }

    [Theory]
    [InlineData("""{"token_type":"Bearer","expires_in":60}""", "no access_token", true)]
    [InlineData("""{"access_token":"abc","token_type":"mac","expires_in":60}""", "token_type 'mac'", false)]
    [InlineData("""{"access_token":"abc","expires_in":-5}""", "expires_in must be a positive", false)]
    [InlineData("""{"access_token":"abc","expires_in":1e-300}""", "below the minimum lifetime", false)]
    [InlineData("""{"access_token":"secret-token-value\n","expires_in":60}""", "access_token has a character", false)]
    [InlineData("""{"access_token":"abc","expires_in":"soon"}""", "$.expires_in", true)]
    [InlineData("""[1,2]""", "not a JSON object", true)]
    [InlineData("""{"access_token":"secret-token-value","expires_in":""", "not valid JSON", true)]
    public async Task GetTokenAsync_UnusableSuccessBody_ThrowsNamingTheProblemWithoutQuotingTheBody(string body, string problem, bool transient)
    {
        using var services = new TestServices();
        services.TokenEndpoint.Respond = _ => Task.FromResult(FakeTokenEndpoint.Json(HttpStatusCode.OK, body));

        var act = async () => await services.Client.GetTokenAsync();

        var thrown = (await act.Should().ThrowAsync<TokenRequestException>()).Which;
        thrown.Message.Should().Contain(problem).And.NotContain("secret-token-value");
        thrown.StatusCode.Should().Be(HttpStatusCode.OK);
        thrown.IsTransient.Should().Be(transient, "a body that cannot be read may be whole next time; a token that was read and refused will not change");
    }

    private static string Jwt(long exp)
    {
        static string Encode(string json) => Convert.ToBase64String(Encoding.UTF8.GetBytes(json)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        return $"{Encode("""{"alg":"none"}""")}.{Encode($$"""{"sub":"x","exp":{{exp}}}""")}.sig";
    }
}
