namespace TokenClient;

/// <summary>
/// Gets access tokens for one configured client (and tenant): from the cache while they are fresh,
/// otherwise acquired once for all concurrent callers.
/// </summary>
// Two overloads with an optional cancellation token each: the public contract names both so.
#pragma warning disable RS0026
public interface ITokenClient
{
    /// <summary>
    /// Returns a valid token. A cached token is returned at once; a token due for renewal is returned
    /// at once while one renewal runs in the background; only when no valid token exists does the
    /// caller wait, sharing one request to the token endpoint with every other waiting caller.
    /// </summary>
    /// <param name="cancellationToken">Cancels this caller's wait, never the shared acquisition.</param>
    /// <exception cref="TokenRequestException">No valid token could be acquired.</exception>
    ValueTask<AccessToken> GetTokenAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Returns a valid token for these parameters (another scope, resources, audience or fields than the configured
    /// ones), cached under its own entry as <see cref="GetTokenAsync(CancellationToken)"/> caches the configured one; with
    /// <see cref="TokenRequestParameters.ForceRenewal"/>, a new token, one request for all who force at once.
    /// </summary>
    /// <param name="parameters">What to ask for beyond the configuration.</param>
    /// <param name="cancellationToken">Cancels this caller's wait, never the shared acquisition.</param>
    /// <exception cref="ArgumentException">The client's provider cannot send one of the parameters (the message names it).</exception>
    /// <exception cref="TokenRequestException">No valid token could be acquired.</exception>
    /// <exception cref="NotSupportedException">This implementation takes no parameters (the default for implementations outside TokenClient).</exception>
    ValueTask<AccessToken> GetTokenAsync(TokenRequestParameters parameters, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return parameters.ChangesToken || parameters.ForceRenewal
            ? throw new NotSupportedException($"{GetType().Name} takes no token request parameters; use a client from ITokenClientFactory.")
            : GetTokenAsync(cancellationToken);
    }

    /// <summary>
    /// Forgets <paramref name="rejected"/> if it is still the cached token, so that the next
    /// <see cref="GetTokenAsync(CancellationToken)"/> acquires a new one. A late rejection of an older token never
    /// discards a newer one.
    /// </summary>
    /// <param name="rejected">The token that the API refused.</param>
    void Invalidate(AccessToken rejected);
}
#pragma warning restore RS0026
