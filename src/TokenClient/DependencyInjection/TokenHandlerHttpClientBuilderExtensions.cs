using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using TokenClient;
using TokenClient.Http;
using TokenClient.Providers;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Puts a token client's Bearer handler on an <see cref="HttpClient"/>.</summary>
public static class TokenHandlerHttpClientBuilderExtensions
{
    /// <summary>
    /// Attaches the token of client <paramref name="name"/> (and its configured <c>Headers</c>) to every
    /// request of this <see cref="HttpClient"/>, or the token of the tenant a request names with
    /// <see cref="HttpRequestMessageTokenExtensions.WithTokenTenant"/>. When the API rejects the token
    /// (401, and 403 for providers that document it, such as Lone Wolf), the handler gets a new token
    /// and resends the request once, if its content can be sent again.
    /// </summary>
    public static IHttpClientBuilder AddTokenHandler(this IHttpClientBuilder builder, string name)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(name);
        return builder.AddHttpMessageHandler(sp =>
        {
            var factory = sp.GetRequiredService<ITokenClientFactory>();
            var client = factory.GetClient(name); // validates the options first
            var options = sp.GetRequiredService<IOptionsMonitor<TokenClientOptions>>().Get(name);
            ProviderRegistry.TryGet(options.Provider, out var shaper);
            return new TokenHandler(
                client,
                tenant => factory.GetClient(name, tenant),
                shaper!.IsTokenRejected,
                name,
                options.Headers,
                (sp.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance).CreateLogger<TokenHandler>());
        });
    }
}
