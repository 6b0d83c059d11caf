using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Identity.Client;

namespace TokenClient.Benchmarks.Peers;

/// <summary>
/// A cached token, as every API call asks for it: TokenClient's keyed client, by name and by tenant, against an
/// <see cref="IMemoryCache"/> lookup (the baseline) and MSAL.NET's cached <c>AcquireTokenForClient</c>, with and without
/// a tenant of the call's own, in the same run.
/// </summary>
[MemoryDiagnoser]
public class CachedTokenPeerBenchmarks
{
    private ServiceProvider _services = null!;
    private ITokenClientFactory _factory = null!;
    private ITokenClient _keyed = null!;
    private IMemoryCache _memoryCache = null!;
    private IConfidentialClientApplication _msal = null!;
    private string[] _tenants = null!;
    private int _next;

    /// <summary>How many tenants hold a token when the lookups run.</summary>
    [Params(1, 10_000)]
    public int Tenants { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var endpoint = new TokenEndpoint();
        var services = new ServiceCollection();
        services.AddApiTokenClient(endpoint, o => o.MaxTenants = 20_000);
        _services = services.BuildServiceProvider();
        _factory = _services.GetRequiredService<ITokenClientFactory>();
        _keyed = _services.GetRequiredKeyedService<ITokenClient>("api");
        _memoryCache = new MemoryCache(new MemoryCacheOptions());
        _msal = PeerSetup.Msal(endpoint);
        _tenants = Enumerable.Range(0, Tenants).Select(i => new Guid(i, 0, 0, new byte[8]).ToString()).ToArray();
        foreach (var tenant in _tenants)
        {
            _memoryCache.Set(tenant, "token");
            _ = _factory.GetClient("api", tenant).GetTokenAsync().AsTask().GetAwaiter().GetResult();
            _ = _msal.AcquireTokenForClient(PeerSetup.Scopes).WithTenantId(tenant).ExecuteAsync().GetAwaiter().GetResult();
        }

        _ = _keyed.GetTokenAsync().AsTask().GetAwaiter().GetResult();
        _ = _msal.AcquireTokenForClient(PeerSetup.Scopes).ExecuteAsync().GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _memoryCache.Dispose();
        _services.Dispose();
    }

    [Benchmark(Baseline = true, Description = "IMemoryCache.TryGetValue, string key")]
    public bool MemoryCache() => _memoryCache.TryGetValue(NextTenant(), out _);

    [Benchmark(Description = "TokenClient: keyed ITokenClient")]
    public AccessToken Keyed() => _keyed.GetTokenAsync().Result;

    [Benchmark(Description = "TokenClient: GetClient(name)")]
    public AccessToken ByName() => _factory.GetClient("api").GetTokenAsync().Result;

    [Benchmark(Description = "TokenClient: GetClient(name, tenant)")]
    public AccessToken ByTenant() => _factory.GetClient("api", NextTenant()).GetTokenAsync().Result;

    [Benchmark(Description = "MSAL: AcquireTokenForClient, cached")]
    public Task<AuthenticationResult> Msal() => _msal.AcquireTokenForClient(PeerSetup.Scopes).ExecuteAsync();

    [Benchmark(Description = "MSAL: AcquireTokenForClient.WithTenantId, cached")]
    public Task<AuthenticationResult> MsalByTenant() => _msal.AcquireTokenForClient(PeerSetup.Scopes).WithTenantId(NextTenant()).ExecuteAsync();

    // The tenants in turn, so that the 10,000-tenant runs do not hit one hot entry.
    private string NextTenant() => _tenants[_next = _next + 1 == _tenants.Length ? 0 : _next + 1];
}
