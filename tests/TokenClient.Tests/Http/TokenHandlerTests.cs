using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http;
using Microsoft.Extensions.Options;
using RichardSzalay.MockHttp;
using TokenClient.Http;
using TokenClient.Tests.TestSupport;

namespace TokenClient.Tests.Http;

public class TokenHandlerTests
{
    private static readonly Uri Api = new("https://api.test/orders");

    [Fact]
    public async Task SendAsync_AttachesBearerTokenAndConfiguredHeaders()
    {
        using var harness = new Harness(o => o.Headers["X-Api-Key"] = "tenant-key");
        harness.ApiAnswers(HttpStatusCode.OK);

        using var response = await harness.Http.GetAsync(Api);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var sent = harness.ApiRequests.Should().ContainSingle().Subject;
        sent.Header("Authorization").Should().Be("Bearer token-1");
        sent.Header("X-Api-Key").Should().Be("tenant-key");
    }

    [Fact]
    public async Task SendAsync_ManyRequests_ShareOneToken()
    {
        using var harness = new Harness();
        harness.ApiAnswers(HttpStatusCode.OK);

        for (var i = 0; i < 20; i++)
        {
            using var response = await harness.Http.GetAsync(Api);
        }

        harness.Services.TokenEndpoint.RequestCount.Should().Be(1);
        harness.ApiRequests.Should().HaveCount(20).And.OnlyContain(r => r.Header("Authorization") == "Bearer token-1");
    }

    [Fact]
    public async Task SendAsync_Unauthorized_RenewsAndResendsOnceWithSameBody()
    {
        using var harness = new Harness();
        harness.ApiAnswers(HttpStatusCode.Unauthorized, HttpStatusCode.Created);

        using var response = await harness.Http.PostAsync(Api, new StringContent("""{"id":42}""", Encoding.UTF8, "application/json"));

        response.StatusCode.Should().Be(HttpStatusCode.Created);
        harness.ApiRequests.Select(r => r.Header("Authorization")).Should().Equal("Bearer token-1", "Bearer token-2");
        harness.ApiRequests.Select(r => r.Body).Should().Equal("""{"id":42}""", """{"id":42}""");
        harness.Services.TokenEndpoint.RequestCount.Should().Be(2);
    }

    [Fact]
    public async Task SendAsync_ManyRequestsInFlightRejectedAtOnce_OneRenewal_AndEachRequestResentOnce()
    {
        const int Requests = 50;
        var api = new RejectsTheFirstTokenOnceAllArrived(Requests);
        using var services = new TestServices(more: s => s.AddHttpClient("api").AddTokenHandler(TestServices.ClientName).ConfigurePrimaryHttpMessageHandler(() => api));
        var http = services.Provider.GetRequiredService<IHttpClientFactory>().CreateClient("api");

        var responses = await Task.WhenAll(Enumerable.Range(0, Requests).Select(i => http.PostAsync($"https://api.test/orders/{i}", new StringContent($"order {i}"))));

        responses.Should().OnlyContain(r => r.StatusCode == HttpStatusCode.OK);
        services.TokenEndpoint.RequestCount.Should().Be(2, "the first token, and one renewal shared by every rejected request");
        api.Sent.Should().HaveCount(2 * Requests);
        api.Sent.GroupBy(s => s.Path).Should().OnlyContain(g => g.Select(s => s.Token).SequenceEqual(new[] { "token-1", "token-2" }), "each request went once with each token");
        api.Sent.Should().OnlyContain(s => s.Body == $"order {s.Path.Split('/').Last()}", "the resend carries the same body");
    }

    [Fact]
    public async Task SendAsync_UnauthorizedTwice_ReturnsTheSecond401WithoutAThirdTry()
    {
        using var harness = new Harness();
        harness.ApiAnswers(HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.OK);

        using var response = await harness.Http.GetAsync(Api);

        response.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        harness.ApiRequests.Should().HaveCount(2);
        harness.Services.TokenEndpoint.RequestCount.Should().Be(2);
    }

