using System.Net;
using System.Net.Http.Headers;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using TokenClient.Clients;
using TokenClient.Http;

namespace TokenClient.Benchmarks;

/// <summary>
/// The paths every API call takes once a token is cached, each against what it is held to in the same
/// run: an <see cref="IMemoryCache"/> lookup with a string key, and a handler that sets a constant
/// <c>Authorization</c> value.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class HitPathBenchmarks
{
    private static readonly Uri s_api = new("https://api.test/orders");
    private ServiceProvider _services = null!;
    private ITokenClientFactory _factory = null!;
    private ITokenClient _keyed = null!;
    private IMemoryCache _memoryCache = null!;
    private string[] _tenants = null!;
    private HttpMessageInvoker _constant = null!;
    private HttpMessageInvoker _withToken = null!;
    private int _next;

    /// <summary>How many tenants hold a token when the lookups run.</summary>
    [Params(1, 10_000)]
    public int Tenants { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var services = new ServiceCollection();
        foreach (var provider in new[] { "Generic", "Login3" })
        {
            services.AddTokenClient(provider, o =>
                {
                    o.Provider = provider;
                    o.TokenEndpoint = new Uri("https://auth.test/token");
                    o.Domain = provider == "Login3" ? "login.test" : null;
                    o.Audience = provider == "Login3" ? "https://api.test" : null;
                    o.ClientId = "id";
                    o.ClientSecret = "secret";
                    o.MaxTenants = 20_000;
                })
                .ConfigureTokenEndpointHttpClient(b => b.ConfigurePrimaryHttpMessageHandler(() => new TokenEndpoint()));
        }

        _services = services.BuildServiceProvider();
        _factory = _services.GetRequiredService<ITokenClientFactory>();
        _keyed = _services.GetRequiredKeyedService<ITokenClient>("Generic");
        _memoryCache = new MemoryCache(new MemoryCacheOptions());
        _tenants = Enumerable.Range(0, Tenants).Select(i => $"tenant-{i}").ToArray();
        foreach (var tenant in _tenants)
        {
            _memoryCache.Set(tenant, new object());
            _ = _factory.GetClient("Generic", tenant).GetTokenAsync().AsTask().GetAwaiter().GetResult();
            _ = _factory.GetClient("Login3", tenant).GetTokenAsync().AsTask().GetAwaiter().GetResult();
        }

        _ = _factory.GetClient("Generic").GetTokenAsync().AsTask().GetAwaiter().GetResult();
        _ = _factory.GetClient("Login3").GetTokenAsync().AsTask().GetAwaiter().GetResult();

        var token = new AuthenticationHeaderValue("Bearer", "token");
        _constant = new HttpMessageInvoker(new ConstantAuthorization(token) { InnerHandler = new OkHandler() });
        // The handlers AddTokenHandler puts on an HttpClient, with redirects taken over as from the default primary handler.
        var named = _services.GetRequiredService<TokenClientFactory>().Named("Generic");
        _withToken = new HttpMessageInvoker(new RedirectGuard { MaxRedirects = 50, InnerHandler = new TokenHandler(named, NullLogger.Instance) { InnerHandler = new OkHandler() } });
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _constant.Dispose();
        _withToken.Dispose();
        _memoryCache.Dispose();
        _services.Dispose();
    }

    [Benchmark(Baseline = true, Description = "IMemoryCache.TryGetValue, string key")]
    [BenchmarkCategory("lookup")]
    public bool MemoryCacheLookup() => _memoryCache.TryGetValue(NextTenant(), out _);

    [Benchmark(Description = "keyed ITokenClient.GetTokenAsync")]
    [BenchmarkCategory("lookup")]
    public AccessToken Keyed() => _keyed.GetTokenAsync().Result;

    [Benchmark(Description = "GetClient(name).GetTokenAsync")]
    [BenchmarkCategory("lookup")]
    public AccessToken ByName() => _factory.GetClient("Generic").GetTokenAsync().Result;

    [Benchmark(Description = "GetClient(name).GetTokenAsync, Login3")]
    [BenchmarkCategory("lookup")]
    public AccessToken ByNameLogin3() => _factory.GetClient("Login3").GetTokenAsync().Result;

    [Benchmark(Description = "GetClient(name, tenant).GetTokenAsync")]
    [BenchmarkCategory("lookup")]
    public AccessToken ByTenant() => _factory.GetClient("Generic", NextTenant()).GetTokenAsync().Result;

    [Benchmark(Description = "GetClient(name, tenant).GetTokenAsync, Login3")]
    [BenchmarkCategory("lookup")]
    public AccessToken ByTenantLogin3() => _factory.GetClient("Login3", NextTenant()).GetTokenAsync().Result;

    [Benchmark(Baseline = true, Description = "request through a handler setting a constant Authorization")]
    [BenchmarkCategory("request")]
    public async Task<HttpStatusCode> ConstantRequest()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, s_api);
        using var response = await _constant.SendAsync(request, CancellationToken.None);
        return response.StatusCode;
    }

    [Benchmark(Description = "request through TokenHandler")]
    [BenchmarkCategory("request")]
    public async Task<HttpStatusCode> RequestWithToken()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, s_api);
        using var response = await _withToken.SendAsync(request, CancellationToken.None);
        return response.StatusCode;
    }

    // The tenants in turn, so that the 10,000-tenant runs do not hit one hot entry.
    private string NextTenant() => _tenants[_next = _next + 1 == _tenants.Length ? 0 : _next + 1];

    private sealed class OkHandler : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK));
    }

    private sealed class ConstantAuthorization(AuthenticationHeaderValue value) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            request.Headers.Authorization = value;
            return base.SendAsync(request, cancellationToken);
        }
    }
}
