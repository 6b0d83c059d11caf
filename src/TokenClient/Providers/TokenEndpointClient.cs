using System.Net;
using Microsoft.Extensions.Logging;
using TokenClient.Diagnostics;

namespace TokenClient.Providers;

/// <summary>A token issued by the endpoint and when its response arrived, from which its renewal point is measured.</summary>
internal readonly record struct IssuedToken(AccessToken Token, DateTimeOffset ReceivedAt, string? RefreshToken);

/// <summary>
/// The raw call to one token endpoint: the shaper builds the request, the client configured
/// through <see cref="IHttpClientFactory"/> sends it, and the shaper reads the answer. No caching here.
/// </summary>
internal sealed class TokenEndpointClient
{
    /// <summary>The largest token response read; a larger one is refused rather than buffered.</summary>
    internal const int MaxResponseBytes = 1024 * 1024;

    private readonly TokenRequestContext _context;
    private readonly TokenRequestShaper _shaper;
    private readonly IHttpClientFactory _httpClientFactory;
    private readonly string _httpClientName;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    // The newest refresh token the server returned. Only the one acquisition under way touches it.
    private string? _refreshToken;

    public TokenEndpointClient(
        TokenRequestContext context,
        TokenRequestShaper shaper,
        IHttpClientFactory httpClientFactory,
        string httpClientName,
        TimeProvider time,
        ILogger logger)
    {
        _context = context;
        _shaper = shaper;
        _httpClientFactory = httpClientFactory;
        _httpClientName = httpClientName;
        _time = time;
        _logger = logger;
    }

    public async Task<IssuedToken> RequestTokenAsync(CancellationToken cancellationToken)
    {
        Log.RequestingToken(_logger, _context.ClientName, _context.Endpoint.Host);
        try
        {
            var issued = await RequestWithRefreshFallbackAsync(cancellationToken).ConfigureAwait(false);
            if (_shaper.UsesRefreshTokens && !string.IsNullOrEmpty(issued.RefreshToken))
            {
                _refreshToken = issued.RefreshToken;
            }

            Log.TokenAcquired(_logger, _context.ClientName, (issued.Token.ExpiresAt - issued.ReceivedAt).TotalSeconds);
            return issued;
        }
        catch (TokenRequestException ex)
        {
            Log.TokenRequestFailed(_logger, _context.ClientName, ex.Message);
            throw;
        }
    }

    private async Task<IssuedToken> RequestWithRefreshFallbackAsync(CancellationToken cancellationToken)
    {
        if (_shaper.UsesRefreshTokens && _refreshToken is { } refreshToken)
        {
            try
            {
                return await SendAsync(refreshToken, cancellationToken).ConfigureAwait(false);
            }
            catch (TokenRequestException ex) when (ex.Error == "invalid_grant")
            {
                // The refresh token was refused: forget it and fall back to the primary grant, once.
                _refreshToken = null;
                Log.RefreshTokenRefused(_logger, _context.ClientName);
            }
        }

        return await SendAsync(refreshToken: null, cancellationToken).ConfigureAwait(false);
    }

    private async Task<IssuedToken> SendAsync(string? refreshToken, CancellationToken cancellationToken)
    {
        using var request = _shaper.CreateRequest(_context, refreshToken);
        var http = _httpClientFactory.CreateClient(_httpClientName);
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            throw TokenErrors.Unreachable(_context, ex);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw TokenErrors.TimedOut(_context, ex);
        }

        using (response)
        {
            // The lifetime counts from the response's arrival, not from the server's clock.
            var receivedAt = _time.GetUtcNow();
            var body = await ReadBodyAsync(response, cancellationToken).ConfigureAwait(false);
            var parsed = _shaper.ReadResponse(_context, response.StatusCode, body);
            var expiresAt = ExpiresAt(parsed, receivedAt);
            return new IssuedToken(new AccessToken(parsed.AccessToken, "Bearer", expiresAt, parsed.Scope), receivedAt, parsed.RefreshToken);
        }
    }

    // expires_in first; else the JWT's exp, unless the server's clock puts it in our past; else the configured default.
    private DateTimeOffset ExpiresAt(TokenResponse parsed, DateTimeOffset receivedAt)
    {
        if (parsed.Lifetime is { } lifetime)
        {
            return receivedAt + lifetime;
        }

        return JwtExpiry.TryRead(parsed.AccessToken) is { } exp && exp > receivedAt
            ? exp
            : receivedAt + _context.Options.DefaultLifetime;
    }

    private async Task<byte[]> ReadBodyAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.Content.Headers.ContentLength > MaxResponseBytes)
        {
            throw TokenErrors.TooLarge(_context, response.StatusCode, MaxResponseBytes);
        }

        try
        {
            var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                using var buffer = new MemoryStream();
                var chunk = new byte[16 * 1024];
                int read;
                while ((read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
                {
                    if (buffer.Length + read > MaxResponseBytes)
                    {
                        throw TokenErrors.TooLarge(_context, response.StatusCode, MaxResponseBytes);
                    }

                    buffer.Write(chunk, 0, read);
                }

                return buffer.ToArray();
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            throw TokenErrors.Unreachable(_context, ex);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw TokenErrors.TimedOut(_context, ex);
        }
    }
}
