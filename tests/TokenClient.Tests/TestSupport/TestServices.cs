using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using TokenClient.Clients;

namespace TokenClient.Tests.TestSupport;

/// <summary>
/// The one container of the tests: a token client (named "test" unless said otherwise) whose token
/// endpoint is a <see cref="FakeTokenEndpoint"/>, or a real server when <c>endpoint</c> is given, on
/// fake time unless another clock is given. Tests of registration itself build their own.
/// </summary>
internal sealed class TestServices : IDisposable, IAsyncDisposable
{
    public const string ClientName = "test";
    public static readonly Uri Endpoint = new("https://auth.test/oauth/token");

    private readonly FakeTimeProvider? _fakeTime;

    /// <param name="configure">Options on top of the defaults (the fake endpoint, "client-id", "client-secret", no retries), or on top of <paramref name="configuration"/>.</param>
    /// <param name="more">Further services: an API client with the handler, another primary handler.</param>
    /// <param name="name">The client's name.</param>
    /// <param name="configuration">Binds the options from configuration instead of the defaults.</param>
    /// <param name="time">The clock: a <see cref="FakeTimeProvider"/> of its own by default; a counting one, or the system clock, when given.</param>
    /// <param name="logs">Captures every log line, from Trace up.</param>
    /// <param name="endpoint">A real token endpoint (a loopback server) in place of the fake one.</param>
    public TestServices(
        Action<TokenClientOptions>? configure = null,
        Action<IServiceCollection>? more = null,
        string name = ClientName,
        IConfiguration? configuration = null,
        TimeProvider? time = null,
        CapturingLoggerProvider? logs = null,
        Uri? endpoint = null)
    {
        Name = name;
        time ??= new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        _fakeTime = time switch
        {
            FakeTimeProvider fake => fake,
            CountingTimeProvider counting => counting.Fake,
            _ => null,
        };
        TokenEndpoint = new FakeTokenEndpoint(time);

        var services = new ServiceCollection();
        services.AddSingleton(time);
        if (logs is not null)
        {
            services.AddLogging(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Trace));
        }

        var builder = configuration is null
            ? services.AddTokenClient(name, o =>
            {
                o.TokenEndpoint = endpoint ?? Endpoint;
                o.ClientId = "client-id";
                o.ClientSecret = "client-secret";
                o.MaxRetries = 0; // retries wait on fake time: the tests of resilience turn them on and drive the clock
                configure?.Invoke(o);
            })
            : services.AddTokenClient(name, configuration);
        if (configuration is not null && configure is not null)
        {
            services.Configure(name, configure);
        }

        if (endpoint is null)
        {
            builder.ConfigureTokenEndpointHttpClient(b => b.ConfigurePrimaryHttpMessageHandler(() => TokenEndpoint.Handler));
        }

        more?.Invoke(services);
        Provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }

    public string Name { get; }

    /// <summary>Configuration for a client of the fake endpoint ("id", "secret", no retries), with more keys or other values.</summary>
    public static IConfigurationRoot Settings(params (string Key, string? Value)[] more)
    {
        var values = new Dictionary<string, string?>
        {
            ["TokenEndpoint"] = Endpoint.ToString(),
            ["ClientId"] = "id",
            ["ClientSecret"] = "secret",
            ["MaxRetries"] = "0",
        };
        foreach (var (key, value) in more)
        {
            values[key] = value;
        }

        return new ConfigurationBuilder().AddInMemoryCollection(values).Build();
    }

    /// <summary>The fake clock; a container on the system clock has none.</summary>
    public FakeTimeProvider Time => _fakeTime ?? throw new InvalidOperationException("This container runs on the system clock.");

    /// <summary>The fake token endpoint; unused when the container was given a real one.</summary>
    public FakeTokenEndpoint TokenEndpoint { get; }

    public ServiceProvider Provider { get; }

    public ITokenClient Client => Provider.GetRequiredService<ITokenClientFactory>().GetClient(Name);

    /// <summary>The live client behind <see cref="Client"/>, to look at its cache and its tenants' entries.</summary>
    public NamedClient Named => Provider.GetRequiredService<TokenClientFactory>().Named(Name);

    /// <summary>A distributed cache in memory that several containers can share, as instances share Redis.</summary>
    public static MemoryDistributedCache SharedCache() => new(Options.Create(new MemoryDistributedCacheOptions()));

    public HttpClient Http(string name) => Provider.GetRequiredService<IHttpClientFactory>().CreateClient(name);

    public void Dispose() => Provider.Dispose();

    public ValueTask DisposeAsync() => Provider.DisposeAsync();
}
