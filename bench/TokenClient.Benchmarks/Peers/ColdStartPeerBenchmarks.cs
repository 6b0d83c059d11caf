using BenchmarkDotNet.Attributes;
using Duende.IdentityModel.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Identity.Client;

namespace TokenClient.Benchmarks.Peers;

/// <summary>
/// What a serverless function pays on every cold start: a new container and its first token. Duende.IdentityModel's new
/// container (<c>AddHttpClient</c>) and first request is the baseline; TokenClient's and MSAL.NET's are measured in the same run.
/// </summary>
[MemoryDiagnoser]
public class ColdStartPeerBenchmarks
{
    private readonly TokenEndpoint _endpoint = new();

    [Benchmark(Baseline = true, Description = "Duende.IdentityModel: new container, first request")]
    public async Task<string?> Duende()
    {
        var services = new ServiceCollection();
        services.AddHttpClient("auth").ConfigurePrimaryHttpMessageHandler(() => _endpoint);
        await using var container = services.BuildServiceProvider();
        var http = container.GetRequiredService<IHttpClientFactory>().CreateClient("auth");
        return (await http.RequestClientCredentialsTokenAsync(PeerSetup.DuendeRequest()).ConfigureAwait(false)).AccessToken;
    }

    [Benchmark(Description = "TokenClient: new container, first token")]
    public async Task<AccessToken> TokenClient()
    {
        var services = new ServiceCollection();
        services.AddApiTokenClient(_endpoint, o => o.Scope = "api");
        await using var container = services.BuildServiceProvider();
        return await container.GetRequiredKeyedService<ITokenClient>("api").GetTokenAsync().ConfigureAwait(false);
    }

    [Benchmark(Description = "MSAL: new application, first token")]
    public async Task<string> Msal() => (await PeerSetup.Msal(_endpoint).AcquireTokenForClient(PeerSetup.Scopes).ExecuteAsync().ConfigureAwait(false)).AccessToken;
}
