using TokenClient.Caching;

namespace TokenClient.Endpoint;

/// <summary>When a token expires, from what the response said of it.</summary>
internal static class TokenLifetime
{
    // expires_in first; else the JWT's exp, unless the server's clock puts it in our past or too near (under the
    // minimum lifetime) to trust; else the configured default.
    public static DateTimeOffset ExpiresAt(string accessToken, TimeSpan? lifetime, DateTimeOffset receivedAt, TimeSpan defaultLifetime)
    {
        if (lifetime is { } said)
        {
            return receivedAt + said;
        }

        if (JwtExpiry.TryRead(accessToken) is not { } exp || exp - receivedAt < OAuthResponseReader.MinLifetime)
        {
            return receivedAt + defaultLifetime;
        }

        return receivedAt + Durations.Shorter(exp - receivedAt, OAuthResponseReader.MaxLifetime);
    }
}
