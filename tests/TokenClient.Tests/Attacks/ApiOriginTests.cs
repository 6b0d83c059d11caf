using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using RichardSzalay.MockHttp;
using TokenClient.Tests.TestSupport;

namespace TokenClient.Tests.Attacks;

/// <summary>
/// The handler against an API on 127.0.0.1 that redirects to another origin (another port), which
/// records what reaches it: the token and the configured headers go only to the origin the caller addressed.
/// </summary>
public sealed class ApiOriginTests : IAsyncLifetime
{
    private Hostile.Server _tokens = null!;
    private Hostile.Server _other = null!;
    private Hostile.Server _api = null!;
    private readonly CapturingLoggerProvider _logs = new();
    private int _issued;
    private bool _tokenEndpointFails;

    public async Task InitializeAsync()
    {
        _tokens = await Hostile.StartAsync(app => app.MapPost("/token", () => _tokenEndpointFails
            ? Results.Json(new { error = "invalid_client" }, statusCode: 400)
            : Results.Json(new { access_token = $"token-{Interlocked.Increment(ref _issued)}", token_type = "Bearer", expires_in = 3600 })));
        _other = await Hostile.StartAsync(app =>
        {
            app.MapMethods("/ok", ["GET", "POST"], () => Results.Text("the other origin"));
            app.MapGet("/unauthorized", () => Results.Unauthorized());
            app.MapGet("/busy", () => Results.StatusCode(503));
        });
        _api = await Hostile.StartAsync(app =>
        {
            app.MapMethods("/away/{status:int}/{target}", ["GET", "POST"], (int status, string target, HttpContext context) =>
            {
                context.Response.StatusCode = status;
                context.Response.Headers.Location = _other.Url($"/{target}").ToString();
            });
            app.MapMethods("/old", ["GET", "POST"], (HttpContext context) => Results.Redirect("/new", preserveMethod: true));
            app.MapMethods("/new", ["GET", "POST"], (HttpContext context) =>
                context.Request.Headers.Authorization == $"Bearer token-{_issued}" ? Results.Text("fresh") : Results.Unauthorized());
            app.MapGet("/always-401", () => Results.Unauthorized());
            app.MapGet("/loop", () => Results.Redirect("/loop"));
            app.MapPost("/see-other", () => Results.Redirect("/new")); // 302 after a POST: the client goes on with a GET
            app.MapGet("/bad-location", (HttpContext context) =>
            {
                context.Response.StatusCode = 302;
                context.Response.Headers.Location = "//elsewhere.test:99999/";
            });
        });
    }

    public async Task DisposeAsync()
    {
        await _api.DisposeAsync();
        await _other.DisposeAsync();
        await _tokens.DisposeAsync();
    }

