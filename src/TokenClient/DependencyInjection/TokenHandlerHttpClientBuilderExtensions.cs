using Microsoft.Extensions.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using TokenClient;
using TokenClient.Clients;
using TokenClient.Http;

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

        // A name no AddTokenClient registers (a typo) fails at start-up, not at the first request.
        builder.Services.AddSingleton(new TokenClientRegistration(name, ByHandler: true));
        TokenClientServiceCollectionExtensions.AddFactory(builder.Services);
        // Redirects are followed above the token handler, each hop going down through it again (see Redirects.TakeOver).
        builder.AddHttpMessageHandler(static () => new RedirectGuard());
        builder.AddHttpMessageHandler(sp => new TokenHandler(
            // The factory validates every client when it is built: a handler resolved before start-up validation runs (a
            // hosted service's typed client) fails with what is wrong with the registrations, not with a missing service.
            sp.GetRequiredService<TokenClientFactory>().Named(name),
            (sp.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance).CreateLogger<TokenHandler>()));

        // After every Configure, so after whichever primary handler the user chose.
        // With mutual TLS, the API is given the same certificate: a server that binds the token to it (RFC 8705 section 3) checks it.
        builder.Services.PostConfigure<HttpClientFactoryOptions>(builder.Name, o =>
        {
            o.HttpMessageHandlerBuilderActions.Add(Redirects.TakeOver);
            o.HttpMessageHandlerBuilderActions.Add(b => TokenClientServiceCollectionExtensions.PresentClientCertificate(b, name));
        });

        // IHttpClientFactory's own request and response logs (Trace) write header values unless told not to, and before .NET 9
        // they redact none: the token, the proof, the configured Headers, and the answers' challenges (an API may quote the
        // token it rejects) are redacted whatever else the user chose.
        builder.Services.AddOptions<HttpClientFactoryOptions>(builder.Name).PostConfigure<IOptionsMonitor<TokenClientOptions>>((o, clients) =>
        {
            var previous = o.ShouldRedactHeaderValue;
            o.ShouldRedactHeaderValue = header => IsCredential(header) || clients.Get(name).Headers.Keys.Contains(header, StringComparer.OrdinalIgnoreCase) || previous(header);
        });
        return builder;
    }

    // Request headers that carry a credential, and response headers that can quote one back (RFC 9110 11.6).
    private static bool IsCredential(string header) =>
        header.Equals("Authorization", StringComparison.OrdinalIgnoreCase)
        || header.Equals("Proxy-Authorization", StringComparison.OrdinalIgnoreCase)
        || header.Equals(DpopProofs.Scheme, StringComparison.OrdinalIgnoreCase)
        || header.Equals("WWW-Authenticate", StringComparison.OrdinalIgnoreCase)
        || header.Equals("Proxy-Authenticate", StringComparison.OrdinalIgnoreCase)
        || header.Equals("Authentication-Info", StringComparison.OrdinalIgnoreCase)
        || header.Equals("Proxy-Authentication-Info", StringComparison.OrdinalIgnoreCase);
}
