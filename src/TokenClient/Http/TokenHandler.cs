using System.Net;
using Microsoft.Extensions.Logging;
using TokenClient.Diagnostics;

namespace TokenClient.Http;

/// <summary>
/// Attaches <c>Authorization: Bearer</c> (or <c>DPoP</c> with a proof, for a DPoP-bound token) and the client's configured
/// headers to a request, only if it goes to the origin (scheme, host, port) the caller addressed. When that origin rejects
/// the token, it drops that token, gets a new one and resends the request once, as the caller made it, if its content can
/// be sent again; a DPoP nonce the origin demands gets one resend too. Redirects are the <see cref="RedirectGuard"/>'s,
/// above it: each hop comes down through this handler again.
/// </summary>
internal sealed class TokenHandler : DelegatingHandler
{
    private readonly ITokenSource _source;
    private readonly ILogger _logger;

    /// <param name="source">The client whose current policy and tokens the handler uses.</param>
    /// <param name="logger">The logger.</param>
    public TokenHandler(ITokenSource source, ILogger logger)
    {
        _source = source;
        _logger = logger;
    }

    // The common case (a cached token, an answer that is no rejection) allocates nothing of its own: the inner handler's
    // task is returned as it is.
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var policy = _source.Policy; // the current one: a changed configuration applies to the next request
        var kept = CallerRequest.Of(request);
        Uri origin;
        if (kept is not null)
        {
            origin = kept.Origin;
        }
        else if (request.RequestUri is { IsAbsoluteUri: true } uri)
        {
            origin = uri;
        }
        else
        {
            return Task.FromException<HttpResponseMessage>(new InvalidOperationException(
                $"Token client '{policy.ClientName}': the request has no absolute URI to send the token to."));
        }

        if (!Origins.IsHttpsOrLoopback(origin) && !policy.AllowInsecureHttp)
        {
            return Task.FromException<HttpResponseMessage>(new InvalidOperationException(
                $"Token client '{policy.ClientName}' refuses to send a bearer token over plain {origin.Scheme} to " +
                $"{origin.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped)}: " +
                "use https (plain http is allowed only on loopback), or set AllowInsecureHttp for this client if the network is trusted."));
        }

        var (tenant, parameters) = HttpRequestMessageTokenExtensions.TokenChoicesOf(request);
        var exchange = new Exchange(request, policy, origin, _source.For(tenant, parameters), kept);
        var pending = parameters is { ForceRenewal: true } ? exchange.Client.GetTokenAsync(parameters, cancellationToken) : exchange.Client.GetTokenAsync(cancellationToken);
        if (!pending.IsCompletedSuccessfully)
        {
            return AfterTokenAsync(exchange, pending, cancellationToken);
        }

        exchange.Token = pending.Result;
        var sending = Send(ref exchange, cancellationToken);
        if (sending.IsCompletedSuccessfully && IsFinal(exchange, sending.Result))
        {
            KeepNonce(exchange, sending.Result);
            KeepOrigin(ref exchange);
            return sending;
        }

