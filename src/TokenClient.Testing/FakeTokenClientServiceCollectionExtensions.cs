using Microsoft.Extensions.Http;
using TokenClient;
using TokenClient.Clients;
using TokenClient.Endpoint;
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
    /// usually lacks is filled in (client id, an endpoint where the provider has none, Login 3.0's audience, Wokelo's user).
    /// The secret and Wokelo's password are always replaced with made-up ones, <c>SharedCache</c> is off (no token comes
    /// from, or goes to, another process), and <c>FailureCooldown</c> is 0, so that a test that calls
    /// <see cref="FakeTokenEndpoint.Recover"/> gets a token at once. <paramref name="configure"/> may set any of them again.
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
        // Options made by the root container, which is what Expire needs (a handler's own scope ends with the handler);
        // added after the application's, so that this primary handler is the one that stays.
        services.AddOptions<HttpClientFactoryOptions>(TokenEndpointTransport.HttpClientNameOf(name)).Configure<IServiceProvider>((options, root) =>
        {
            endpoint.Attach(root);
            options.HttpMessageHandlerBuilderActions.Add(builder => builder.PrimaryHandler = new FakeHandler(endpoint));
        });
        return endpoint;
    }

    private static void FillBlanks(string name, TokenClientOptions options)
    {
        // Only where the provider has no endpoint of its own (Generic, Login 3.0 without Domain), or reads it from an
        // Authority's metadata: the others keep theirs.
        options.Authority = null;
        var resolved = ClientDefinition.Resolve(options);
        if (resolved is (_, null))
        {
            options.TokenEndpoint = new Uri($"https://fake-token-endpoint.test/{Uri.EscapeDataString(name)}/token");
        }
        if (string.IsNullOrWhiteSpace(options.ClientId))
        {
            options.ClientId = "fake-client-id";
        }

        // The application's secrets never reach the fake (nor a failing test's message that quotes a request). A client
        // that signs assertions with a key the test machine lacks sends the made-up secret instead.
        options.ClientSecret = "fake-client-secret";
        if ((options.ClientAuthentication == ClientAuthentication.PrivateKeyJwt && !options.SigningKey.IsSet)
            || (options.ClientAuthentication == ClientAuthentication.Tls && !options.ClientCertificate.IsSet))
        {
            options.ClientAuthentication = ClientAuthentication.Basic;
        }

        // What else the provider needs to pass validation, and its other secrets, it says itself.
        if (resolved is ({ } shaper, _))
        {
            shaper.FillForFake(options);
        }

        // Nothing from another process: no token from the fleet's shared cache, and no fake token written to it.
        options.SharedCache = false;
        options.FailureCooldown = TimeSpan.Zero;
    }

    // A handler per build: the factory disposes the handlers it built, never the endpoint.
    private sealed class FakeHandler(FakeTokenEndpoint endpoint) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            endpoint.AnswerAsync(request, cancellationToken);
    }
}
