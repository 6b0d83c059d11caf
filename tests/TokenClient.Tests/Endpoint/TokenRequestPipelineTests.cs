using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.DependencyInjection;
using TokenClient.Caching;
using TokenClient.Tests.TestSupport;

namespace TokenClient.Tests.Endpoint;

/// <summary>The Polly pipeline of the token endpoint call, on fake time: retries, Retry-After, the attempt's and the total timeout.</summary>
[Collection(nameof(DrivenTimeCollection))]
public class TokenRequestPipelineTests
{
    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(100);

    [Fact]
    public async Task GetTokenAsync_429WithRetryAfterSeconds_WaitsAtLeastThatLongBeforeRetrying()
    {
        using var services = Retrying();
        services.TokenEndpoint.Respond = n => Task.FromResult(n == 1 ? TooManyRequests(new RetryConditionHeaderValue(TimeSpan.FromSeconds(5))) : FakeTokenEndpoint.Token("t", 3600));

        var token = await services.Time.DriveAsync(services.Client.GetTokenAsync().AsTask(), Step);

        token.Value.Should().Be("t");
        var times = services.TokenEndpoint.RequestTimes.ToArray();
        times.Should().HaveCount(2);
        (times[1] - times[0]).Should().BeGreaterThanOrEqualTo(TimeSpan.FromSeconds(5), "the server's Retry-After, not the 10 ms backoff");
    }

    [Fact]
    public async Task GetTokenAsync_503WithRetryAfterDate_WaitsUntilThatDate()
    {
        using var services = Retrying();
        var retryAt = services.Time.GetUtcNow().AddSeconds(8);
        services.TokenEndpoint.Respond = n =>
        {
            if (n > 1)
            {
                return Task.FromResult(FakeTokenEndpoint.Token("t", 3600));
            }

            var response = new HttpResponseMessage(HttpStatusCode.ServiceUnavailable);
            response.Headers.RetryAfter = new RetryConditionHeaderValue(retryAt);
            return Task.FromResult(response);
        };

        await services.Time.DriveAsync(services.Client.GetTokenAsync().AsTask(), Step);

        services.TokenEndpoint.RequestTimes.Should().HaveCount(2).And.Subject.Last().Should().BeOnOrAfter(retryAt);
    }

    [Fact]
    public async Task GetTokenAsync_RetryAfterLongerThanMaxRetryDelay_FailsAtOnceWithoutRetrying()
    {
        using var services = Retrying(o => o.MaxRetryDelay = TimeSpan.FromSeconds(20));
        services.TokenEndpoint.Respond = _ => Task.FromResult(TooManyRequests(new RetryConditionHeaderValue(TimeSpan.FromSeconds(21))));

        var act = () => services.Time.DriveAsync(services.Client.GetTokenAsync().AsTask(), Step);

        var thrown = (await act.Should().ThrowAsync<TokenRequestException>()).Which;
        thrown.StatusCode.Should().Be(HttpStatusCode.TooManyRequests);
        thrown.IsTransient.Should().BeTrue();
        services.TokenEndpoint.RequestCount.Should().Be(1);
    }

    [Theory]
    [InlineData(HttpStatusCode.BadRequest, "invalid_grant")]
    [InlineData(HttpStatusCode.Unauthorized, "invalid_client")]
    [InlineData(HttpStatusCode.Forbidden, "unauthorized_client")]
    public async Task GetTokenAsync_PermanentError_IsNotRetried(HttpStatusCode status, string error)
    {
        using var services = Retrying();
        services.TokenEndpoint.Respond = _ => Task.FromResult(FakeTokenEndpoint.Json(status, $$"""{"error":"{{error}}"}"""));

        var act = () => services.Time.DriveAsync(services.Client.GetTokenAsync().AsTask(), Step);

        (await act.Should().ThrowAsync<TokenRequestException>()).Which.Error.Should().Be(error);
        services.TokenEndpoint.RequestCount.Should().Be(1);
    }

