using Microsoft.Extensions.DependencyInjection.Extensions;
using TokenClient;
using TokenClient.Clients;
using TokenClient.Testing;

// As the ecosystem does: registration extensions live in the namespace of IServiceCollection.
namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Replaces a token client's token endpoint with a fake one, for tests.</summary>
public static class FakeTokenClientServiceCollectionExtensions
{
    /// <summary>
    /// Answers the token requests of the token client <paramref name="name"/> in memory, with the
    /// <see cref="FakeTokenEndpoint"/> returned: no request leaves the process. If no client of that name is
    /// registered yet, one is (a Generic client with a made-up endpoint and credentials); if the application
    /// registered it already (call this after the application's registrations, as in
    /// <c>ConfigureTestServices</c>), its provider and wire format are kept, and only what a test configuration
    /// usually lacks is filled in (client id, secret, an endpoint where the provider has none, Login 3.0's audience, Wokelo's user).
    /// <c>FailureCooldown</c> is 0, so a test that calls <see cref="FakeTokenEndpoint.Recover"/> gets a token at once.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="name">The token client's name.</param>
    /// <param name="configure">Options applied last, over the fake's.</param>
    /// <returns>The fake token endpoint; it is also the keyed service <see cref="FakeTokenEndpoint"/> of that name.</returns>
    public static FakeTokenEndpoint AddFakeTokenClient(this IServiceCollection services, string name, Action<TokenClientOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrEmpty(name);
        var registered = services.Any(d => d.IsKeyedService && d.ServiceType == typeof(ITokenClient) && Equals(d.ServiceKey, name));
        if (!registered)
        {
            services.AddTokenClient(name, _ => { });
        }

        var endpoint = new FakeTokenEndpoint(name);
        services.AddKeyedSingleton(name, endpoint);
        services.PostConfigure<TokenClientOptions>(name, options =>
        {
            FillBlanks(name, options);
            configure?.Invoke(options);
        });
        services.AddHttpClient(ClientDefinition.HttpClientNameOf(name)).ConfigurePrimaryHttpMessageHandler(provider =>
        {
            endpoint.Attach(provider);
            return new FakeHandler(endpoint);
        });
        return endpoint;
    }

    private static void FillBlanks(string name, TokenClientOptions options)
    {
        // Only where the provider has no endpoint of its own (Generic, Login 3.0 without Domain): the others keep theirs.
        if (ClientDefinition.Resolve(options) is (_, null))
        {
            options.TokenEndpoint = new Uri($"https://fake-token-endpoint.test/{Uri.EscapeDataString(name)}/token");
        }
        if (string.IsNullOrWhiteSpace(options.ClientId))
        {
            options.ClientId = "fake-client-id";
        }

        if (string.IsNullOrEmpty(options.ClientSecret))
        {
            options.ClientSecret = "fake-client-secret";
        }

        if (string.Equals(options.Provider, "Login3", StringComparison.OrdinalIgnoreCase) && string.IsNullOrEmpty(options.Audience))
        {
            options.Audience = "https://fake-audience.test";
        }

        if (string.Equals(options.Provider, "Wokelo", StringComparison.OrdinalIgnoreCase))
        {
            options.Username = string.IsNullOrEmpty(options.Username) ? "fake-user@example.test" : options.Username;
            options.Password = string.IsNullOrEmpty(options.Password) ? "fake-password" : options.Password;
        }

        options.FailureCooldown = TimeSpan.Zero;
    }

    // A handler per build: the factory disposes the handlers it built, never the endpoint.
    private sealed class FakeHandler(FakeTokenEndpoint endpoint) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            endpoint.AnswerAsync(request, cancellationToken);
    }
}