    [Fact]
    public async Task SendAsync_UnauthorizedWithStreamedBody_IsNotResent()
    {
        using var harness = new Harness();
        harness.ApiAnswers(HttpStatusCode.Unauthorized, HttpStatusCode.OK);

        using var content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes("once only")));
        using var response = await harness.Http.PostAsync(Api, content);

        response.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        harness.ApiRequests.Should().ContainSingle();
        harness.Services.TokenEndpoint.RequestCount.Should().Be(1, "no token is renewed for a request that cannot be resent");
    }

    [Fact]
    public async Task SendAsync_UnauthorizedWithMultipartHoldingAStream_IsNotResent()
    {
        using var harness = new Harness();
        harness.ApiAnswers(HttpStatusCode.Unauthorized, HttpStatusCode.OK);
        using var content = new MultipartFormDataContent
        {
            { new StringContent("a field"), "field" },
            { new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes("a file"))), "file", "file.txt" },
        };

        using var response = await harness.Http.PostAsync(Api, content);

        response.StatusCode.Should().Be(HttpStatusCode.Unauthorized, "one part is a stream: the whole upload cannot be sent again");
        harness.ApiRequests.Should().ContainSingle();
    }

    [Fact]
    public async Task SendAsync_RequestWithoutAnAbsoluteUri_ThrowsNamingTheClient()
    {
        using var harness = new Harness();
        var client = harness.Services.Provider.GetRequiredService<TokenClient.Clients.TokenClientFactory>().Named(TestServices.ClientName);
        using var invoker = new HttpMessageInvoker(new TokenHandler(client, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance));

        var act = async () => await invoker.SendAsync(new HttpRequestMessage(HttpMethod.Get, new Uri("/relative", UriKind.Relative)), default);

        (await act.Should().ThrowAsync<InvalidOperationException>()).Which.Message.Should().Be("Token client 'test': the request has no absolute URI to send the token to.");
    }

    [Fact]
    public async Task SendAsync_RequestCopiedByAnOuterHandler_KeepsItsTenant()
    {
        using var harness = new Harness(more: b => b.AddHttpMessageHandler(() => new Copying()), outer: true);
        harness.ApiAnswers(HttpStatusCode.OK);
        await harness.Services.Client.GetTokenAsync(); // token-1 is the client's own

        using var request = new HttpRequestMessage(HttpMethod.Get, Api).WithTokenTenant("acme");
        using var response = await harness.Http.SendAsync(request);

        harness.ApiRequests.Should().ContainSingle().Which.Header("Authorization").Should().Be("Bearer token-2", "the copy carries the tenant, as hedging and snapshot retries copy requests");
    }

    [Fact]
    public async Task SendAsync_RequestWithParametersAndTenant_CarriesTheTokenOfBoth_CachedApart()
    {
        using var harness = new Harness();
        harness.ApiAnswers(HttpStatusCode.OK);
        var orders = new TokenRequestParameters { Scope = "orders" };

        for (var i = 0; i < 2; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, Api).WithTokenTenant("acme").WithTokenParameters(orders);
            using var response = await harness.Http.SendAsync(request);
        }

        using (await harness.Http.GetAsync(Api))
        {
        }

        harness.ApiRequests.Select(r => r.Header("Authorization")).Should().Equal("Bearer token-1", "Bearer token-1", "Bearer token-2");
        harness.Services.TokenEndpoint.Requests.First().Fields.Should().Contain(new KeyValuePair<string, string>("scope", "orders"));
        harness.Services.Named.Existing(new TokenClient.Clients.EntryKey("acme", orders)).Should().NotBeNull("the entry is the tenant's with these parameters");
    }

    [Fact]
    public async Task SendAsync_RequestForcingRenewal_CarriesANewToken()
    {
        using var harness = new Harness();
        harness.ApiAnswers(HttpStatusCode.OK);
        await harness.Services.Client.GetTokenAsync();

        using var request = new HttpRequestMessage(HttpMethod.Get, Api).WithTokenParameters(new TokenRequestParameters { ForceRenewal = true });
        using var response = await harness.Http.SendAsync(request);

        harness.ApiRequests.Should().ContainSingle().Which.Header("Authorization").Should().Be("Bearer token-2");
    }

    [Fact]
    public async Task SendAsync_ParametersTheProviderCannotSend_FailBeforeAnythingIsSent()
    {
        using var harness = new Harness(o => o.Provider = "LoneWolf");
        harness.ApiAnswers(HttpStatusCode.OK);

        using var request = new HttpRequestMessage(HttpMethod.Get, Api).WithTokenParameters(new TokenRequestParameters { Scope = "orders" });
        var act = () => harness.Http.SendAsync(request);

        (await act.Should().ThrowAsync<ArgumentException>()).Which.Message.Should().Contain("TokenRequestParameters.Scope");
        harness.ApiRequests.Should().BeEmpty();
        harness.Services.TokenEndpoint.RequestCount.Should().Be(0);
    }

    [Fact]
    public void TokenChoicesOf_RequestNamingNoTenant_CreatesNoOptions()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, Api);

        HttpRequestMessageTokenExtensions.TokenChoicesOf(request).Tenant.Should().BeNull();

        typeof(HttpRequestMessage).GetField("_options", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!
            .GetValue(request).Should().BeNull("finding that a request names no tenant must not allocate its options");
        HttpRequestMessageTokenExtensions.TokenChoicesOf(request.WithTokenTenant("acme")).Tenant.Should().Be("acme");
    }

    [Theory]
    [InlineData(200, 1, "the answer goes back as it is")]
    [InlineData(401, 2, "a rejection is answered by one resend")]
    [InlineData(302, 2, "a redirect is followed")]
    public async Task SendAsync_InnerHandlerAnsweringAtOnce_TakesTheSameDecisions(int first, int sends, string because)
    {
        using var harness = new Harness();
        var inner = new AtOnce((HttpStatusCode)first);
        var client = harness.Services.Provider.GetRequiredService<TokenClient.Clients.TokenClientFactory>().Named(TestServices.ClientName);
        using var invoker = new HttpMessageInvoker(new RedirectGuard
        {
            MaxRedirects = 5,
            InnerHandler = new TokenHandler(client, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance) { InnerHandler = inner },
        });
        await client.GetTokenAsync(); // cached: the handler takes its synchronous path

        using var response = await invoker.SendAsync(new HttpRequestMessage(HttpMethod.Get, Api), default);

        response.StatusCode.Should().Be(first == 200 ? HttpStatusCode.OK : HttpStatusCode.Accepted);
        inner.Sent.Should().HaveCount(sends, because);
        inner.Sent.Should().OnlyContain(a => a != null && a.StartsWith("Bearer token-", StringComparison.Ordinal));
    }

    [Fact]
    public void SendAsync_PlainHttpToAnotherHost_FailsTheTaskInsteadOfThrowing()
    {
        using var harness = new Harness();
        var client = harness.Services.Provider.GetRequiredService<TokenClient.Clients.TokenClientFactory>().Named(TestServices.ClientName);
        using var invoker = new HttpMessageInvoker(new TokenHandler(client, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance));

        var sending = invoker.SendAsync(new HttpRequestMessage(HttpMethod.Get, "http://api.test/"), default);

        sending.IsFaulted.Should().BeTrue("handlers above see a failed task, as from any async handler");
        sending.Exception!.InnerException.Should().BeOfType<InvalidOperationException>();
    }

    [Fact]
    public async Task SendAsync_Forbidden_IsReturnedAsItIsForTheGenericProvider()
    {
        using var harness = new Harness();
        harness.ApiAnswers(HttpStatusCode.Forbidden, HttpStatusCode.OK);

        using var response = await harness.Http.GetAsync(Api);

        response.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        harness.ApiRequests.Should().ContainSingle();
    }

    [Fact]
    public async Task SendAsync_LoneWolfForbidden_IsTreatedAsARejectedToken()
    {
        using var harness = new Harness(o =>
        {
            o.Provider = "LoneWolf";
            o.TokenEndpoint = null;
        });
        harness.ApiAnswers(HttpStatusCode.Forbidden, HttpStatusCode.OK);

        using var response = await harness.Http.GetAsync(Api);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        harness.ApiRequests.Select(r => r.Header("Authorization")).Should().Equal("Bearer token-1", "Bearer token-2");
    }

    [Fact]
    public async Task SendAsync_RequestNamesATenant_UsesThatTenantsToken()
    {
        using var harness = new Harness(o =>
        {
            o.Provider = "LoneWolf";
            o.TokenEndpoint = null;
        });
        harness.ApiAnswers(HttpStatusCode.OK);
        var http = harness.Http;

        foreach (var tenant in new[] { "tenant-a", "tenant-b", "tenant-a" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, Api).WithTokenTenant(tenant);
            using var response = await http.SendAsync(request);
        }

        using (await http.GetAsync(Api))
        {
        }

        harness.Services.TokenEndpoint.Requests.Select(r => r.Fields.SingleOrDefault(f => f.Key == "lwt_client_id").Value)
            .Should().Equal("tenant-a", "tenant-b", null);
        harness.ApiRequests.Select(r => r.Header("Authorization")).Should().Equal("Bearer token-1", "Bearer token-2", "Bearer token-1", "Bearer token-3");
    }

    [Fact]
    public async Task SendAsync_TokenEndpointFails_ThrowsTokenRequestExceptionAndSendsNothing()
    {
        using var harness = new Harness();
        harness.ApiAnswers(HttpStatusCode.OK);
        harness.Services.TokenEndpoint.Respond = _ => Task.FromResult(FakeTokenEndpoint.Json(HttpStatusCode.Unauthorized, """{"error":"invalid_client"}"""));

        var act = () => harness.Http.GetAsync(Api);

        (await act.Should().ThrowAsync<TokenRequestException>()).Which.Error.Should().Be("invalid_client");
        harness.ApiRequests.Should().BeEmpty();
    }

    [Fact]
    public async Task SendAsync_TokenExpiredAndEndpointDown_NeverSendsTheExpiredToken()
    {
        using var harness = new Harness();
        harness.ApiAnswers(HttpStatusCode.OK, HttpStatusCode.OK);
        using (await harness.Http.GetAsync(Api))
        {
        }

        harness.Services.TokenEndpoint.Respond = _ => Task.FromResult(new HttpResponseMessage(HttpStatusCode.ServiceUnavailable));
        harness.Services.Time.Advance(TimeSpan.FromHours(2));
        var act = () => harness.Http.GetAsync(Api);

        (await act.Should().ThrowAsync<TokenRequestException>()).Which.IsTransient.Should().BeTrue();
        harness.ApiRequests.Should().ContainSingle("the request after expiry was never sent");
    }

    [Theory]
    [MemberData(nameof(Contents))]
    public void CanResend_TellsBufferedContentFromStreams(string kind, bool expected)
    {
        HttpContent? content = kind switch
        {
            "none" => null,
            "string" => new StringContent("x"),
            "form" => new FormUrlEncodedContent([new("a", "b")]),
            "bytes" => new ByteArrayContent([1, 2]),
            "memory" => new ReadOnlyMemoryContent(new byte[] { 1 }),
            "multipart of strings" => new MultipartFormDataContent { new StringContent("x") },
            "multipart with a stream" => new MultipartFormDataContent { new StreamContent(Stream.Null) },
            _ => new StreamContent(Stream.Null),
        };

        CallerRequest.CanResend(content).Should().Be(expected);
    }

    public static TheoryData<string, bool> Contents() => new()
    {
        { "none", true },
        { "string", true },
        { "form", true },
        { "bytes", true },
        { "memory", true },
        { "multipart of strings", true },
        { "multipart with a stream", false },
        { "stream", false },
    };

    /// <summary>Answers at once (a completed task): first with the given status, then 202.</summary>
    private sealed class AtOnce(HttpStatusCode first) : HttpMessageHandler
    {
        public List<string?> Sent { get; } = [];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Sent.Add(request.Headers.Authorization?.ToString());
            var response = new HttpResponseMessage(Sent.Count == 1 ? first : HttpStatusCode.Accepted) { RequestMessage = request };
            if (response.StatusCode == HttpStatusCode.Found)
            {
                response.Headers.Location = new Uri("/moved", UriKind.Relative);
            }

            return Task.FromResult(response);
        }
    }

    /// <summary>Holds every request with the first token until all have arrived, then rejects them all at the same moment; accepts any other token.</summary>
    private sealed class RejectsTheFirstTokenOnceAllArrived(int count) : HttpMessageHandler
    {
        private readonly TaskCompletionSource _allArrived = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _arrived;

        public ConcurrentQueue<(string Path, string? Token, string Body)> Sent { get; } = new();

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var token = request.Headers.Authorization?.Parameter;
            Sent.Enqueue((request.RequestUri!.AbsolutePath, token, await request.Content!.ReadAsStringAsync(cancellationToken)));
            if (token != "token-1")
            {
                return new HttpResponseMessage(HttpStatusCode.OK);
            }

            if (Interlocked.Increment(ref _arrived) == count)
            {
                _allArrived.SetResult();
            }

            await _allArrived.Task.WaitAsync(cancellationToken);
            return new HttpResponseMessage(HttpStatusCode.Unauthorized);
        }
    }

    /// <summary>Sends a copy of each request, its options carried over, as hedging and snapshot retries do.</summary>
    private sealed class Copying : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var copy = new HttpRequestMessage(request.Method, request.RequestUri) { Content = request.Content, Version = request.Version };
            foreach (var (key, value) in request.Options)
            {
                ((IDictionary<string, object?>)copy.Options)[key] = value;
            }

            return base.SendAsync(copy, cancellationToken);
        }
    }

    /// <summary>An HttpClient with the token handler in front of a mocked API.</summary>
    [Fact]
    public void Send_Synchronous_IsRefusedNamingSendAsync_AndNothingGoesOutWithoutTheToken()
    {
        using var harness = new Harness();
        harness.ApiAnswers(HttpStatusCode.OK);

        var act = () => harness.Http.Send(new HttpRequestMessage(HttpMethod.Get, Api));

        act.Should().Throw<NotSupportedException>().WithMessage("Token client 'test': the synchronous HttpClient.Send is not supported through AddTokenHandler*Call SendAsync*");
        harness.ApiRequests.Should().BeEmpty("no request left without its token");
    }

    [Fact]
    public async Task AnApiThatEchoesTheRejectedToken_InItsChallenge_DoesNotPutItInTheHttpClientFactorysLog()
    {
        var logs = new CapturingLoggerProvider();
        using var services = new TestServices(
            more: s => s.AddHttpClient("api")
                .AddTokenHandler(TestServices.ClientName)
                .RedactLoggedHeaders(["Cookie"])
                .ConfigurePrimaryHttpMessageHandler(() => new EchoingApi()),
            logs: logs);

        using var response = await services.Http("api").GetAsync(Api);

        response.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        response.Headers.WwwAuthenticate.ToString().Should().Contain("token-2", "the API did echo the token it rejected, after the one resend");
        var headerLogs = logs.Lines.Select(l => l.Text).Where(t => t.StartsWith("Response Headers:", StringComparison.Ordinal)).ToList();
        headerLogs.Should().NotBeEmpty().And.Contain(t => t.Contains("WWW-Authenticate: *") && t.Contains("Authentication-Info: *"));
        logs.Lines.Should().OnlyContain(l => !l.Text.Contains("token-1") && !l.Text.Contains("token-2"));
    }

    [Theory]
    [InlineData("Authorization", true)]
    [InlineData("Proxy-Authorization", true)]
    [InlineData("DPoP", true)]
    [InlineData("WWW-Authenticate", true)]
    [InlineData("proxy-authenticate", true)]
    [InlineData("Authentication-Info", true)]
    [InlineData("Proxy-Authentication-Info", true)]
    [InlineData("X-Api-Key", true)] // a configured header
    [InlineData("Accept", false)]
    [InlineData("Cookie", true)] // the user's own choice, kept
    public void TheHttpClientFactorysHeaderLog_RedactsEveryHeaderThatCanCarryACredential(string header, bool redacted)
    {
        using var services = new TestServices(
            o => o.Headers["X-Api-Key"] = "key",
            more: s => s.AddHttpClient("api").AddTokenHandler(TestServices.ClientName).RedactLoggedHeaders(["Cookie"]));

        var options = services.Provider.GetRequiredService<IOptionsMonitor<HttpClientFactoryOptions>>().Get("api");

        options.ShouldRedactHeaderValue(header).Should().Be(redacted);
    }

    // An API that refuses every token, quoting it in its challenge and in Authentication-Info.
    private sealed class EchoingApi : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var token = request.Headers.Authorization?.Parameter;
            var response = new HttpResponseMessage(HttpStatusCode.Unauthorized) { RequestMessage = request };
            response.Headers.TryAddWithoutValidation("WWW-Authenticate", $"Bearer error=\"invalid_token\", error_description=\"token {token} expired\"");
            response.Headers.TryAddWithoutValidation("Authentication-Info", $"rejected={token}");
            return Task.FromResult(response);
        }
    }

    private sealed class Harness : IDisposable
    {
        private readonly MockHttpMessageHandler _api = new();
        private readonly Queue<HttpStatusCode> _answers = new();

        public Harness(Action<TokenClientOptions>? configure = null, Action<IHttpClientBuilder>? more = null, bool outer = false)
        {
            Services = new TestServices(configure, services =>
            {
                var api = services.AddHttpClient("api");
                if (outer)
                {
                    more?.Invoke(api);
                }

                api.AddTokenHandler(TestServices.ClientName).ConfigurePrimaryHttpMessageHandler(() => _api);
                if (!outer)
                {
                    more?.Invoke(api);
                }
            });
            _api.Fallback.Respond(async request =>
            {
                ApiRequests.Add(await RecordedRequest.CaptureAsync(request));
                lock (_answers)
                {
                    // The last answer repeats.
                    return new HttpResponseMessage(_answers.Count > 1 ? _answers.Dequeue() : _answers.Peek());
                }
            });
        }

        public TestServices Services { get; }

        public List<RecordedRequest> ApiRequests { get; } = [];

        public HttpClient Http => Services.Provider.GetRequiredService<IHttpClientFactory>().CreateClient("api");

        public void ApiAnswers(params HttpStatusCode[] statuses)
        {
            foreach (var status in statuses)
            {
                _answers.Enqueue(status);
            }
        }

        public void Dispose() => Services.Dispose();
    }
}
