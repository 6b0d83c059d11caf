using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Runtime.ExceptionServices;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;
using Polly.Timeout;
using TokenClient.Caching;
using TokenClient.Diagnostics;
using TokenClient.Http;

namespace TokenClient.Providers;

/// <summary>
/// The call to one token endpoint: the shaper builds the request, the client configured through
/// <see cref="IHttpClientFactory"/> sends it inside a Polly pipeline (total timeout, retries of
/// transient failures honouring Retry-After, per-attempt timeout), and the shaper reads the answer.
/// After a permanent failure it reports that failure again at once for a short cooldown. No caching here.
/// </summary>
internal sealed class TokenEndpointClient
{
    private readonly TokenRequestContext _context;
    private readonly TokenRequestShaper _shaper;
    private readonly IHttpClientFactory _httpClientFactory;
    private readonly string _httpClientName;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ResiliencePipeline _pipeline;

    // The newest refresh token the server returned. Only the one acquisition under way touches it.
    private string? _refreshToken;

    // The cooldown is at most the last token's lifetime divided by this.
    internal const int CooldownLifetimeFraction = 10;

    // A permanent failure and until when it is reported without calling the endpoint.
    private volatile Cooldown? _cooldown;

    // The lifetime of the last token issued, which caps the cooldown. Written by the one acquisition under way.
    private TimeSpan? _lastLifetime;

    public TokenEndpointClient(
        TokenRequestContext context,
        TokenRequestShaper shaper,
        ResiliencePipeline pipeline,
        IHttpClientFactory httpClientFactory,
        string httpClientName,
        TimeProvider time,
        ILogger logger)
    {
        _context = context;
        _shaper = shaper;
        _pipeline = pipeline;
        _httpClientFactory = httpClientFactory;
        _httpClientName = httpClientName;
        _time = time;
        _logger = logger;
    }

    /// <summary>Requests a token.</summary>
    /// <param name="renewing">Whether a valid token is still held: then the failure cooldown does not apply, since a
    /// renewal that is refused costs nobody a token, and one that succeeds spares every caller an outage.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    public async Task<IssuedToken> RequestTokenAsync(bool renewing, CancellationToken cancellationToken)
    {
        if (!renewing && _cooldown is { } cooldown && _time.GetUtcNow() < cooldown.Until)
        {
            Log.FailureRepeated(_logger, _context.ClientName, cooldown.Until);
            ExceptionDispatchInfo.Throw(cooldown.Failure);
        }

        Log.RequestingToken(_logger, _context.ClientName, _context.Endpoint.Host);
        using var activity = Telemetry.Source.StartActivity("TokenClient.GetToken", ActivityKind.Client);
        activity?.SetTag("tokenclient.client", _context.ClientName);
        activity?.SetTag("server.address", _context.Endpoint.Host);
        var started = _time.GetTimestamp();
        try
        {
            var issued = await RequestWithRefreshFallbackAsync(cancellationToken).ConfigureAwait(false);
            if (_shaper.UsesRefreshTokens && !string.IsNullOrEmpty(issued.RefreshToken))
            {
                _refreshToken = issued.RefreshToken;
            }

            _context.Secrets.RememberIssued(issued.Token.Value, _refreshToken);

            _cooldown = null;
            _lastLifetime = issued.Token.ExpiresAt - issued.ReceivedAt;
            Record(activity, started, failure: null);
            Log.TokenAcquired(_logger, _context.ClientName, (issued.Token.ExpiresAt - issued.ReceivedAt).TotalSeconds);
            return issued;
        }
        catch (TokenRequestException ex)
        {
            Record(activity, started, ex);
            Log.TokenRequestFailed(_logger, _context.ClientName, ex.Message);
            if (!ex.IsTransient && CooldownLength() is var length && length > TimeSpan.Zero)
            {
                _cooldown = new Cooldown(ex, _time.GetUtcNow() + length);
            }

            throw;
        }
    }