    [Theory]
    [InlineData(301)]
    [InlineData(302)]
    [InlineData(307)]
    [InlineData(308)]
    public async Task Redirect_ToAnotherOrigin_ReachesItWithoutTokenOrHeaders(int status)
    {
        await using var services = Services();

        using var response = await Api(services).PostAsync(_api.Url($"/away/{status}/ok"), new StringContent("payload"));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync()).Should().Be("the other origin");
        var first = _api.Requests.Should().ContainSingle().Subject;
        first.Header("Authorization").Should().Be("Bearer token-1");
        first.Header("X-Api-Key").Should().Be("key-123");
        var there = _other.Requests.Should().ContainSingle().Subject;
        there.Header("Authorization").Should().BeNull("the token is only for the origin the caller addressed");
        there.Header("X-Api-Key").Should().BeNull("so are the configured headers");
        there.Method.Should().Be(status is 307 or 308 ? "POST" : "GET");
        there.Body.Should().Be(status is 307 or 308 ? "payload" : string.Empty);
    }

    [Theory]
    [InlineData(302)]
    [InlineData(307)]
    public async Task Redirect_ToAnotherOriginThatAnswers401_ReturnedWithoutInvalidatingOrResending(int status)
    {
        await using var services = Services();
        var http = Api(services);

        using var response = await http.GetAsync(_api.Url($"/away/{status}/unauthorized"));

        response.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        _other.Requests.Should().ContainSingle("a rejection by another origin is not resent");
        _other.Requests.Single().Header("Authorization").Should().BeNull();
        _tokens.Requests.Should().ContainSingle("the good token was not dropped");
        (await services.GetRequiredKeyedService<ITokenClient>("attack").GetTokenAsync()).Value.Should().Be("token-1");
    }

    [Fact]
    public async Task Redirect_WithinTheOrigin_KeepsTheToken_AndTheResendGoesToTheOriginalUri()
    {
        var tracker = new ResponseTracker();
        await using var services = Services(more: b => b.AddHttpMessageHandler(() => tracker));
        var client = services.GetRequiredKeyedService<ITokenClient>("attack");
        var http = Api(services);
        await client.GetTokenAsync();
        Interlocked.Increment(ref _issued); // the API now only takes token-2: token-1 was revoked

        using var response = await http.PostAsync(_api.Url("/old"), new StringContent("again"));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        _api.Requests.Select(r => $"{r.Method} {r.PathAndQuery} {r.Header("Authorization")} {r.Body}").Should().Equal(
            "POST /old Bearer token-1 again",
            "POST /new Bearer token-1 again",
            "POST /old Bearer token-3 again",
            "POST /new Bearer token-3 again");
        tracker.Responses.Take(3).Should().OnlyContain(r => r.Disposed, "each redirect and the rejected answer were left behind");
        tracker.Responses.Last().Disposed.Should().BeFalse("the caller still reads the last one");
        _logs.Lines.Select(l => l.Id.Id).Should().Contain(7, "the resend is logged");
    }

    [Fact]
    public async Task Redirect_PrimaryHandlerWeCannotTakeOver_RejectionByTheOtherOriginIsStillNotResent()
    {
        // A transport of its own kind, which follows redirects with requests of its own: the response tells where it came from.
        await using var services = Services(primary: new OpaqueFollower());

        using var response = await Api(services).GetAsync(_api.Url("/away/302/unauthorized"));

        response.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        _other.Requests.Should().ContainSingle(r => r.PathAndQuery == "/unauthorized");
        _api.Requests.Should().ContainSingle("no resend");
        _tokens.Requests.Should().ContainSingle("the good token was not dropped");
    }

    [Fact]
    public async Task Redirect_Loop_StopsAtThePrimaryHandlersLimit_AndReturnsTheLastRedirect()
    {
        await using var services = Services(primary: new HttpClientHandler { MaxAutomaticRedirections = 3 });

        using var response = await Api(services).GetAsync(_api.Url("/loop"));

        response.StatusCode.Should().Be(HttpStatusCode.Redirect);
        _api.Requests.Should().HaveCount(4, "the first request and three redirects")
            .And.OnlyContain(r => r.Header("Authorization") == "Bearer token-1", "every hop stays on the origin");
    }

    [Fact]
    public async Task Redirect_ToAnotherOrigin_ThenAnOuterRetrySendsTheSameMessage_StillNoToken()
    {
        // A retry above the token handler that sends the very same message again, as Polly handlers may.
        await using var services = Services(more: null, outer: () => new RetryOn503());

        using var response = await Api(services).GetAsync(_api.Url("/away/302/busy"));

        response.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        _other.Requests.Should().HaveCount(2).And.OnlyContain(r => r.Header("Authorization") == null && r.Header("X-Api-Key") == null,
            "the retry starts where the redirect left the message, but that is still not the caller's origin");
    }

    [Fact]
    public async Task Redirect_AfterPostTurnedIntoGet_ThenRejected_IsNotResent()
    {
        await using var services = Services();
        var client = services.GetRequiredKeyedService<ITokenClient>("attack");
        await client.GetTokenAsync();
        Interlocked.Increment(ref _issued); // token-1 is revoked: /new rejects it

        using var response = await Api(services).PostAsync(_api.Url("/see-other"), new StringContent("order"));

        response.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        _logs.Lines.Select(l => l.Id.Id).Should().NotContain(7);
        _api.Requests.Select(r => $"{r.Method} {r.PathAndQuery}").Should().Equal(["POST /see-other", "GET /new"],
            "the server took the POST; sending it again could place the order twice");
    }

    [Fact]
    public async Task Redirect_WithALocationThatCannotBeResolved_IsReturnedAsItIs()
    {
        await using var services = Services();

        using var response = await Api(services).GetAsync(_api.Url("/bad-location"));

        response.StatusCode.Should().Be(HttpStatusCode.Found);
    }

    [Fact]
    public async Task PlainHttp_UriWithUserInfo_TheMessageLeavesItOut()
    {
        var insecure = new MockHttpMessageHandler();
        await using var services = Services(primary: insecure);

        var act = async () => await Api(services).GetAsync("http://someone:pa55word@api.insecure.test/orders");

        (await act.Should().ThrowAsync<InvalidOperationException>()).Which.Message.Should()
            .Contain("http://api.insecure.test/orders").And.NotContain("pa55word").And.NotContain("someone");
    }

    [Fact]
    public async Task Unauthorized_RenewalFails_ThrowsTokenRequestException_AndDisposesThe401()
    {
        var tracker = new ResponseTracker();
        await using var services = Services(more: b => b.AddHttpMessageHandler(() => tracker));
        var http = Api(services);
        await services.GetRequiredKeyedService<ITokenClient>("attack").GetTokenAsync();
        _tokenEndpointFails = true;

        var act = async () => await http.GetAsync(_api.Url("/always-401"));

        (await act.Should().ThrowAsync<TokenRequestException>()).Which.Error.Should().Be("invalid_client");
        tracker.Responses.Should().ContainSingle().Which.Disposed.Should().BeTrue("the abandoned 401 must not hold its connection");
    }

    [Fact]
    public async Task PlainHttp_ToAnotherHost_IsRefusedBeforeAnyTokenIsFetched()
    {
        // In memory: nothing may leave for a host that is not loopback, even if the check were missing.
        var insecure = new MockHttpMessageHandler();
        insecure.Fallback.Respond(HttpStatusCode.OK);
        await using var services = Services(primary: insecure);

        var act = async () => await Api(services).GetAsync("http://api.insecure.test/orders?key=123");

        (await act.Should().ThrowAsync<InvalidOperationException>()).Which.Message.Should()
            .Contain("refuses to send a bearer token over plain http to http://api.insecure.test/orders").And.Contain("AllowInsecureHttp")
            .And.NotContain("key=123");
        _tokens.Requests.Should().BeEmpty();
        insecure.GetMatchCount(insecure.Fallback).Should().Be(0);
    }

    [Fact]
    public async Task PlainHttp_ToAnotherHostWithAllowInsecureHttp_SendsTheToken()
    {
        var insecure = new MockHttpMessageHandler();
        insecure.Expect("http://api.insecure.test/orders").WithHeaders("Authorization", "Bearer token-1").Respond(HttpStatusCode.OK);
        await using var services = Services(primary: insecure, configure: o => o.AllowInsecureHttp = true);

        using var response = await Api(services).GetAsync("http://api.insecure.test/orders");

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        insecure.VerifyNoOutstandingExpectation();
    }

    private ServiceProvider Services(
        HttpMessageHandler? primary = null, Action<TokenClientOptions>? configure = null, Action<IHttpClientBuilder>? more = null, Func<DelegatingHandler>? outer = null) =>
        Hostile.Client("Generic/Basic", _tokens.Url("/token"), _logs, o =>
            {
                o.Headers["X-Api-Key"] = "key-123";
                configure?.Invoke(o);
            },
            s =>
            {
                var api = s.AddHttpClient("api");
                if (outer is not null)
                {
                    api.AddHttpMessageHandler(outer);
                }

                api.AddTokenHandler("attack");
                if (primary is not null)
                {
                    api.ConfigurePrimaryHttpMessageHandler(() => primary);
                }

                more?.Invoke(api);
            });

    private static HttpClient Api(ServiceProvider services) => services.GetRequiredService<IHttpClientFactory>().CreateClient("api");

    /// <summary>Follows redirects with a new request of its own for each hop, as a custom transport might.</summary>
    private sealed class OpaqueFollower : HttpMessageHandler
    {
        private readonly HttpMessageInvoker _inner = new(new SocketsHttpHandler { AllowAutoRedirect = false });

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await _inner.SendAsync(request, cancellationToken);
            while (response.Headers.Location is { } location)
            {
                response.Dispose();
                response = await _inner.SendAsync(new HttpRequestMessage(HttpMethod.Get, new Uri(request.RequestUri!, location)), cancellationToken);
            }

            return response;
        }
    }

    /// <summary>Sends the same message once more after a 503.</summary>
    private sealed class RetryOn503 : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            if (response.StatusCode != HttpStatusCode.ServiceUnavailable)
            {
                return response;
            }

            response.Dispose();
            return await base.SendAsync(request, cancellationToken);
        }
    }

    /// <summary>Sits under the token handler and records whether each response it passes up was disposed.</summary>
    private sealed class ResponseTracker : DelegatingHandler
    {
        public List<TrackedContent> Responses { get; } = [];

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            var tracked = new TrackedContent(await response.Content.ReadAsByteArrayAsync(cancellationToken));
            response.Content = tracked;
            Responses.Add(tracked);
            return response;
        }
    }

    private sealed class TrackedContent(byte[] body) : ByteArrayContent(body)
    {
        public bool Disposed { get; private set; }

        protected override void Dispose(bool disposing)
        {
            Disposed = true;
            base.Dispose(disposing);
        }
    }
}
