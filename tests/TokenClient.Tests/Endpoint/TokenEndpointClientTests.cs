using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using TokenClient.Endpoint;
using TokenClient.Tests.TestSupport;

namespace TokenClient.Tests.Endpoint;

/// <summary>What the endpoint client decides around each request: what it carries over a configuration change, what it remembers, when and how it retries.</summary>
[Collection(nameof(DrivenTimeCollection))]
public class TokenEndpointClientTests
{
    private static readonly Action<TokenClientOptions> Wokelo = o =>
    {
        o.Provider = "Wokelo";
        o.TokenEndpoint = null;
        o.Username = "sam@example.test";
        o.Password = "pw";
    };

    [Fact]
    public async Task ConfigurationChanged_TheIssuedTokensAreStillRedacted_AndTheCooldownKeepsItsCap()
    {
        var configuration = TestServices.Settings(("FailureCooldown", "00:05:00"));
        var logs = new CapturingLoggerProvider();
        using var services = new TestServices(configuration: configuration, logs: logs);
        services.TokenEndpoint.Respond = n => Task.FromResult(n == 1
            ? FakeTokenEndpoint.Token("issued-before-the-change", 60)
            : FakeTokenEndpoint.Json(HttpStatusCode.BadRequest, """{"error":"invalid_client","error_description":"old token issued-before-the-change refused"}"""));
        var client = services.Client;
        var token = await client.GetTokenAsync();

        configuration["MaxRetries"] = "1"; // not part of the token's identity: what was issued stands
        configuration.Reload();
        client.Invalidate(token);
        var failure = await client.FailureAsync();

        failure.ErrorDescription.Should().Be("old token [redacted] refused");
        services.Time.Advance(TimeSpan.FromSeconds(5.9));
        (await client.FailureAsync()).InnerException!.Message.Should().Be(failure.Message, "within a tenth of the 60 s lifetime: repeated");
        logs.Lines.Should().Contain(l => l.Id.Name == "FailureRepeated");
        services.Time.Advance(TimeSpan.FromSeconds(0.1));
        (await client.FailureAsync()).InnerException.Should().BeNull("a 6 s cooldown, not the configured 5 minutes: a new request's failure");
        services.TokenEndpoint.RequestCount.Should().Be(3);
    }

    [Fact]
    public async Task GenericProvider_RefreshTokenInTheResponse_IsNeverSentBack()
    {
        using var services = new TestServices();
        services.TokenEndpoint.Respond = n => Task.FromResult(FakeTokenEndpoint.Json(HttpStatusCode.OK,
            $$"""{"access_token":"token-{{n}}","refresh_token":"refresh-{{n}}","token_type":"Bearer","expires_in":3600}"""));
        var client = services.Client;

        client.Invalidate(await client.GetTokenAsync());
        await client.GetTokenAsync();

        services.TokenEndpoint.Requests.Last().Fields.Should().Contain(new KeyValuePair<string, string>("grant_type", "client_credentials"))
            .And.NotContain(f => f.Key == "refresh_token");
    }

    [Fact]
    public async Task WokeloRefreshTokenRefused_FallsBackToThePasswordGrant_AndSaysSo()
    {
        var logs = new CapturingLoggerProvider();
        using var services = new TestServices(Wokelo, logs: logs);
        services.TokenEndpoint.Respond = n => Task.FromResult(n == 2
            ? FakeTokenEndpoint.Json(HttpStatusCode.BadRequest, """{"error":"invalid_grant"}""")
            : FakeTokenEndpoint.Json(HttpStatusCode.OK, $$"""{"access_token":"token-{{n}}","refresh_token":"refresh-{{n}}","token_type":"Bearer","expires_in":3600}"""));
        var client = services.Client;

        client.Invalidate(await client.GetTokenAsync());
        (await client.GetTokenAsync()).Value.Should().Be("token-3");

        services.TokenEndpoint.Requests.Select(r => r.Fields.First(f => f.Key == "grant_type").Value).Should().Equal("password", "refresh_token", "password");
        logs.Lines.Should().ContainSingle(l => l.Id.Name == "RefreshTokenRefused");
    }

