using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using TokenClient;
using TokenClient.Http;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Puts a token client's Bearer handler on an <see cref="HttpClient"/>.</summary>
public static class TokenHandlerHttpClientBuilderExtensions
{
    /// <summary>
    /// Attaches the token of client <paramref name="name"/> (and its configured <c>Headers</c>) to every
    /// request of this <see cref="HttpClient"/>. When the API answers 401, the handler gets a new token
    /// and resends the request once, if its content can be sent again.
    /// </summary>
    public static IHttpClientBuilder AddTokenHandler(this IHttpClientBuilder builder, string name)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(name);
        return builder.AddHttpMessageHandler(sp => new TokenHandler(
            sp.GetRequiredService<ITokenClientFactory>().GetClient(name),
            name,
            sp.GetRequiredService<IOptionsMonitor<TokenClientOptions>>().Get(name).Headers,
            (sp.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance).CreateLogger<TokenHandler>()));
    }
}
