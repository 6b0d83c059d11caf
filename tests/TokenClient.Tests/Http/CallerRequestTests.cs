using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using TokenClient.Clients;
using TokenClient.Http;
using TokenClient.Tests.TestSupport;

namespace TokenClient.Tests.Http;

/// <summary>
/// What the two handlers keep of the caller's request (CallerRequest) along their two paths (the answer returned as it is, or
/// the loop that resends, and the guard's that follows redirects)
/// and the origin they keep for a handler above them that sends the same message again.
/// </summary>
public class CallerRequestTests
{
    private static readonly Uri Api = new("https://api.test/orders");
    private static readonly Uri Other = new("https://other.test/elsewhere");

    [Theory]
    [InlineData(HttpStatusCode.OK, true)]
    [InlineData(HttpStatusCode.InternalServerError, true)]
    [InlineData(HttpStatusCode.Found, true)] // the primary handler here does not follow redirects: nothing for the handler to take over
    [InlineData(HttpStatusCode.Forbidden, true)] // not a rejection of the token for the generic provider
    [InlineData(HttpStatusCode.Unauthorized, false)]
    public async Task AnswerThatIsFinal_IsTheInnerHandlersOwnTask_OtherwiseTheLoopRuns(HttpStatusCode status, bool asItIs)
    {
        var primary = new Scripted((_, _) => status, async: false);
        using var services = new TestServices();
        await services.Client.GetTokenAsync();
        var probe = new Probe { InnerHandler = Direct(services, primary) }; // without the factory's logging handlers, which wrap every task
        using var invoker = new HttpMessageInvoker(probe);

        using var response = await invoker.SendAsync(new HttpRequestMessage(HttpMethod.Get, Api), CancellationToken.None);

        probe.Returned.Should().NotBeNull();
        ReferenceEquals(probe.Returned, primary.Tasks[0]).Should().Be(asItIs);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task PrimaryHandlerMovedTheRequest_AnOuterRetryOfTheSameMessage_SendsNoTokenToWhereItWent(bool async)
    {
        var primary = new Scripted((request, n) =>
        {
            if (n == 1)
            {
                request.RequestUri = Other; // as a primary handler that follows a redirect itself
                return HttpStatusCode.InternalServerError;
            }

            return HttpStatusCode.OK;
        }, async);
        using var services = new TestServices();
        await services.Client.GetTokenAsync(); // cached: with an answer at once, the handler takes its short path
        using var invoker = new HttpMessageInvoker(new RetryOnce { InnerHandler = Direct(services, primary) });

        using var response = await invoker.SendAsync(new HttpRequestMessage(HttpMethod.Get, Api), CancellationToken.None);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        primary.Sent.Should().HaveCount(2);
        primary.Sent[0].Should().Be((Api, "Bearer token-1"));
        primary.Sent[1].Should().Be((Other, (string?)null), "the caller addressed api.test: the retry's target is not its origin");
    }

    [Fact]
    public async Task HandlerFollowedARedirectAndTheNextSendThrew_AnOuterRetry_SendsNoTokenToTheTarget()
    {
        var sent = new List<(Uri?, string?)>();
        var calls = 0;
        var primary = new Lambda(request =>
        {
            sent.Add((request.RequestUri, request.Headers.Authorization?.ToString()));
            switch (++calls)
            {
                case 1:
                    var redirect = new HttpResponseMessage(HttpStatusCode.Found) { RequestMessage = request };
                    redirect.Headers.Location = Other;
                    return Task.FromResult(redirect);
                case 2:
                    throw new HttpRequestException("the connection to other.test failed at once");
                default:
                    return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { RequestMessage = request });
            }
        });
        using var services = new TestServices();
        var guard = new RedirectGuard { MaxRedirects = 5, InnerHandler = Direct(services, primary) }; // as when it took redirects over from a SocketsHttpHandler
        using var invoker = new HttpMessageInvoker(new RetryOnce { InnerHandler = guard });

        using var response = await invoker.SendAsync(new HttpRequestMessage(HttpMethod.Get, Api), CancellationToken.None);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        sent.Should().Equal((Api, "Bearer token-1"), (Other, null), (Other, null));
    }

    [Fact]
    public async Task ResentOnce_ThenRedirectedWithinTheOrigin_AndRejectedAgain_IsNotResentASecondTime()
    {
        var sent = new List<(string?, string?)>();
        var primary = new Lambda(request =>
        {
            sent.Add((request.RequestUri?.AbsolutePath, request.Headers.Authorization?.ToString()));
            var response = new HttpResponseMessage(sent.Count switch
            {
                1 => HttpStatusCode.Unauthorized,
                2 => HttpStatusCode.Found,
                3 => HttpStatusCode.Unauthorized,
                _ => HttpStatusCode.OK,
            }) { RequestMessage = request };
            response.Headers.Location = sent.Count == 2 ? new Uri("/orders/moved", UriKind.Relative) : null;
            return Task.FromResult(response);
        });
        using var services = new TestServices();
        using var invoker = new HttpMessageInvoker(new RedirectGuard { MaxRedirects = 5, InnerHandler = Direct(services, primary) });

        using var response = await invoker.SendAsync(new HttpRequestMessage(HttpMethod.Get, Api), CancellationToken.None);

        response.StatusCode.Should().Be(HttpStatusCode.Unauthorized, "one resend per send, across the hops the guard follows");
        sent.Should().Equal(("/orders", "Bearer token-1"), ("/orders", "Bearer token-2"), ("/orders/moved", "Bearer token-2"));
    }

