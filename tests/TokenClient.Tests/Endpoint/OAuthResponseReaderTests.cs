using System.Net;
using System.Net.Http.Headers;
using System.Text;
using TokenClient.Credentials;
using TokenClient.Endpoint;

namespace TokenClient.Tests.Endpoint;

/// <summary>The reading of token responses at its edges: lifetimes at their limits, statuses at the edges of success, bodies that are almost right.</summary>
public class OAuthResponseReaderTests
{
    private static readonly DateTimeOffset Now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly TokenClientOptions Options = new() { ClientId = "id", ClientSecret = "reader-secret", DefaultLifetime = TimeSpan.FromMinutes(7) };
    private static readonly TokenRequestContext Context = RequestContexts.For("reader", Options, new Uri("https://auth.test/token"));

    [Theory]
    [InlineData("2", 2)]
    [InlineData("31536000", 31536000)] // 365 days exactly
    [InlineData("31536001", 31536000)] // a second more is capped
    [InlineData("1e12", 31536000)]
    [InlineData("31535999", 31535999)]
    public void ExpiresIn_AtTheLimits_IsKeptOrCapped(string expiresIn, double seconds) =>
        Read(HttpStatusCode.OK, $$"""{"access_token":"abc","expires_in":{{expiresIn}}}""").Lifetime.Should().Be(TimeSpan.FromSeconds(seconds));

    [Theory]
    [InlineData("1.999", "expires_in of 1.999 s is below the minimum lifetime of 2 s")]
    [InlineData("0", "expires_in must be a positive number of seconds, not 0")]
    [InlineData("-1", "expires_in must be a positive number of seconds, not -1")]
    public void ExpiresIn_BelowTheMinimum_IsRefusedAndNotTransient(string expiresIn, string problem)
    {
        var act = () => Read(HttpStatusCode.OK, $$"""{"access_token":"abc","expires_in":{{expiresIn}}}""");

        var thrown = act.Should().Throw<TokenRequestException>().Which;
        thrown.Message.Should().Contain(problem);
        thrown.IsTransient.Should().BeFalse();
    }

    [Theory]
    [InlineData(200)]
    [InlineData(201)]
    [InlineData(299)]
    public void SuccessStatuses_FromTwoHundredToTwoNinetyNine_AreRead(int status) =>
        Read((HttpStatusCode)status, """{"access_token":"abc"}""").Token.Value.Should().Be("abc");

    [Theory]
    [InlineData(199)]
    [InlineData(300)]
    [InlineData(400)]
    public void OtherStatuses_WithATokenInTheBody_AreFailures(int status)
    {
        var act = () => Read((HttpStatusCode)status, """{"access_token":"abc"}""");

        act.Should().Throw<TokenRequestException>().Which.StatusCode.Should().Be((HttpStatusCode)status);
    }

    [Fact]
    public void ErrorField_OnASuccessStatus_IsAnOAuthError()
    {
        var act = () => Read(HttpStatusCode.OK, """{"access_token":"abc","error":"invalid_scope","error_description":"no"}""");

        var thrown = act.Should().Throw<TokenRequestException>().Which;
        thrown.Error.Should().Be("invalid_scope");
        thrown.ErrorDescription.Should().Be("no");
    }

    [Fact]
    public void FailureStatus_WithAnEmptyErrorField_IsReportedByItsStatus()
    {
        var act = () => Read(HttpStatusCode.BadRequest, """{"error":""}""");

        var thrown = act.Should().Throw<TokenRequestException>().Which;
        thrown.Error.Should().BeNull();
        thrown.Message.Should().Contain("HTTP 400 (BadRequest), and a body that is not an OAuth error");
    }

    [Theory]
    [InlineData("Bearer")]
    [InlineData("bearer")]
    [InlineData("BEARER")]
    public void TokenType_BearerInAnyCase_IsAccepted(string type) =>
        Read(HttpStatusCode.OK, $$"""{"access_token":"abc","token_type":"{{type}}"}""").Token.Value.Should().Be("abc");

    [Theory]
    [InlineData("", "the response body is empty")]
    [InlineData("null", "the response body is JSON null")]
    [InlineData("{} {}", "the response body is not valid JSON (malformed, truncated or more than one value)")]
    [InlineData("{\"access_token\":5}", "the response field $.access_token has an unexpected value")]
    [InlineData("\"text\"", "the response body is not a JSON object")]
    [InlineData("{\"access_token\":\"abc\"", "the response body is not valid JSON (malformed, truncated or more than one value)")]
    [InlineData("{\"scope\":\"x\"}", "the response has no access_token")]
    [InlineData("{\"access_token\":\"\"}", "the response has no access_token")]
    public void UnreadableBody_IsTransientAndSaysWhy(string body, string problem)
    {
        var act = () => Read(HttpStatusCode.OK, body);

        var thrown = act.Should().Throw<TokenRequestException>().Which;
        thrown.Message.Should().EndWith($"HTTP 200 (OK), {problem}.");
        thrown.IsTransient.Should().BeTrue();
    }

    [Theory]
    [InlineData(2, 2)] // exactly the minimum: used
    [InlineData(1, 7 * 60)] // under it: the default lifetime
    [InlineData(365 * 86400, 365 * 86400)] // exactly the maximum: used
    [InlineData(365 * 86400 + 1, 365 * 86400)] // past it: capped
    public void JwtExp_WithoutExpiresIn_BoundsTheLifetime(long expInSeconds, double expected)
    {
        var jwt = $"e30.{Base64Url($$"""{"exp":{{Now.ToUnixTimeSeconds() + expInSeconds}}}""")}.sig";

        TokenLifetime.ExpiresAt(jwt, null, Now, Options.DefaultLifetime).Should().Be(Now.AddSeconds(expected));
    }

    [Fact]
    public void ExpiresIn_WinsOverTheJwtExp() =>
        TokenLifetime.ExpiresAt($"e30.{Base64Url($$"""{"exp":{{Now.ToUnixTimeSeconds() + 100}}}""")}.sig", TimeSpan.FromSeconds(60), Now, Options.DefaultLifetime)
            .Should().Be(Now.AddSeconds(60));

    [Fact]
    public void RetryAfter_InSecondsOrAsADate_CountsFromTheAnswer()
    {
        Answer(null).RetryDelay.Should().BeNull();
        Answer(new RetryConditionHeaderValue(TimeSpan.FromSeconds(7))).RetryDelay.Should().Be(TimeSpan.FromSeconds(7));
        Answer(new RetryConditionHeaderValue(Now.AddSeconds(12))).RetryDelay.Should().Be(TimeSpan.FromSeconds(12));
        Answer(new RetryConditionHeaderValue(Now.AddSeconds(-30))).RetryDelay.Should().Be(TimeSpan.Zero, "a date already past means: now");
        Answer(new RetryConditionHeaderValue(Now)).RetryDelay.Should().Be(TimeSpan.Zero);
    }

    private static Answer Answer(RetryConditionHeaderValue? retryAfter) => new(HttpStatusCode.TooManyRequests, retryAfter, [], Now, 0, 0);

    private static TokenClient.Caching.IssuedToken Read(HttpStatusCode status, string body) =>
        OAuthResponseReader.Read(Context, new Answer(status, null, Encoding.UTF8.GetBytes(body), Now, 0, 0));

    private static string Base64Url(string json) => Convert.ToBase64String(Encoding.UTF8.GetBytes(json)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
