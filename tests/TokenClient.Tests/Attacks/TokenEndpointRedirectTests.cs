using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using TokenClient.Tests.TestSupport;

namespace TokenClient.Tests.Attacks;

/// <summary>
/// A token endpoint on 127.0.0.1 that redirects to another server (another port, so another origin)
/// which would issue a token: the credentials must never reach it, and no token from it is accepted.
/// </summary>
public sealed class TokenEndpointRedirectTests : IAsyncLifetime
{
    private Hostile.Server _target = null!;
    private Hostile.Server _endpoint = null!;

    public static TheoryData<string, int> Cases()
    {
        var data = new TheoryData<string, int>();
        foreach (var provider in new[] { "Generic/Basic", "Generic/Body", "LoneWolf", "Wll", "Apimw", "Login3", "Wokelo" })
        {
            foreach (var status in new[] { 301, 302, 307, 308 })
            {
                data.Add(provider, status);
            }
        }

        return data;
    }

    public async Task InitializeAsync()
    {
        _target = await Hostile.StartAsync(app => app.MapPost("/token", () => Results.Json(new { access_token = "stolen-token", token_type = "Bearer", expires_in = 3600 })));
        _endpoint = await Hostile.StartAsync(app =>
        {
            app.MapPost("/{status:int}", (int status, HttpContext context) =>
            {
                context.Response.StatusCode = status;
                context.Response.Headers.Location = _target.Url("/token").ToString();
            });
            app.MapPost("/odd", (HttpContext context) =>
            {
                context.Response.StatusCode = 307;
                context.Response.Headers.Location = "//elsewhere.test:99999/token";
            });
        });
    }

    public async Task DisposeAsync()
    {
        await _endpoint.DisposeAsync();
        await _target.DisposeAsync();
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task GetTokenAsync_RedirectToAnotherOrigin_ThrowsNamingStatusAndTarget_AndSendsNothingThere(string provider, int status)
    {
        await using var services = Hostile.Client(provider, _endpoint.Url($"/{status}"), new CapturingLoggerProvider());

        var thrown = await Failure(services);

        thrown.StatusCode.Should().Be((HttpStatusCode)status);
        thrown.IsTransient.Should().BeFalse("a moved endpoint is a configuration to fix, not a fault to retry");
        thrown.Message.Should().Contain($"redirect to {_target.Address.Authority}").And.Contain("never follow redirects");
        _endpoint.Requests.Should().ContainSingle();
        _target.Requests.Should().BeEmpty("the credentials must not be re-posted to the redirect's target");
    }

    public static TheoryData<string> PrimaryHandlers() => new("HttpClientHandler", "SocketsHttpHandler", "wrapped SocketsHttpHandler");

    [Theory]
    [MemberData(nameof(PrimaryHandlers))]
    public async Task GetTokenAsync_UserPrimaryHandlerFollowsRedirects_StillNotFollowed(string primary)
    {
        await using var services = Hostile.Client("Generic/Body", _endpoint.Url("/307"), new CapturingLoggerProvider(), more: s =>
            s.AddHttpClient("TokenClient.attack").ConfigurePrimaryHttpMessageHandler(() => primary switch
            {
                "HttpClientHandler" => new HttpClientHandler { AllowAutoRedirect = true },
                "SocketsHttpHandler" => new SocketsHttpHandler { AllowAutoRedirect = true },
                _ => new PassThrough { InnerHandler = new SocketsHttpHandler { AllowAutoRedirect = true } },
            }));

        var thrown = await Failure(services);

        thrown.StatusCode.Should().Be(HttpStatusCode.TemporaryRedirect);
        _target.Requests.Should().BeEmpty();
    }

    [Fact]
    public async Task GetTokenAsync_HandlerThatFollowsRedirectsBehindOurBack_TokenFromTheTargetIsRefused()
    {
        // A handler we cannot reach into (not HttpClientHandler or SocketsHttpHandler) that follows the redirect itself.
        await using var services = Hostile.Client("Generic/Basic", _endpoint.Url("/307"), new CapturingLoggerProvider(), more: s =>
            s.AddHttpClient("TokenClient.attack").ConfigurePrimaryHttpMessageHandler(() => new OpaqueFollower()));

        var thrown = await Failure(services);

        thrown.StatusCode.Should().Be(HttpStatusCode.OK);
        thrown.Message.Should().Contain($"redirect to {_target.Address.Authority}");
        _target.Requests.Should().ContainSingle("this handler did follow");
    }

    [Fact]
    public async Task GetTokenAsync_RedirectWithALocationThatCannotBeResolved_IsStillATokenRequestException()
    {
        await using var services = Hostile.Client("Generic/Body", _endpoint.Url("/odd"), new CapturingLoggerProvider());

        var thrown = await Failure(services);

        thrown.StatusCode.Should().Be(HttpStatusCode.TemporaryRedirect);
        thrown.Message.Should().Contain("a redirect without a usable Location");
    }

    [Fact]
    public async Task GetTokenAsync_SharedPrimaryHandlerAlreadyUsedAndFollowingRedirects_ThrowsAClearError()
    {
        var shared = new SocketsHttpHandler { AllowAutoRedirect = true };
        using (var invoker = new HttpMessageInvoker(shared, disposeHandler: false))
        {
            (await invoker.SendAsync(new HttpRequestMessage(HttpMethod.Get, _target.Url("/")), default)).Dispose();
        }

        await using var services = Hostile.Client("Generic/Body", _endpoint.Url("/307"), new CapturingLoggerProvider(), more: s =>
            s.AddHttpClient("TokenClient.attack").ConfigurePrimaryHttpMessageHandler(() => shared));

        var act = async () => await services.GetRequiredKeyedService<ITokenClient>("attack").GetTokenAsync();

        (await act.Should().ThrowAsync<InvalidOperationException>()).Which.Message.Should()
            .Contain("'TokenClient.attack'").And.Contain("set AllowAutoRedirect = false on it");
        _endpoint.Requests.Should().BeEmpty("nothing is sent through a handler that would follow the redirect");
    }

    private static async Task<TokenRequestException> Failure(ServiceProvider services)
    {
        var act = async () => await services.GetRequiredKeyedService<ITokenClient>("attack").GetTokenAsync();
        return (await act.Should().ThrowAsync<TokenRequestException>()).Which;
    }

    private sealed class PassThrough : DelegatingHandler;

    /// <summary>Follows one redirect with its own inner handler, as a custom transport might.</summary>
    private sealed class OpaqueFollower : HttpMessageHandler
    {
        private readonly HttpMessageInvoker _inner = new(new SocketsHttpHandler { AllowAutoRedirect = false });

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var first = await _inner.SendAsync(request, cancellationToken);
            if (first.Headers.Location is not { } location)
            {
                return first;
            }

            var body = await request.Content!.ReadAsByteArrayAsync(cancellationToken);
            var again = new HttpRequestMessage(request.Method, location) { Content = new ByteArrayContent(body) };
            again.Content.Headers.ContentType = request.Content.Headers.ContentType;
            return await _inner.SendAsync(again, cancellationToken);
        }
    }
}
