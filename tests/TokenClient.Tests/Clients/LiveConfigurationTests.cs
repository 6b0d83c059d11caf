using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TokenClient.Tests.TestSupport;

namespace TokenClient.Tests.Clients;

/// <summary>
/// A real appsettings.json with reloadOnChange, rewritten on disk while the container runs, against a
/// token endpoint and an API on 127.0.0.1: every handle a user may hold follows the new configuration.
/// </summary>
public sealed class LiveConfigurationTests : IAsyncLifetime, IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("tokenclient-live-").FullName;
    private readonly ConcurrentQueue<(string Secret, string? Scope, string Token)> _issued = new();
    private readonly CapturingLoggerProvider _logs = new();
    private WebApplication _server = null!;
    private Uri _address = null!;
    private volatile string _acceptedSecret = "secret-one";

    public async Task InitializeAsync()
    {
        _server = Loopback.CreateBuilder().Build();
        _server.MapPost("/token", async (HttpContext context) =>
        {
            var form = await context.Request.ReadFormAsync();
            var secret = form["client_secret"].ToString();
            if (secret != _acceptedSecret)
            {
                return Results.Json(new { error = "invalid_client" }, statusCode: 401);
            }

            var token = $"token-{_issued.Count + 1}";
            _issued.Enqueue((secret, form.TryGetValue("scope", out var scope) ? scope.ToString() : null, token));
            return Results.Json(new { access_token = token, token_type = "Bearer", expires_in = 3600 });
        });

        // Only tokens got with the secret in force are good: rotating the secret revokes the tokens of the old one.
        _server.MapGet("/api", (HttpContext context) =>
            _issued.Any(i => $"Bearer {i.Token}" == context.Request.Headers.Authorization && i.Secret == _acceptedSecret)
                ? Results.Text("ok")
                : Results.Unauthorized());
        _address = await Loopback.StartAsync(_server);
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task SecretRotatedOnDisk_EveryHandleMadeBeforeUsesTheNewSecret_WithoutARequestStorm()
    {
        WriteSettings("secret-one", scope: "orders");
        await using var services = Services();
        var keyed = services.GetRequiredKeyedService<ITokenClient>("live");
        var fromFactory = services.GetRequiredService<ITokenClientFactory>().GetClient("live");
        var http = services.GetRequiredService<IHttpClientFactory>().CreateClient("api");
        (await http.GetStringAsync(new Uri(_address, "/api"))).Should().Be("ok");

        _acceptedSecret = "secret-two"; // the provider rotates: tokens of secret-one are revoked
        await RewriteAndWaitAsync(() => WriteSettings("secret-two", scope: "orders"));

        (await keyed.GetTokenAsync()).Value.Should().Be("token-1", "a reload is not a request storm: the cached token serves until rejected or due");
        (await http.GetStringAsync(new Uri(_address, "/api"))).Should().Be("ok", "the 401 on the old token is answered by one renewal with the new secret");
        _issued.Select(i => i.Secret).Should().Equal("secret-one", "secret-two");
        (await keyed.GetTokenAsync()).Value.Should().Be("token-2");
        (await fromFactory.GetTokenAsync()).Value.Should().Be("token-2", "a handle taken before the change follows it");
    }

    [Fact]
    public async Task ScopeChangedOnDisk_TheOldTokenIsNeverServedForTheNewScope()
    {
        WriteSettings("secret-one", scope: "orders");
        await using var services = Services();
        var keyed = services.GetRequiredKeyedService<ITokenClient>("live");
        var fromFactory = services.GetRequiredService<ITokenClientFactory>().GetClient("live");
        var tenant = services.GetRequiredService<ITokenClientFactory>().GetClient("live", "acme");
        (await keyed.GetTokenAsync()).Value.Should().Be("token-1");
        (await tenant.GetTokenAsync()).Value.Should().Be("token-2");

        await RewriteAndWaitAsync(() => WriteSettings("secret-one", scope: "orders invoices"));

        (await fromFactory.GetTokenAsync()).Value.Should().Be("token-3");
        (await keyed.GetTokenAsync()).Value.Should().Be("token-3");
        (await tenant.GetTokenAsync()).Value.Should().Be("token-4", "a tenant's handle taken before the change follows it too");
        _issued.Select(i => i.Scope).Should().Equal("orders", "orders", "orders invoices", "orders invoices");
    }

    [Fact]
    public async Task CooldownAfterInvalidClient_NewSecretOnDisk_TokenOnTheVeryNextCall()
    {
        WriteSettings("wrong-secret", scope: "orders");
        await using var services = Services();
        var keyed = services.GetRequiredKeyedService<ITokenClient>("live");
        var first = await keyed.Invoking(k => k.GetTokenAsync().AsTask()).Should().ThrowAsync<TokenRequestException>();
        first.Which.Error.Should().Be("invalid_client");
        (await keyed.Invoking(k => k.GetTokenAsync().AsTask()).Should().ThrowAsync<TokenRequestException>())
            .Which.InnerException.Should().BeOfType<TokenRequestException>().Which.Message.Should().Be(first.Which.Message, "the cooldown holds");

        await RewriteAndWaitAsync(() => WriteSettings("secret-one", scope: "orders"));

        (await keyed.GetTokenAsync()).Value.Should().Be("token-1", "a new secret ends the cooldown at once, with no time passing");
        _issued.Should().ContainSingle().Which.Secret.Should().Be("secret-one");
    }

    [Fact]
    public async Task InvalidReload_LastValidDefinitionKeepsServing_AndTheErrorIsLogged()
    {
        WriteSettings("secret-one", scope: "orders");
        await using var services = Services();
        var keyed = services.GetRequiredKeyedService<ITokenClient>("live");
        var token = await keyed.GetTokenAsync();

        await RewriteAndWaitAsync(() => WriteSettings("secret-two", scope: "orders", clientId: ""), eventId: 13);

        // The file watcher may report one rewrite more than once: every report is refused the same way.
        var errors = _logs.Lines.Where(l => l.Id.Id == 13).ToList();
        errors.Should().NotBeEmpty().And.OnlyContain(e => e.Level == LogLevel.Error
            && e.Text.Contains("Token client 'live': ClientId is required.", StringComparison.Ordinal)
            && !e.Text.Contains("secret-two", StringComparison.Ordinal));
        keyed.Invalidate(token);
        (await keyed.GetTokenAsync()).Value.Should().Be("token-2");
        _issued.Select(i => i.Secret).Should().Equal("secret-one", "secret-one");
    }

    private ServiceProvider Services()
    {
        var configuration = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(_folder, "appsettings.json"), optional: false, reloadOnChange: true)
            .Build();
        var services = new ServiceCollection();
        services.AddLogging(b => b.AddProvider(_logs).SetMinimumLevel(LogLevel.Information));
        services.AddTokenClients(configuration.GetSection("TokenClients"));
        services.AddHttpClient("api").AddTokenHandler("live");
        return services.BuildServiceProvider();
    }

    // Written beside the file and moved over it, so that the watcher never reads half a file.
    private void WriteSettings(string secret, string scope, string clientId = "live-client")
    {
        var next = Path.Combine(_folder, "appsettings.next");
        File.WriteAllText(next, Settings(secret, scope, clientId));
        File.Move(next, Path.Combine(_folder, "appsettings.json"), overwrite: true);
    }

    private string Settings(string secret, string scope, string clientId) => $$"""
            {
              "TokenClients": {
                "live": {
                  "TokenEndpoint": "{{new Uri(_address, "/token")}}",
                  "ClientId": "{{clientId}}",
                  "ClientSecret": "{{secret}}",
                  "ClientAuthentication": "Body",
                  "Scope": "{{scope}}",
                  "MaxRetries": 0
                }
              }
            }
            """;

    // Rewrites the file and waits until the client has taken the change (event 12) or refused it (13).
    private async Task RewriteAndWaitAsync(Action rewrite, int eventId = 12)
    {
        var seen = _logs.Lines.Count(l => l.Id.Id == eventId);
        rewrite();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (_logs.Lines.Count(l => l.Id.Id == eventId) == seen)
        {
            await Task.Delay(20, timeout.Token);
        }
    }
}
