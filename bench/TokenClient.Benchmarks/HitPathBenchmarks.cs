using System.Net;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Microsoft.Extensions.Logging.Abstractions;
using TokenClient.Caching;
using TokenClient.Http;
using TokenClient.Providers;

namespace TokenClient.Benchmarks;

/// <summary>
/// The path every API call takes once a token is cached, against what it cannot beat: a field
/// read, and the same request without the handler.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class HitPathBenchmarks
{
    private static readonly Uri s_api = new("https://api.test/orders");
    private AccessToken _token = null!;
    private CachingTokenClient _client = null!;
    private HttpMessageInvoker _plain = null!;
    private HttpMessageInvoker _withToken = null!;

    [GlobalSetup]
    public void Setup()
    {
        var time = TimeProvider.System;
        _token = new AccessToken("token", "Bearer", time.GetUtcNow().AddHours(1));
        var issued = new IssuedToken(_token, time.GetUtcNow(), null);
        _client = new CachingTokenClient("bench", (_, _) => Task.FromResult(issued), 0.9, time, NullLogger.Instance);
        _ = _client.GetTokenAsync().AsTask().GetAwaiter().GetResult(); // warm the cache
        _plain = new HttpMessageInvoker(new OkHandler());
        _withToken = new HttpMessageInvoker(new TokenHandler(_client, _ => _client, status => status == HttpStatusCode.Unauthorized, "bench", [], allowInsecureHttp: false, NullLogger.Instance)
        {
            InnerHandler = new OkHandler(),
            MaxRedirects = 50, // as when it takes redirects over from the default primary handler
        });
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _client.Dispose();
        _plain.Dispose();
        _withToken.Dispose();
    }

    [Benchmark(Baseline = true, Description = "field read wrapped in a ValueTask")]
    [BenchmarkCategory("token")]
    public AccessToken FieldRead() => new ValueTask<AccessToken>(Volatile.Read(ref _token)).Result;

    [Benchmark(Description = "GetTokenAsync, cached")]
    [BenchmarkCategory("token")]
    public AccessToken CachedGetToken() => _client.GetTokenAsync().Result;

    [Benchmark(Baseline = true, Description = "request without handler")]
    [BenchmarkCategory("request")]
    public async Task<HttpStatusCode> PlainRequest()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, s_api);
        using var response = await _plain.SendAsync(request, CancellationToken.None);
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

    private sealed class OkHandler : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK));
    }
}
