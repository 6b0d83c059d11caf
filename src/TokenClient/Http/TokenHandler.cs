using System.Net;
using Microsoft.Extensions.Logging;
using TokenClient.Diagnostics;

namespace TokenClient.Http;

/// <summary>
/// Attaches <c>Authorization: Bearer</c> and the client's configured headers to every request, and
/// only to the origin (scheme, host, port) the caller addressed. When the API rejects the token, it
/// drops that token, gets a new one and resends the request once to its original URI, if its content
/// can be sent again. It follows redirects itself when it could take them over from the primary
/// handler, so that a hop to another origin goes without the credentials.
/// </summary>
internal sealed class TokenHandler : DelegatingHandler
{
    /// <summary>Where <see cref="HttpRequestMessageTokenExtensions.WithTokenTenant"/> puts a request's tenant.</summary>
    internal static readonly HttpRequestOptionsKey<string> TenantOption = new("TokenClient.Tenant");

    // The URI the caller addressed, kept once a redirect has moved the request elsewhere: a handler
    // above this one that sends the same message again (a retry) must not make the target its origin.
    private static readonly HttpRequestOptionsKey<Uri> s_originOption = new("TokenClient.Origin");

    private readonly ITokenClient _client;
    private readonly Func<string, ITokenClient> _tenantClient;
    private readonly Func<HttpStatusCode, bool> _isTokenRejected;
    private readonly string _clientName;
    private readonly KeyValuePair<string, string>[] _headers;
    private readonly bool _allowInsecureHttp;
    private readonly ILogger _logger;

    /// <param name="client">The client's token client, for requests with no tenant of their own.</param>
    /// <param name="tenantClient">The token client of one tenant, for requests that name one.</param>
    /// <param name="isTokenRejected">Which API statuses mean the token was refused (the provider's rule).</param>
    /// <param name="clientName">The client's name, for logs.</param>
    /// <param name="headers">Headers to add to every request.</param>
    /// <param name="allowInsecureHttp">Whether the token may go over plain http to a host other than loopback.</param>
    /// <param name="logger">The logger.</param>
    public TokenHandler(
        ITokenClient client,
        Func<string, ITokenClient> tenantClient,
        Func<HttpStatusCode, bool> isTokenRejected,
        string clientName,
        IEnumerable<KeyValuePair<string, string>> headers,
        bool allowInsecureHttp,
        ILogger logger)
    {
        _client = client;
        _tenantClient = tenantClient;
        _isTokenRejected = isTokenRejected;
        _clientName = clientName;
        _headers = headers.ToArray();
        _allowInsecureHttp = allowInsecureHttp;
        _logger = logger;
    }

    /// <summary>
    /// How many redirects this handler follows itself: set when it took redirects over from the primary
    /// handler (whose own limit it keeps); zero when the primary handler does not follow them.
    /// </summary>
    internal int MaxRedirects { get; set; }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var options = request.Options;
        var origin = options.TryGetValue(s_originOption, out var kept) ? kept
            : request.RequestUri is { IsAbsoluteUri: true } uri ? uri
            : throw new InvalidOperationException($"Token client '{_clientName}': the request has no absolute URI to send the token to.");
        if (origin.Scheme != Uri.UriSchemeHttps && !origin.IsLoopback && !_allowInsecureHttp)
        {
            throw new InvalidOperationException(
                $"Token client '{_clientName}' refuses to send a bearer token over plain {origin.Scheme} to " +
                $"{origin.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped)}: " +
                "use https (plain http is allowed only on loopback), or set AllowInsecureHttp for this client if the network is trusted.");
        }

        var client = options.TryGetValue(TenantOption, out var tenant) ? _tenantClient(tenant) : _client;
        var token = await client.GetTokenAsync(cancellationToken).ConfigureAwait(false);
        var (method, content) = (request.Method, request.Content); // a redirect may change both
        var resent = false;
        var redirects = 0;
        while (true)
        {
            // Each hop carries the token and the configured headers only if it is on the caller's origin.
            Attach(request, Redirects.SameOrigin(request.RequestUri, origin) ? token : null);
            HttpResponseMessage response;
            try
            {
                response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                // Moved by a redirect (this handler's or the primary handler's): remember where the caller aimed.
                if (!ReferenceEquals(request.RequestUri, origin))
                {
                    options.Set(s_originOption, origin);
                }
            }

            if (redirects < MaxRedirects && Redirects.TryFollow(request, response))
            {
                redirects++;
                response.Dispose();
                continue; // the next send keeps the origin with the request
            }

            // A rejection from another origin (where a redirect led) is not about our token: it went without it. The
            // response's own request tells where it came from, even when a primary handler followed a redirect with a request of its own.
            if (resent || !_isTokenRejected(response.StatusCode) || !Redirects.SameOrigin(response.RequestMessage?.RequestUri ?? request.RequestUri, origin))
            {
                return response;
            }

            // A redirect that turned the request into a GET (303, or 301/302 after a POST) says the server
            // took the original request: sending it again could do its work twice.
            if (request.Method != method)
            {
                return response;
            }

            if (!CanResend(content))
            {
                Log.CannotResend(_logger, (int)response.StatusCode, method.Method, origin.Host, _clientName);
                return response;
            }

            try
            {
                client.Invalidate(token);
                token = await client.GetTokenAsync(cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                response.Dispose(); // whether the renewal failed or the request goes again
            }

            Log.ResendingWithNewToken(_logger, (int)response.StatusCode, method.Method, origin.Host, _clientName);
            Telemetry.Resends.Add(1, new KeyValuePair<string, object?>("tokenclient.client", _clientName));

            // The resend goes to the URI the caller addressed, as the caller made it, whatever the redirects did.
            (request.RequestUri, request.Method, request.Content) = (origin, method, content);
            (resent, redirects) = (true, 0);
        }
    }

    /// <summary>Content that produces the same bytes when it is serialized again: none, or buffered in memory.</summary>
    internal static bool CanResend(HttpContent? content) => content switch
    {
        null => true,
        ByteArrayContent or ReadOnlyMemoryContent => true, // StringContent and FormUrlEncodedContent are ByteArrayContent
        MultipartContent multipart => multipart.All(CanResend),
        _ => false,
    };

    private void Attach(HttpRequestMessage request, AccessToken? token)
    {
        foreach (var (name, value) in _headers)
        {
            request.Headers.Remove(name);
            if (token is not null)
            {
                request.Headers.TryAddWithoutValidation(name, value);
            }
        }

        request.Headers.Authorization = token?.AuthorizationHeader;
    }
}