        return FinishAsync(exchange, sending, cancellationToken);
    }

    // The synchronous Send would go past this handler to the inner one (DelegatingHandler's own Send), without the token or
    // the headers. Getting a token is network I/O that may wait for a renewal and resend: done synchronously it would hold
    // a thread for all of it, the very thing that starves the thread pool that the token request itself needs.
    protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken) =>
        throw new NotSupportedException(
            $"Token client '{_source.Policy.ClientName}': the synchronous HttpClient.Send is not supported through AddTokenHandler, since " +
            "getting a token is asynchronous network I/O. Call SendAsync (or GetAsync, PostAsync…) and await it.");

    // Moved by a primary handler that follows redirects itself: an outer retry of the same message must not make the target its origin.
    private static void KeepOrigin(ref Exchange exchange)
    {
        if (!ReferenceEquals(exchange.Request.RequestUri, exchange.Origin))
        {
            exchange.Keep();
        }
    }

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

    // Whether the answer goes back as it is: not a rejection of our token by the caller's origin.
    private static bool IsFinal(in Exchange exchange, HttpResponseMessage response) =>
        !(exchange.Policy.IsTokenRejected(response.StatusCode) && FromOrigin(exchange, response));

    // The response's own request tells where it came from, even when a primary handler followed a redirect with a request of its own.
    private static bool FromOrigin(in Exchange exchange, HttpResponseMessage response) =>
        Redirects.SameOrigin(response.RequestMessage?.RequestUri ?? exchange.Request.RequestUri, exchange.Origin);

    // The token and the configured headers go only to the caller's origin; with a DPoP token, a new proof of this hop's
    // method and URI. A proof the handler attached before (on an earlier hop) goes whatever the token is now (a renewal may
    // have brought a Bearer token).
    private Task<HttpResponseMessage> Send(ref Exchange exchange, CancellationToken cancellationToken)
    {
        var request = exchange.Request;
        var token = Redirects.SameOrigin(request.RequestUri, exchange.Origin) ? exchange.Token : null;
        Attach(request, exchange.Policy.Headers, token);
        var proofNeeded = IsDpop(exchange) && token is not null;
        if (exchange.Kept?.ProofAttached == true || proofNeeded)
        {
            request.Headers.Remove(DpopProofs.Scheme); // the last hop's proof, or the caller's own: the proof must be ours and new
        }

        if (proofNeeded || exchange.Kept is not null)
        {
            exchange.Keep().ProofAttached = proofNeeded;
        }

        if (proofNeeded)
        {
            request.Headers.TryAddWithoutValidation(DpopProofs.Scheme, _source.Proofs.Create(request.Method, request.RequestUri!, token!.Value, out exchange.ProofNonce));
        }

        return base.SendAsync(request, cancellationToken);
    }

    private static bool IsDpop(in Exchange exchange) => exchange.Token?.TokenType == DpopProofs.Scheme;

    // With a DPoP token, keeps the nonce the caller's origin gives (RFC 9449 section 9), and returns it.
    private string? KeepNonce(in Exchange exchange, HttpResponseMessage response) =>
        IsDpop(exchange) && FromOrigin(exchange, response) ? _source.Proofs.Keep(exchange.Origin, atTokenEndpoint: false, DpopProofs.NonceOf(response.Headers)) : null;

    private async Task<HttpResponseMessage> AfterTokenAsync(Exchange exchange, ValueTask<AccessToken> pending, CancellationToken cancellationToken)
    {
        exchange.Token = await pending.ConfigureAwait(false);
        var sending = Send(ref exchange, cancellationToken); // before FinishAsync copies the exchange, with what Send noted in it
        return await FinishAsync(exchange, sending, cancellationToken).ConfigureAwait(false);
    }

    // The one resend after a rejection, and the one after a DPoP nonce demand.
    private async Task<HttpResponseMessage> FinishAsync(Exchange exchange, Task<HttpResponseMessage> sending, CancellationToken cancellationToken)
    {
        var request = exchange.Request;
        while (true)
        {
            HttpResponseMessage response;
            try
            {
                response = await sending.ConfigureAwait(false);
            }
            finally
            {
                KeepOrigin(ref exchange);
            }

            var nonce = KeepNonce(exchange, response);

            // A DPoP nonce demanded is not a rejection of the token: the request goes again once, with the nonce given, if
            // it is not the one the proof carried (a server that asks for the nonce it had is answered as it is).
            if (IsDpop(exchange) && FromOrigin(exchange, response) && DpopProofs.AsksForNonce(response))
            {
                if (exchange.Kept?.NonceResent == true || nonce is null || nonce == exchange.ProofNonce || request.Method != exchange.Method || !CallerRequest.CanResend(exchange.Content))
                {
                    return response;
                }

                response.Dispose();
                Log.ResendingWithDpopNonce(_logger, exchange.Method.Method, exchange.Origin.Host, exchange.Policy.ClientName);
                exchange.Keep().NonceResent = true;
                exchange.Keep().Restore(request);
                sending = Send(ref exchange, cancellationToken);
                continue;
            }

            // A rejection from another origin (where a redirect led) is not about our token: it went without it.
            if (exchange.Kept?.Resent == true || !exchange.Policy.IsTokenRejected(response.StatusCode) || !FromOrigin(exchange, response))
            {
                return response;
            }

            // A redirect that turned the request into a GET (303, or 301/302 after a POST) says the server
            // took the original request: sending it again could do its work twice.
            if (request.Method != exchange.Method)
            {
                return response;
            }

            var clientName = exchange.Policy.ClientName;
            if (!CallerRequest.CanResend(exchange.Content))
            {
                Log.CannotResend(_logger, (int)response.StatusCode, exchange.Method.Method, exchange.Origin.Host, clientName);
                return response;
            }

            try
            {
                exchange.Client.Invalidate(exchange.Token!);
                exchange.Token = await exchange.Client.GetTokenAsync(cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                response.Dispose(); // whether the renewal failed or the request goes again
            }

            Log.ResendingWithNewToken(_logger, (int)response.StatusCode, exchange.Method.Method, exchange.Origin.Host, clientName);
            _source.Metrics.Resends.Add(1, new KeyValuePair<string, object?>("tokenclient.client", clientName));

            // The resend goes to the URI the caller addressed, as the caller made it, whatever the redirects did.
            exchange.Keep().Resent = true;
            exchange.Keep().Restore(request);
            sending = Send(ref exchange, cancellationToken);
        }
    }

    /// <summary>One hop of a request, the caller's request it belongs to (kept once a redirect or a resend needs it), and the token it goes with.</summary>
    private struct Exchange(HttpRequestMessage request, HandlerPolicy policy, Uri origin, ITokenClient client, CallerRequest? kept)
    {
        public readonly HttpRequestMessage Request = request;
        public readonly HandlerPolicy Policy = policy;
        public readonly Uri Origin = origin;
        public readonly ITokenClient Client = client;
        public readonly HttpMethod Method = kept?.Method ?? request.Method; // the caller's: a redirect may change both
        public readonly HttpContent? Content = kept is null ? request.Content : kept.Content;
        public CallerRequest? Kept = kept;
        public AccessToken? Token;
        public string? ProofNonce; // the nonce of the proof this handler attached

        /// <summary>The caller's request, kept from now on (once a resend or a moved request needs it).</summary>
        public CallerRequest Keep() => Kept ??= CallerRequest.Keep(Request, Origin, Method, Content);
    }
}
