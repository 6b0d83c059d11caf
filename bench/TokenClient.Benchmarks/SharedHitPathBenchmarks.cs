using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;

namespace TokenClient.Benchmarks;

/// <summary>
/// The hit path of a client that shares its tokens (SharedCache) against the same client without sharing, in
/// the same run: the shared level sits behind the in-memory cache, so a cached token costs the same.
/// </summary>
[MemoryDiagnoser]
public class SharedHitPathBenchmarks
{
    private ServiceProvider _services = null!;
    private ITokenClient _local = null!;
    private ITokenClient _shared = null!;
    private ITokenClient _localTenant = null!;
    private ITokenClient _sharedTenant = null!;

    [GlobalSetup]
    public void Setup()
    {
        var services = new ServiceCollection();
        services.AddDistributedMemoryCache();
        foreach (var name in new[] { "local", "shared" })
        {
            services.AddTokenClient(name, o =>
                {
                    o.TokenEndpoint = new Uri("https://auth.test/token");
                    o.ClientId = "id";
                    o.ClientSecret = "secret";
                    o.SharedCache = name == "shared";
                    o.AllowInsecureSharedCache = true; // the hit path never reads the shared cache, encrypted or not
                })
                .ConfigureTokenEndpointHttpClient(b => b.ConfigurePrimaryHttpMessageHandler(() => new TokenEndpoint()));
        }

        _services = services.BuildServiceProvider();
        var factory = _services.GetRequiredService<ITokenClientFactory>();
        _local = _services.GetRequiredKeyedService<ITokenClient>("local");
        _shared = _services.GetRequiredKeyedService<ITokenClient>("shared");
        _localTenant = factory.GetClient("local", "tenant");
        _sharedTenant = factory.GetClient("shared", "tenant");
        foreach (var client in new[] { _local, _shared, _localTenant, _sharedTenant })
        {
            _ = client.GetTokenAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _services.Dispose();

    [Benchmark(Baseline = true, Description = "keyed GetTokenAsync, no sharing")]
    public AccessToken Local() => _local.GetTokenAsync().Result;

    [Benchmark(Description = "keyed GetTokenAsync, SharedCache")]
    public AccessToken Shared() => _shared.GetTokenAsync().Result;

    [Benchmark(Description = "tenant's GetTokenAsync, no sharing")]
    public AccessToken LocalTenant() => _localTenant.GetTokenAsync().Result;

    [Benchmark(Description = "tenant's GetTokenAsync, SharedCache")]
    public AccessToken SharedTenant() => _sharedTenant.GetTokenAsync().Result;
}