    [Fact]
    public async Task GetTokenAsync_TotalTimeoutRunsOutWhileRetrying_GivesUpNamingTheLastAttemptsFailure()
    {
        using var services = Retrying(o =>
        {
            o.MaxRetries = 10;
            o.RetryDelay = TimeSpan.FromSeconds(1);
            o.TotalTimeout = TimeSpan.FromSeconds(3);
            o.AttemptTimeout = TimeSpan.FromSeconds(1);
        });
        services.TokenEndpoint.Respond = _ => Task.FromResult(FakeTokenEndpoint.Json(HttpStatusCode.ServiceUnavailable, "down"));

        var act = () => services.Time.DriveAsync(services.Client.GetTokenAsync().AsTask(), Step);

        var thrown = (await act.Should().ThrowAsync<TokenRequestException>()).Which;
        thrown.Message.Should().StartWith("Token client 'test' gave up on auth.test after 3 s of retries; the last attempt said: ")
            .And.Contain("HTTP 503 (ServiceUnavailable)").And.Contain("\"down\"");
        thrown.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        thrown.IsTransient.Should().BeTrue();
        thrown.InnerException.Should().BeOfType<TokenRequestException>().Which.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
    }

    [Fact]
    public async Task GetTokenAsync_TotalTimeoutRunsOutWhileNoAttemptWasAnswered_SaysNoAnswerWithinTheTotal()
    {
        using var services = Retrying(o =>
        {
            o.TotalTimeout = TimeSpan.FromSeconds(5);
            o.AttemptTimeout = TimeSpan.FromSeconds(2);
        });
        services.TokenEndpoint.RespondWith = async (_, ct) =>
        {
            await Task.Delay(Timeout.Infinite, ct);
            throw new InvalidOperationException("unreachable");
        };

        var act = () => services.Time.DriveAsync(services.Client.GetTokenAsync().AsTask(), Step);

        var thrown = (await act.Should().ThrowAsync<TokenRequestException>()).Which;
        thrown.Message.Should().Be("Token client 'test' timed out waiting for auth.test: no answer within 5 s.", "the attempts timed out at 2 s each, and the total cut the last one off");
        thrown.IsTransient.Should().BeTrue();
    }

    [Fact]
    public async Task GetTokenAsync_HttpClientTimeoutOfTheEndpointClient_IsATransientTimeoutNamingIt()
    {
        using var services = new TestServices(more: s => s.AddHttpClient(TokenClient.Endpoint.TokenEndpointTransport.HttpClientNameOf(TestServices.ClientName)).ConfigureHttpClient(c => c.Timeout = TimeSpan.FromMilliseconds(50)));
        services.TokenEndpoint.RespondWith = async (_, ct) =>
        {
            await Task.Delay(Timeout.Infinite, ct); // until HttpClient gives up on its own (real) clock
            throw new InvalidOperationException("unreachable");
        };

        var thrown = await services.Client.FailureAsync();

        thrown.Message.Should().Be("Token client 'test' timed out waiting for auth.test: no answer within 0.05 s.");
        thrown.IsTransient.Should().BeTrue();
        thrown.InnerException.Should().BeAssignableTo<OperationCanceledException>();
    }

    [Fact]
    public async Task GetTokenAsync_BodyCancelledByTheTransportAfterTheHeaders_IsATimeoutWithoutALimit()
    {
        using var services = new TestServices();
        services.TokenEndpoint.Respond = _ => Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = new StreamContent(new CancelledStream()) });

        var thrown = await services.Client.FailureAsync();

        thrown.Message.Should().Be("Token client 'test' timed out waiting for auth.test.");
        thrown.IsTransient.Should().BeTrue();
    }

    private static TestServices Retrying(Action<TokenClientOptions>? configure = null) => new(o =>
    {
        o.MaxRetries = 3;
        o.RetryDelay = TimeSpan.FromMilliseconds(10);
        configure?.Invoke(o);
    });

    private static HttpResponseMessage TooManyRequests(RetryConditionHeaderValue retryAfter)
    {
        var response = new HttpResponseMessage(HttpStatusCode.TooManyRequests);
        response.Headers.RetryAfter = retryAfter;
        return response;
    }

    /// <summary>A body whose reads are cancelled by the transport itself, not by the caller.</summary>
    private sealed class CancelledStream : MemoryStream
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            throw new TaskCanceledException("the connection's own timeout");
    }
}
