namespace TokenClient;

/// <summary>
/// Gets access tokens for one configured client (and tenant): from the cache while they are fresh,
/// otherwise acquired once for all concurrent callers.
/// </summary>
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
    /// Forgets <paramref name="rejected"/> if it is still the cached token, so that the next
    /// <see cref="GetTokenAsync"/> acquires a new one. A late rejection of an older token never
    /// discards a newer one.
    /// </summary>
    /// <param name="rejected">The token that the API refused.</param>
    void Invalidate(AccessToken rejected);
}