    [Fact]
    public async Task WokeloAnswerWithoutARefreshToken_KeepsTheOneItHad()
    {
        using var services = new TestServices(Wokelo);
        services.TokenEndpoint.Respond = n => Task.FromResult(FakeTokenEndpoint.Json(HttpStatusCode.OK, n == 1
            ? """{"access_token":"token-1","refresh_token":"refresh-1","token_type":"Bearer","expires_in":3600}"""
            : $$"""{"access_token":"token-{{n}}","token_type":"Bearer","expires_in":3600}"""));
        var client = services.Client;

        client.Invalidate(await client.GetTokenAsync());
        client.Invalidate(await client.GetTokenAsync()); // renewed with refresh-1; the answer carries no new one
        await client.GetTokenAsync();

        services.TokenEndpoint.Requests.Select(r => r.Fields.FirstOrDefault(f => f.Key == "refresh_token").Value).Should().Equal(null, "refresh-1", "refresh-1");
    }

    [Fact]
    public async Task AttemptThatTimedOut_IsRetriedAndLoggedAsSuch()
    {
        var logs = new CapturingLoggerProvider();
        using var services = new TestServices(
            o =>
            {
                o.MaxRetries = 1;
                o.AttemptTimeout = TimeSpan.FromSeconds(1);
            },
            logs: logs);
        services.TokenEndpoint.RespondWith = async (n, ct) =>
        {
            if (n == 1)
            {
                await Task.Delay(Timeout.Infinite, ct);
            }

            return FakeTokenEndpoint.Token("second-try", 3600);
        };

        var token = await services.Time.DriveAsync(services.Client.GetTokenAsync().AsTask(), TimeSpan.FromMilliseconds(100));

        token.Value.Should().Be("second-try");
        logs.Lines.Should().ContainSingle(l => l.Id.Name == "RetryingTokenRequest").Which.Text.Should()
            .Contain("after: the attempt timed out Polly.Timeout.TimeoutRejectedException:", "the log carries the exception too");
    }

    [Fact]
    public async Task IssuedToken_EchoedInALaterError_IsRedacted()
    {
        using var services = new TestServices();
        services.TokenEndpoint.Respond = n => Task.FromResult(n == 1
            ? FakeTokenEndpoint.Token("issued-3f9a8b7c", 3600)
            : FakeTokenEndpoint.Json(HttpStatusCode.Unauthorized, """{"error":"invalid_client","error_description":"issued-3f9a8b7c was revoked"}"""));
        var client = services.Client;

        client.Invalidate(await client.GetTokenAsync());
        var failure = await client.FailureAsync();

        failure.ErrorDescription.Should().Be("[redacted] was revoked");
    }

    [Fact]
    public async Task RetriesOfDifferentFailures_GiveUpNamingTheLastOne()
    {
        using var services = new TestServices(o =>
        {
            o.MaxRetries = 10;
            o.RetryDelay = TimeSpan.FromSeconds(1);
            o.TotalTimeout = TimeSpan.FromSeconds(10);
            o.AttemptTimeout = TimeSpan.FromSeconds(1);
        });
        services.TokenEndpoint.Respond = n => Task.FromResult(n == 1
            ? FakeTokenEndpoint.Json(HttpStatusCode.ServiceUnavailable, "first")
            : FakeTokenEndpoint.Json(HttpStatusCode.BadGateway, "later"));

        var act = () => services.Time.DriveAsync(services.Client.GetTokenAsync().AsTask(), TimeSpan.FromMilliseconds(100));

        var thrown = (await act.Should().ThrowAsync<TokenRequestException>()).Which;
        thrown.StatusCode.Should().Be(HttpStatusCode.BadGateway);
        thrown.Message.Should().Contain("\"later\"").And.NotContain("\"first\"");
    }

