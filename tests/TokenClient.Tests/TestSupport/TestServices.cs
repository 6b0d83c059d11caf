using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace TokenClient.Tests.TestSupport;

/// <summary>A container with one token client named "test" whose token endpoint is a <see cref="FakeTokenEndpoint"/>, on fake time.</summary>
internal sealed class TestServices : IDisposable
{
    public const string ClientName = "test";
    public static readonly Uri Endpoint = new("https://auth.test/oauth/token");

    public TestServices(Action<TokenClientOptions>? configure = null, Action<IServiceCollection>? more = null)
    {
        Time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        TokenEndpoint = new FakeTokenEndpoint(Time);
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(Time);
        services.AddTokenClient(ClientName, o =>
            {
                o.TokenEndpoint = Endpoint;
                o.ClientId = "client-id";
                o.ClientSecret = "client-secret";
                o.MaxRetries = 0; // retries wait on fake time: the tests of resilience turn them on and drive the clock
                configure?.Invoke(o);
            })
            .ConfigureTokenEndpointHttpClient(b => b.ConfigurePrimaryHttpMessageHandler(() => TokenEndpoint.Handler));
        more?.Invoke(services);
        Provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }

    public FakeTimeProvider Time { get; }

    public FakeTokenEndpoint TokenEndpoint { get; }

    public ServiceProvider Provider { get; }

    public ITokenClient Client => Provider.GetRequiredService<ITokenClientFactory>().GetClient(ClientName);

    public void Dispose() => Provider.Dispose();
}
