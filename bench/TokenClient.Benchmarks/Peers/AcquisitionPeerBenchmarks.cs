using BenchmarkDotNet.Attributes;
using Duende.IdentityModel.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Identity.Client;

namespace TokenClient.Benchmarks.Peers;

/// <summary>
/// One token acquisition against the in-process endpoint: Duende.IdentityModel's raw client-credentials request (the
/// baseline: a request and its parsing, nothing else), TokenClient's (cache, retries and timeouts, telemetry, logging,
/// secret hygiene), and MSAL.NET's with a forced refresh, in the same run.
/// </summary>
[MemoryDiagnoser]
public class AcquisitionPeerBenchmarks
{
    private ServiceProvider _services = null!;
    private ITokenClient _tokenClient = null!;
    private HttpClient _duende = null!;
    private IConfidentialClientApplication _msal = null!;

    [GlobalSetup]
    public void Setup()
    {
        var endpoint = new TokenEndpoint();
        var services = new ServiceCollection();
        services.AddApiTokenClient(endpoint, o => o.Scope = "api");
        _services = services.BuildServiceProvider();
        _tokenClient = _services.GetRequiredKeyedService<ITokenClient>("api");
        _duende = new HttpClient(endpoint, disposeHandler: false);
        _msal = PeerSetup.Msal(endpoint);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _duende.Dispose();
        _services.Dispose();
    }

    [Benchmark(Baseline = true, Description = "Duende.IdentityModel: RequestClientCredentialsTokenAsync")]
    public async Task<string?> Duende() => (await _duende.RequestClientCredentialsTokenAsync(PeerSetup.DuendeRequest()).ConfigureAwait(false)).AccessToken;

    // The token the API rejected is dropped, and the next call acquires a new one: one acquisition per operation.
    [Benchmark(Description = "TokenClient: Invalidate, then GetTokenAsync")]
    public async Task<AccessToken> TokenClient()
    {
        var token = await _tokenClient.GetTokenAsync().ConfigureAwait(false);
        _tokenClient.Invalidate(token);
        return await _tokenClient.GetTokenAsync().ConfigureAwait(false);
    }

    [Benchmark(Description = "MSAL: AcquireTokenForClient.WithForceRefresh")]
    public async Task<string> Msal() => (await _msal.AcquireTokenForClient(PeerSetup.Scopes).WithForceRefresh(true).ExecuteAsync().ConfigureAwait(false)).AccessToken;
}