    [Fact]
    public async Task RetryAfterExactlyTheMaximumDelay_IsWaitedFor()
    {
        using var services = new TestServices(o =>
        {
            o.MaxRetries = 1;
            o.MaxRetryDelay = TimeSpan.FromSeconds(20);
        });
        services.TokenEndpoint.Respond = n =>
        {
            var response = n == 1 ? new HttpResponseMessage(HttpStatusCode.TooManyRequests) : FakeTokenEndpoint.Token("after-waiting", 3600);
            response.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(TimeSpan.FromSeconds(20));
            return Task.FromResult(response);
        };

        var token = await services.Time.DriveAsync(services.Client.GetTokenAsync().AsTask(), TimeSpan.FromSeconds(1));

        token.Value.Should().Be("after-waiting");
        var times = services.TokenEndpoint.RequestTimes.ToArray();
        (times[1] - times[0]).Should().BeGreaterThanOrEqualTo(TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task Retries_AreLoggedWithTheirNumberDelayAndReason_AndSpreadByJitter()
    {
        var logs = new CapturingLoggerProvider();
        using var services = new TestServices(
            o =>
            {
                o.MaxRetries = 4;
                o.RetryDelay = TimeSpan.FromSeconds(1);
                o.MaxRetryDelay = TimeSpan.FromSeconds(60);
                o.TotalTimeout = TimeSpan.FromMinutes(5);
            },
            logs: logs);
        services.TokenEndpoint.Respond = _ => Task.FromResult(FakeTokenEndpoint.Json(HttpStatusCode.ServiceUnavailable, "busy"));

        var act = () => services.Time.DriveAsync(services.Client.GetTokenAsync().AsTask(), TimeSpan.FromMilliseconds(100), maxSteps: 3000);
        await act.Should().ThrowAsync<TokenRequestException>();

        var retries = logs.Lines.Where(l => l.Id.Name == "RetryingTokenRequest").Select(l => l.Text).ToList();
        retries.Should().HaveCount(4);
        retries.Select(r => Regex.Match(r, @"makes attempt (\d+) ").Groups[1].Value).Should().Equal("2", "3", "4", "5");
        retries.Should().OnlyContain(r => r.Contains("HTTP 503 (ServiceUnavailable)", StringComparison.Ordinal));
        var delays = retries.Select(r => double.Parse(Regex.Match(r, @" in ([\d.]+) s,").Groups[1].Value, CultureInfo.InvariantCulture)).ToList();
        delays.Should().NotEqual(new[] { 1.0, 2.0, 4.0, 8.0 }, "jitter spreads the retries of a fleet instead of the exact exponential steps");
    }

    [Fact]
    public void ErrorType_StatusWithoutACode_IsTheStatusFrom100To599()
    {
        ErrorType.Of(new TokenRequestException("c", "m", (HttpStatusCode)100)).Should().Be("100");
        ErrorType.Of(new TokenRequestException("c", "m", (HttpStatusCode)599)).Should().Be("599");
        ErrorType.Of(new TokenRequestException("c", "m", (HttpStatusCode)99)).Should().Be("_OTHER");
        ErrorType.Of(new TokenRequestException("c", "m", (HttpStatusCode)600)).Should().Be("_OTHER");
    }

    [Theory]
    [InlineData(503, "<html>down</html>", "HTTP 503 (ServiceUnavailable), and a body that is not an OAuth error: \"<html>down</html>\"")]
    [InlineData(200, "[1]", "HTTP 200 (OK), the response body is not an APIMW envelope")]
    public async Task Apimw_BodyThatIsNoEnvelope_IsReportedByWhatItIs(int status, string body, string expected)
    {
        using var services = new TestServices(o =>
        {
            o.Provider = "Apimw";
            o.TokenEndpoint = null;
        });
        services.TokenEndpoint.Respond = _ => Task.FromResult(FakeTokenEndpoint.Json((HttpStatusCode)status, body));

        (await services.Client.FailureAsync()).Message.Should().Contain(expected);
    }

    [Fact]
    public void Wll_RegionOrEnvironmentNotDefined_FailsValidationNamingIt()
    {
        using var services = new TestServices(o =>
        {
            o.Provider = "Wll";
            o.TokenEndpoint = null;
            o.Region = (WllRegion)42;
            o.Environment = (WllEnvironment)7;
        });

        var act = () => services.Client;

        act.Should().Throw<Microsoft.Extensions.Options.OptionsValidationException>().Which.Failures.Should()
            .Contain(f => f.Contains("Region '42' is not known; use EU, US or GCC.", StringComparison.Ordinal))
            .And.Contain(f => f.Contains("Environment '7' is not known; use Any, Staging or Production.", StringComparison.Ordinal));
    }
}