    [Fact]
    public async Task AnOuterRetry_IsANewSend_WithAResendOfItsOwn()
    {
        var sent = new List<(string?, string?)>();
        var primary = new Lambda(request =>
        {
            sent.Add((request.RequestUri?.AbsolutePath, request.Headers.Authorization?.ToString()));
            var status = sent.Count switch { 1 => HttpStatusCode.Unauthorized, 2 => HttpStatusCode.ServiceUnavailable, 3 => HttpStatusCode.Unauthorized, _ => HttpStatusCode.OK };
            return Task.FromResult(new HttpResponseMessage(status) { RequestMessage = request });
        });
        using var services = new TestServices();
        using var invoker = new HttpMessageInvoker(new RetryOnce { InnerHandler = new RedirectGuard { InnerHandler = Direct(services, primary) } });

        using var response = await invoker.SendAsync(new HttpRequestMessage(HttpMethod.Get, Api), CancellationToken.None);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        sent.Select(s => s.Item2).Should().Equal("Bearer token-1", "Bearer token-2", "Bearer token-2", "Bearer token-3");
    }

    [Fact]
    public async Task RejectionWhoseResponseNamesNoRequest_IsTakenAsFromTheOrigin_AndResent()
    {
        var primary = new Scripted((_, n) => n == 1 ? HttpStatusCode.Unauthorized : HttpStatusCode.OK, async: false, setRequestMessage: false);
        using var services = Services(primary);

        using var response = await services.Http("api").GetAsync(Api);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        primary.Sent.Select(s => s.Authorization).Should().Equal("Bearer token-1", "Bearer token-2");
    }

    [Fact]
    public async Task RejectionOfAStreamedBody_IsReturnedAsItIs_AndSaysWhy()
    {
        var logs = new CapturingLoggerProvider();
        var primary = new Scripted((_, _) => HttpStatusCode.Unauthorized, async: false);
        using var services = Services(primary, logs: logs);

        using var response = await services.Http("api").PostAsync(Api, new StreamContent(new MemoryStream([1, 2, 3])));

        response.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        primary.Sent.Should().ContainSingle();
        logs.Lines.Should().ContainSingle(l => l.Id.Name == "CannotResend").Which.Text.Should().Contain("401").And.Contain("POST api.test");
    }

    // The handler alone over the primary handler, as AddTokenHandler builds it, for the test client.
    private static TokenHandler Direct(TestServices services, HttpMessageHandler primary) =>
        new(services.Named, NullLogger.Instance) { InnerHandler = primary };

    private static TestServices Services(HttpMessageHandler primary, CapturingLoggerProvider? logs = null) =>
        new(more: s => s.AddHttpClient("api").AddTokenHandler(TestServices.ClientName).ConfigurePrimaryHttpMessageHandler(() => primary), logs: logs);

    /// <summary>Answers with the status the script gives for request n (from 1), at once or after a yield; keeps what each request carried and each task it returned.</summary>
    private sealed class Scripted(Func<HttpRequestMessage, int, HttpStatusCode> script, bool async, bool setRequestMessage = true) : HttpMessageHandler
    {
        public List<(Uri? Uri, string? Authorization)> Sent { get; } = [];

        public List<Task<HttpResponseMessage>> Tasks { get; } = [];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Sent.Add((request.RequestUri, request.Headers.Authorization?.ToString()));
            var status = script(request, Sent.Count);
            var response = new HttpResponseMessage(status) { RequestMessage = setRequestMessage ? request : null };
            var task = async ? Later(response) : Task.FromResult(response);
            Tasks.Add(task);
            return task;
        }

        private static async Task<HttpResponseMessage> Later(HttpResponseMessage response)
        {
            await Task.Yield();
            return response;
        }
    }

    private sealed class Lambda(Func<HttpRequestMessage, Task<HttpResponseMessage>> send) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) => send(request);
    }

    /// <summary>Keeps the task the handler below returned.</summary>
    private sealed class Probe : DelegatingHandler
    {
        public Task<HttpResponseMessage>? Returned { get; private set; }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Returned = base.SendAsync(request, cancellationToken);
    }

    /// <summary>Sends the same message once more after a 5xx or a transport failure, as a naive retry handler does.</summary>
    private sealed class RetryOnce : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            try
            {
                var response = await base.SendAsync(request, cancellationToken);
                if ((int)response.StatusCode < 500)
                {
                    return response;
                }

                response.Dispose();
            }
            catch (HttpRequestException)
            {
            }

            return await base.SendAsync(request, cancellationToken);
        }
    }
}
