using System.Diagnostics.Metrics;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;

namespace TokenClient.Benchmarks;

/// <summary>
/// The hit path while something collects <c>tokenclient.cache.requests</c> (as an OpenTelemetry meter provider does)
/// against the same path with nothing listening, in the same run: a hit is then counted, on a striped counter.
/// </summary>
[MemoryDiagnoser]
public class CacheMetricsBenchmarks
{
    private ServiceProvider _services = null!;
    private MeterListener? _listener;
    private ITokenClient _client = null!;

    // Each benchmark runs in a process of its own, set up for it alone: a listener in the process of the baseline
    // would change the code the JIT makes for both.
    [GlobalSetup(Target = nameof(Quiet))]
    public void SetupQuiet() => _client = Warm(_services = Container());

    [GlobalSetup(Target = nameof(Listened))]
    public void SetupListened()
    {
        _services = Container();
        _listener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == "TokenClient")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        _listener.Start();
        _client = Warm(_services);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _listener?.RecordObservableInstruments(); // reads the counts, as a collection would
        _listener?.Dispose();
        _services.Dispose();
    }

    [Benchmark(Baseline = true, Description = "keyed GetTokenAsync, nothing listening")]
    public AccessToken Quiet() => _client.GetTokenAsync().Result;

    [Benchmark(Description = "keyed GetTokenAsync, cache.requests collected")]
    public AccessToken Listened() => _client.GetTokenAsync().Result;

    private static ITokenClient Warm(ServiceProvider services)
    {
        var client = services.GetRequiredKeyedService<ITokenClient>("api");
        _ = client.GetTokenAsync().AsTask().GetAwaiter().GetResult();
        return client;
    }

    private static ServiceProvider Container()
    {
        var services = new ServiceCollection();
        services.AddTokenClient("api", o =>
            {
                o.TokenEndpoint = new Uri("https://auth.test/token");
                o.ClientId = "id";
                o.ClientSecret = "secret";
            })
            .ConfigureTokenEndpointHttpClient(b => b.ConfigurePrimaryHttpMessageHandler(() => new TokenEndpoint()));
        return services.BuildServiceProvider();
    }
}
