using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using TokenClient.Tests.TestSupport;

namespace TokenClient.Tests.Attacks;

/// <summary>
/// A token endpoint on 127.0.0.1 that answers badly once (a truncated 200, a token no header can carry,
/// a lifetime of nothing), in front of an API on 127.0.0.1: one bad answer is one failed acquisition,
/// never an outage and never a cached token. The client's clock is fake; the servers are real.
/// </summary>
public sealed class HostileTokenEndpointTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private Hostile.Server _server = null!;
    private int _requests;
    private Func<int, string> _answer = n => Good(n);

    public async Task InitializeAsync() => _server = await Hostile.StartAsync(app =>
    {
        app.MapPost("/token", () => Results.Text(_answer(Interlocked.Increment(ref _requests)), "application/json"));
        app.MapGet("/api", (HttpContext context) => context.Request.Headers.Authorization.ToString().StartsWith("Bearer good-", StringComparison.Ordinal)
            ? Results.Text("ok")
            : Results.Unauthorized());
    });

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task TruncatedSuccessDuringRenewal_OfAShortLivedToken_CausesNoFailedCall()
    {
        _answer = n => n == 2 ? """{"access_tok""" : Good(n, expiresIn: 5);
        await using var services = Services(o => o.FailureCooldown = TimeSpan.FromSeconds(5)); // the default
        var api = Api(services);
        (await api.GetStringAsync(_server.Url("/api"))).Should().Be("ok");

        _time.Advance(TimeSpan.FromSeconds(4.6)); // past the renewal point: the renewal gets the truncated body
        (await api.GetStringAsync(_server.Url("/api"))).Should().Be("ok");
        await services.GetRequiredKeyedService<ITokenClient>("attack").RenewalSettledAsync();
        _requests.Should().Be(2);

        _time.Advance(TimeSpan.FromSeconds(0.45)); // the first token has expired, the endpoint is healthy again, and a cooldown (capped at 0.5 s) would still run
        (await api.GetStringAsync(_server.Url("/api"))).Should().Be("ok", "a truncated body is transient: no cooldown may turn it into an outage");
        _requests.Should().Be(3);
    }

    [Theory]
    [InlineData("""{"access_token":"good-1\r\nX-Injected: yes","token_type":"Bearer","expires_in":3600}""", "access_token has a character")]
    [InlineData("""{"access_token":"good-1\nX","token_type":"Bearer","expires_in":3600}""", "access_token has a character")]
    [InlineData("""{"access_token":"good-t\u00f6ken","token_type":"Bearer","expires_in":3600}""", "access_token has a character")]
    [InlineData("""{"access_token":"good-1","token_type":"Bearer","expires_in":1e-300}""", "expires_in of 1E-300 s is below the minimum lifetime")]
    public async Task UnusableToken_ThroughTheHandler_IsATokenRequestException_AndNothingIsCached(string first, string problem)
    {
        _answer = n => n == 1 ? first : Good(n);
        await using var services = Services(o => o.FailureCooldown = TimeSpan.FromSeconds(5));
        var api = Api(services);

        var act = async () => await api.GetStringAsync(_server.Url("/api"));

        (await act.Should().ThrowAsync<TokenRequestException>()).Which.Message.Should().Contain(problem).And.NotContain("good-");
        _server.Requests.Should().NotContain(r => r.PathAndQuery == "/api", "no API request goes out without a usable token");

        _time.Advance(TimeSpan.FromSeconds(5));
        (await api.GetStringAsync(_server.Url("/api"))).Should().Be("ok");
        _requests.Should().Be(2, "the refused token was never cached");
        (await services.GetRequiredKeyedService<ITokenClient>("attack").GetTokenAsync()).Value.Should().Be("good-2");
    }

    private static string Good(int n, double expiresIn = 3600) =>
        $$"""{"access_token":"good-{{n}}","token_type":"Bearer","expires_in":{{expiresIn}}}""";

    private ServiceProvider Services(Action<TokenClientOptions> configure) =>
        Hostile.Client("Generic/Basic", _server.Url("/token"), new CapturingLoggerProvider(), configure, s =>
        {
            s.AddSingleton<TimeProvider>(_time);
            s.AddHttpClient("api").AddTokenHandler("attack");
        });

    private static HttpClient Api(ServiceProvider services) => services.GetRequiredService<IHttpClientFactory>().CreateClient("api");
}