    // FailureCooldown, but never more than a tenth of the last token's lifetime: with short-lived tokens a
    // long cooldown would outlast several tokens' worth of callers.
    private TimeSpan CooldownLength()
    {
        var configured = _context.Options.FailureCooldown;
        return _lastLifetime is { } lifetime && lifetime / CooldownLifetimeFraction < configured ? lifetime / CooldownLifetimeFraction : configured;
    }

    // One measurement and one span outcome per acquisition, error.type from a bounded set (Telemetry.ErrorType).
    private void Record(Activity? activity, long started, TokenRequestException? failure)
    {
        var errorType = failure is null ? null : ErrorType.Of(failure);
        var tags = new TagList
        {
            { "tokenclient.client", _context.ClientName },
            { "tokenclient.outcome", failure is null ? "success" : "failure" },
        };
        if (errorType is not null)
        {
            tags.Add("error.type", errorType);
            activity?.SetTag("error.type", errorType);
            activity?.SetStatus(ActivityStatusCode.Error, failure!.IsTransient ? "transient" : "permanent");
        }

        Telemetry.TokenRequests.Add(1, tags);
        Telemetry.TokenRequestDuration.Record(_time.GetElapsedTime(started).TotalSeconds, tags);
    }

    private async Task<IssuedToken> RequestWithRefreshFallbackAsync(CancellationToken cancellationToken)
    {
        if (_shaper.UsesRefreshTokens && _refreshToken is { } refreshToken)
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
                        return await SendAsync(refreshToken, token).ConfigureAwait(false);
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
            var total = ex.Timeout == _context.Options.TotalTimeout && lastFailure is not null;
            throw total ? TokenErrors.GaveUp(_context, lastFailure!, ex) : TokenErrors.TimedOut(_context, ex, ex.Timeout);
        }
    }

    private async Task<IssuedToken> SendAsync(string? refreshToken, CancellationToken cancellationToken)
    {
        var answer = await FetchAsync(refreshToken, cancellationToken).ConfigureAwait(false);
        try
        {
            var parsed = _shaper.ReadResponse(_context, answer.Status, answer.Body);
            var token = new AccessToken(parsed.AccessToken, "Bearer", ExpiresAt(parsed, answer.ReceivedAt), parsed.Scope);
            return new IssuedToken(token, answer.ReceivedAt, parsed.RefreshToken);
        }
        catch (TokenRequestException ex) when (answer.RetryAfter is { } retryAfter)
        {
            ex.RetryAfter = Delay(retryAfter, answer.ReceivedAt);
            throw;
        }
    }

    // The transport part of one attempt: send, then read the body within its limit. Every transport
    // failure, whether before the headers or in the middle of the body, is translated here.
    private async Task<Answer> FetchAsync(string? refreshToken, CancellationToken cancellationToken)
    {
        using var request = _shaper.CreateRequest(_context, refreshToken);
        var http = _httpClientFactory.CreateClient(_httpClientName);
        var headersReceived = false;
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            headersReceived = true;
            RefuseRedirect(response);

            // The lifetime counts from the response's arrival, not from the server's clock.
            var receivedAt = _time.GetUtcNow();
            var body = await ReadBodyAsync(response, cancellationToken).ConfigureAwait(false);
            return new Answer(response.StatusCode, response.Headers.RetryAfter, body, receivedAt);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            throw TokenErrors.Unreachable(_context, ex);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw TokenErrors.TimedOut(_context, ex, headersReceived ? null : http.Timeout);
        }
    }

    // A token request never follows a redirect: it would re-send the credentials, and accept a token, from
    // wherever the server points. The primary handler is told not to follow them (RedirectsOff); a
    // handler that follows them all the same is caught by the URI its response answers.
    private void RefuseRedirect(HttpResponseMessage response)
    {
        if ((int)response.StatusCode is >= 300 and <= 399)
        {
            var target = response.Headers.Location is { } location && Uri.TryCreate(_context.Endpoint, location, out var resolved) ? resolved : null;
            throw TokenErrors.Redirected(_context, response.StatusCode, target);
        }

        if (response.RequestMessage?.RequestUri is { } answered && !Redirects.SameOrigin(answered, _context.Endpoint))
        {
            throw TokenErrors.Redirected(_context, response.StatusCode, answered);
        }
    }

    // expires_in first; else the JWT's exp, unless the server's clock puts it in our past or too near (under the
    // minimum lifetime) to trust; else the configured default.
    private DateTimeOffset ExpiresAt(TokenResponse parsed, DateTimeOffset receivedAt)
    {
        if (parsed.Lifetime is { } lifetime)
        {
            return receivedAt + lifetime;
        }

        return JwtExpiry.TryRead(parsed.AccessToken) is { } exp && exp - receivedAt >= OAuthResponseReader.MinLifetime
            ? (exp - receivedAt > OAuthResponseReader.MaxLifetime ? receivedAt + OAuthResponseReader.MaxLifetime : exp)
            : receivedAt + _context.Options.DefaultLifetime;
    }

    private async Task<byte[]> ReadBodyAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var limit = _context.Options.MaxResponseSize;
        if (response.Content.Headers.ContentLength > limit)
        {
            throw TokenErrors.TooLarge(_context, response.StatusCode, limit);
        }

        var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            using var buffer = new MemoryStream();
            var chunk = new byte[16 * 1024];
            int read;
            while ((read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + read > limit)
                {
                    throw TokenErrors.TooLarge(_context, response.StatusCode, limit);
                }

                buffer.Write(chunk, 0, read);
            }

            return buffer.ToArray();
        }
    }

    // Retry-After in either form (RFC 9110 10.2.3): seconds, or an HTTP date measured against our clock.
    private static TimeSpan Delay(RetryConditionHeaderValue retryAfter, DateTimeOffset now)
    {
        var delay = retryAfter.Delta ?? (retryAfter.Date - now) ?? TimeSpan.Zero;
        return delay > TimeSpan.Zero ? delay : TimeSpan.Zero;
    }

    /// <summary>The Polly pipeline of one client definition, shared by its tenants.</summary>
    internal static ResiliencePipeline BuildPipeline(string clientName, TokenClientOptions options, TimeProvider time, ILogger logger)
    {
        var builder = new ResiliencePipelineBuilder { TimeProvider = time, Name = $"TokenClient.{clientName}" };
        builder.AddTimeout(options.TotalTimeout);
        if (options.MaxRetries > 0)
        {
            builder.AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = options.MaxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.RetryDelay,
                MaxDelay = options.MaxRetryDelay,
                ShouldHandle = args => new ValueTask<bool>(ShouldRetry(args.Outcome.Exception, options.MaxRetryDelay)),
                DelayGenerator = args => new ValueTask<TimeSpan?>((args.Outcome.Exception as TokenRequestException)?.RetryAfter),
                OnRetry = args =>
                {
                    Log.RetryingTokenRequest(logger, clientName, args.AttemptNumber + 1, args.RetryDelay.TotalSeconds,
                        args.Outcome.Exception is TokenRequestException failure ? failure.Message : "the attempt timed out");
                    return default;
                },
            });
        }

        builder.AddTimeout(options.AttemptTimeout);
        return builder.Build();
    }

    // Transient failures only, and never longer than the server's own Retry-After allows within our cap.
    private static bool ShouldRetry(Exception? failure, TimeSpan maxRetryDelay) => failure switch
    {
        TimeoutRejectedException => true,
        TokenRequestException { IsTransient: true, RetryAfter: var retryAfter } => retryAfter is null || retryAfter <= maxRetryDelay,
        _ => false,
    };

    private sealed record Cooldown(TokenRequestException Failure, DateTimeOffset Until);

    private readonly record struct Answer(HttpStatusCode Status, RetryConditionHeaderValue? RetryAfter, byte[] Body, DateTimeOffset ReceivedAt);
}
