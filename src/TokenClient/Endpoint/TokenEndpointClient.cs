using System.Net;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Timeout;
using TokenClient.Caching;
using TokenClient.Diagnostics;
using TokenClient.Http;

namespace TokenClient.Endpoint;

/// <summary>
/// The token requests of one tenant of a client: the shaper builds each request, the transport sends it
/// inside the client's Polly pipeline, the shaper reads the answer. Around that: the failure cooldown,
/// the telemetry of each acquisition, and, for providers that use them, the newest refresh token.
/// No caching here.
/// </summary>
internal sealed class TokenEndpointClient
{
    private readonly TokenRequestContext _context;
    private readonly ProviderShaper _shaper;
    private readonly ResiliencePipeline<IssuedToken> _pipeline;
    private readonly TokenEndpointTransport _transport;
    private readonly FailureCooldown _cooldown;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly TokenClientMetrics _metrics;
    private readonly ClientAssertions? _assertions;
    private readonly AuthorityMetadata? _metadata;
    private readonly DpopProofs? _proofs;

    // The newest refresh token the server returned, for providers that renew with one. Only the one
    // acquisition under way touches it.
    private string? _refreshToken;

    public TokenEndpointClient(
        TokenRequestContext context,
        ProviderShaper shaper,
        ResiliencePipeline<IssuedToken> pipeline,
        IHttpClientFactory httpClientFactory,
        string httpClientName,
        TimeProvider time,
        ILogger logger,
        TokenClientMetrics metrics,
        ClientAssertions? assertions = null,
        AuthorityMetadata? metadata = null,
        DpopProofs? proofs = null,
        TokenEndpointClient? carryFrom = null)
    {
        _proofs = proofs;
        _assertions = assertions;
        _metadata = metadata;
        _context = context;
        _shaper = shaper;
        _pipeline = pipeline;
        _transport = new TokenEndpointTransport(httpClientFactory, httpClientName, time);
        _cooldown = new FailureCooldown(context.ClientName, context.Limits.FailureCooldown, time, logger, metrics);
        _time = time;
        _logger = logger;
        _metrics = metrics;
        if (carryFrom is not null)
        {
            // The same token identity under a changed configuration: what the server issued still stands.
            _refreshToken = carryFrom._refreshToken;
            context.Secrets.CarryIssued(carryFrom._context.Secrets);
            _cooldown.CarryLifetime(carryFrom._cooldown);
        }
    }

    /// <summary>Requests a token.</summary>
    /// <param name="renewing">Whether a valid token is still held: then the failure cooldown does not apply, since a
    /// renewal that is refused costs nobody a token, and one that succeeds spares every caller an outage.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    public async Task<IssuedToken> RequestTokenAsync(bool renewing, CancellationToken cancellationToken)
    {
        _cooldown.ThrowIfCooling(renewing);
        using var telemetry = AcquisitionTelemetry.Start(_context, _time, _logger, _metrics);
        try
        {
            var issued = await RequestWithRefreshFallbackAsync(cancellationToken).ConfigureAwait(false);
            if (_shaper.UsesRefreshTokens && !string.IsNullOrEmpty(issued.RefreshToken))
            {
                _refreshToken = issued.RefreshToken;
            }

            _context.Secrets.RememberIssued(issued.Token.Value, _refreshToken);
            _cooldown.Succeeded(issued.Token.ExpiresAt - issued.ReceivedAt);
            telemetry.Succeeded(issued);
            return issued;
        }
        catch (TokenRequestException ex)
        {
            telemetry.Failed(ex);
            _cooldown.Failed(ex);
            throw;
        }
    }

    /// <summary>
    /// Takes note of a token another instance fetched (from the shared cache): it is kept out of messages as
    /// this client's own are, and it ends a failure cooldown as a token of its own would.
    /// </summary>
    public void Took(IssuedToken issued)
    {
        _context.Secrets.RememberIssued(issued.Token.Value, _refreshToken);
        _cooldown.Succeeded(issued.Token.ExpiresAt - issued.ReceivedAt);
    }

    private async Task<IssuedToken> RequestWithRefreshFallbackAsync(CancellationToken cancellationToken)
    {
        if (_refreshToken is { } refreshToken)
        {
            try
            {
                return await SendResilientlyAsync(refreshToken, cancellationToken).ConfigureAwait(false);
            }
            catch (TokenRequestException ex) when (ex.Error == "invalid_grant")
            {
                // The refresh token was refused: forget it and fall back to the primary grant, once.
                _refreshToken = null;
                Log.RefreshTokenRefused(_logger, _context.ClientName);
            }
        }

        return await SendResilientlyAsync(refreshToken: null, cancellationToken).ConfigureAwait(false);
    }

