using System.Net;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using TokenClient.Clients;
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
    // Per-request state kept beside the request rather than in request.Options, whose dictionary would be
    // created on every request just to find that it names no tenant.
    private static readonly ConditionalWeakTable<HttpRequestMessage, string> s_tenants = new();

    // The URI the caller addressed, kept once a redirect has moved the request elsewhere: a handler
    // above this one that sends the same message again (a retry) must not make the target its origin.
    private static readonly ConditionalWeakTable<HttpRequestMessage, Uri> s_origins = new();

    private readonly NamedClient _client;
    private readonly ILogger _logger;

    /// <param name="client">The live client whose current definition (headers, rejection rule, plain-http rule) and tokens the handler uses.</param>
    /// <param name="logger">The logger.</param>
    public TokenHandler(NamedClient client, ILogger logger)
    {
        _client = client;
        _logger = logger;
    }

    /// <summary>Sends <paramref name="request"/> with the token of <paramref name="tenant"/>.</summary>
    internal static void SetTenant(HttpRequestMessage request, string tenant) => s_tenants.AddOrUpdate(request, tenant);

    /// <summary>
    /// How many redirects this handler follows itself: set when it took redirects over from the primary
    /// handler (whose own limit it keeps); zero when the primary handler does not follow them.
    /// </summary>
    internal int MaxRedirects { get; set; }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var definition = _client.Definition; // the current one: a changed configuration applies to the next request
        var clientName = definition.Name;
        var origin = s_origins.TryGetValue(request, out var kept) ? kept
            : request.RequestUri is { IsAbsoluteUri: true } uri ? uri
            : throw new InvalidOperationException($"Token client '{clientName}': the request has no absolute URI to send the token to.");
        if (origin.Scheme != Uri.UriSchemeHttps && !origin.IsLoopback && !definition.AllowInsecureHttp)
        {
            throw new InvalidOperationException(
                $"Token client '{clientName}' refuses to send a bearer token over plain {origin.Scheme} to " +
                $"{origin.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped)}: " +
                "use https (plain http is allowed only on loopback), or set AllowInsecureHttp for this client if the network is trusted.");
        }

        ITokenClient client = s_tenants.TryGetValue(request, out var tenant) ? _client.Entry(tenant) : _client;
        var token = await client.GetTokenAsync(cancellationToken).ConfigureAwait(false);
        var (method, content) = (request.Method, request.Content); // a redirect may change both
        var resent = false;
        var redirects = 0;
        while (true)
        {
            // Each hop carries the token and the configured headers only if it is on the caller's origin.
            Attach(request, definition.Headers, Redirects.SameOrigin(request.RequestUri, origin) ? token : null);
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
                    s_origins.AddOrUpdate(request, origin);
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
            if (resent || !definition.IsTokenRejected(response.StatusCode) || !Redirects.SameOrigin(response.RequestMessage?.RequestUri ?? request.RequestUri, origin))
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
                Log.CannotResend(_logger, (int)response.StatusCode, method.Method, origin.Host, clientName);
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

            Log.ResendingWithNewToken(_logger, (int)response.StatusCode, method.Method, origin.Host, clientName);
            Telemetry.Resends.Add(1, new KeyValuePair<string, object?>("tokenclient.client", clientName));

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

    private static void Attach(HttpRequestMessage request, KeyValuePair<string, string>[] headers, AccessToken? token)
    {
        foreach (var (name, value) in headers)
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
