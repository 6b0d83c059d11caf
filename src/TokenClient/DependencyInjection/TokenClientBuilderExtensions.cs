using TokenClient;
using TokenClient.Clients;
using TokenClient.DependencyInjection;

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
        configure(builder.Services.AddHttpClient(ClientDefinition.HttpClientNameOf(builder.Name)));
        return builder;
    }
}