    private async Task<IssuedToken> SendResilientlyAsync(string? refreshToken, CancellationToken cancellationToken)
    {
        TokenRequestException? lastFailure = null;
        try
        {
            return await _pipeline.ExecuteAsync(
                async token =>
                {
                    try
                    {
                        return await AttemptAsync(refreshToken, token).ConfigureAwait(false);
                    }
                    catch (TokenRequestException ex)
                    {
                        lastFailure = ex;
                        throw;
                    }
                },
                cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutRejectedException ex)
        {
            var total = ex.Timeout == _context.Limits.TotalTimeout && lastFailure is not null;
            throw total ? TokenErrors.GaveUp(_context, lastFailure!, ex) : TokenErrors.TimedOut(_context, ex, ex.Timeout);
        }
    }

    // An endpoint that answered as an OAuth endpoint (invalid_client, a 5xx) is still the endpoint: only a failure to reach
    // one (unreachable, 404, a redirect) has the metadata read again.
    private void ForgetEndpointAfter(TokenRequestException failure)
    {
        if (failure.Error is null && failure.StatusCode is null or HttpStatusCode.NotFound or HttpStatusCode.Gone or (>= HttpStatusCode.Ambiguous and <= (HttpStatusCode)399))
        {
            _metadata?.Forget();
        }
    }

    // One attempt: the token issued, or a TokenRequestException that carries the server's Retry-After.
    private async ValueTask<IssuedToken> AttemptAsync(string? refreshToken, CancellationToken cancellationToken)
    {
        // With DPoP, a server that wants a nonce refuses the first proof with use_dpop_nonce and gives one: the request goes
        // again once with it (RFC 9449 section 8), a new proof and assertion, within this attempt.
        for (var round = 0; ; round++)
        {
            var context = _context;
            Answer answer;
            string? sentNonce = null;
            try
            {
                // With an Authority, the token endpoint its metadata names; private_key_jwt: a new assertion for every attempt.
                if (_metadata is not null)
                {
                    context = context with { Endpoint = await _metadata.TokenEndpointAsync(_context, _transport, cancellationToken).ConfigureAwait(false) };
                }

                if (_assertions is not null)
                {
                    context = context with { ClientAssertion = await _assertions.CreateAsync(context, cancellationToken).ConfigureAwait(false) };
                }

                using var request = _shaper.CreateRequest(context, refreshToken);
                if (_proofs is not null)
                {
                    var proof = _proofs.Create(request.Method, context.Endpoint, accessToken: null, out sentNonce);
                    context.Secrets.RememberProof(proof); // a proof is a credential for a minute: never quoted back
                    request.Headers.TryAddWithoutValidation(DpopProofs.Scheme, proof);
                }

                answer = await _transport.FetchAsync(context, request, cancellationToken).ConfigureAwait(false);
            }
            catch (TokenRequestException ex)
            {
                ForgetEndpointAfter(ex);
                throw;
            }

            // A nonce other than the one this proof carried (another request's round may have kept it already).
            var newNonce = _proofs?.Keep(context.Endpoint, atTokenEndpoint: true, answer.DpopNonce) is { } given && given != sentNonce;
            try
            {
                var issued = _shaper.ReadResponse(context, answer);
                var token = issued.Token;

                // A body that came slowly may have used up the lifetime counted from the headers: what is left must still be
                // the minimum lifetime, or the token would be cached, shared, or handed out already expired.
                var reading = answer.Reading(_time);
                if (token.ExpiresAt - answer.ReceivedAt - reading < OAuthResponseReader.MinLifetime)
                {
                    throw TokenErrors.UsedUpInTransit(context, answer.Status, token.ExpiresAt - answer.ReceivedAt, reading);
                }

                if (_proofs is not null && token.TokenType != DpopProofs.Scheme)
                {
                    Log.DpopNotBound(_logger, _context.ClientName, token.TokenType);
                }

                return issued;
            }
            catch (TokenRequestException ex) when (round == 0 && newNonce && ex.Error == "use_dpop_nonce")
            {
                // Asked for the nonce it has just given: once more, with it.
            }
            catch (TokenRequestException ex)
            {
                ForgetEndpointAfter(ex);
                ex.RetryAfter = answer.RetryDelay;
                throw;
            }
        }
    }
}
