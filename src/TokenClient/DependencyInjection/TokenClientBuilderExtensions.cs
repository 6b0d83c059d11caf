using TokenClient;
using TokenClient.Clients;
using TokenClient.DependencyInjection;
using TokenClient.Endpoint;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Configures a token client registered with <c>AddTokenClient</c>.</summary>
public static class TokenClientBuilderExtensions
{
    /// <summary>
    /// Configures the <see cref="IHttpClientFactory"/> client through which this token client calls its
    /// token endpoint: a primary handler, a proxy, resilience handlers, a timeout.
    /// </summary>
    public static ITokenClientBuilder ConfigureTokenEndpointHttpClient(this ITokenClientBuilder builder, Action<IHttpClientBuilder> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        configure(builder is TokenClientBuilder { TokenEndpointHttpClient: var registered }
            ? registered
            : builder.Services.AddHttpClient(TokenEndpointTransport.HttpClientNameOf(builder.Name)));
        return builder;
    }

    /// <summary>
    /// Has <paramref name="provider"/> make this client's assertions with <see cref="ClientAuthentication.PrivateKeyJwt"/>
    /// (a key vault, an HSM), in place of <c>SigningKey</c>; it is the keyed <see cref="IClientAssertionProvider"/> of the
    /// client's name.
    /// </summary>
    public static ITokenClientBuilder UseClientAssertionProvider(this ITokenClientBuilder builder, Func<IServiceProvider, IClientAssertionProvider> provider)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(provider);
        builder.Services.AddKeyedSingleton(builder.Name, (services, _) => provider(services));
        return builder;
    }
}
