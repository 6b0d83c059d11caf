using System.Net;
using System.Net.Http.Headers;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Identity.Client;

namespace TokenClient.Benchmarks.Peers;

/// <summary>
/// One API request with a cached token, through the pipeline an <c>IHttpClientFactory</c> client gets: the bare pipeline
/// (the baseline), with TokenClient's handler, with a hand-written handler over MSAL.NET, and with one over an
/// <see cref="IMemoryCache"/>, in the same run.
/// </summary>
[MemoryDiagnoser]
public class HandlerPeerBenchmarks
{
    private static readonly Uri s_api = new("https://api.test/orders");
    private ServiceProvider _services = null!;
    private HttpClient _bare = null!;
    private HttpClient _tokenClient = null!;
    private HttpClient _msal = null!;
    private HttpClient _memoryCache = null!;

    [GlobalSetup]
    public void Setup()
    {
        var endpoint = new TokenEndpoint();
        var services = new ServiceCollection();
        services.AddApiTokenClient(endpoint);
        var msal = PeerSetup.Msal(endpoint);
        var cache = new MemoryCache(new MemoryCacheOptions());
        cache.Set("token", "token");
        services.AddSingleton<IMemoryCache>(cache);
        services.AddHttpClient("bare").ConfigurePrimaryHttpMessageHandler(() => new Ok());
        services.AddHttpClient("tokenclient").ConfigurePrimaryHttpMessageHandler(() => new Ok()).AddTokenHandler("api");
        services.AddHttpClient("msal").ConfigurePrimaryHttpMessageHandler(() => new Ok()).AddHttpMessageHandler(() => new MsalHandler(msal));
        services.AddHttpClient("memorycache").ConfigurePrimaryHttpMessageHandler(() => new Ok()).AddHttpMessageHandler(sp => new MemoryCacheHandler(sp.GetRequiredService<IMemoryCache>()));
        _services = services.BuildServiceProvider();
        var factory = _services.GetRequiredService<IHttpClientFactory>();
        (_bare, _tokenClient, _msal, _memoryCache) = (factory.CreateClient("bare"), factory.CreateClient("tokenclient"), factory.CreateClient("msal"), factory.CreateClient("memorycache"));
        foreach (var client in new[] { _bare, _tokenClient, _msal, _memoryCache })
        {
            Send(client).GetAwaiter().GetResult(); // the token fetched and cached
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _services.Dispose();

    [Benchmark(Baseline = true, Description = "bare IHttpClientFactory pipeline")]
    public Task<HttpStatusCode> Bare() => Send(_bare);

    [Benchmark(Description = "TokenClient: AddTokenHandler")]
    public Task<HttpStatusCode> TokenClient() => Send(_tokenClient);

    [Benchmark(Description = "MSAL: AcquireTokenForClient in a handler")]
    public Task<HttpStatusCode> Msal() => Send(_msal);

    [Benchmark(Description = "IMemoryCache in a handler")]
    public Task<HttpStatusCode> MemoryCache() => Send(_memoryCache);

    private static async Task<HttpStatusCode> Send(HttpClient client)
    {
        using var response = await client.GetAsync(s_api).ConfigureAwait(false);
        return response.StatusCode;
    }

    private sealed class Ok : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK));
    }

    // What a team writes around MSAL for client credentials: its cache answers, the handler sets the header.
    private sealed class MsalHandler(IConfidentialClientApplication msal) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var result = await msal.AcquireTokenForClient(PeerSetup.Scopes).ExecuteAsync(cancellationToken).ConfigureAwait(false);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", result.AccessToken);
            return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
    }

    // The hand-rolled cache at its cheapest: a lookup, the header.
    private sealed class MemoryCacheHandler(IMemoryCache cache) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", cache.Get<string>("token"));
            return base.SendAsync(request, cancellationToken);
        }
    }
}
