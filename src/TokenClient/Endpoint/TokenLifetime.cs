using TokenClient.Caching;

namespace TokenClient.Endpoint;

/// <summary>When a token expires, from what the response said of it.</summary>
internal static class TokenLifetime
{
    // expires_in first; else the JWT's exp, unless the server's clock puts it in our past or too near (under the
    // minimum lifetime) to trust; else the configured default.
    public static DateTimeOffset ExpiresAt(TokenResponse parsed, DateTimeOffset receivedAt, TokenClientOptions options)
    {
        if (parsed.Lifetime is { } lifetime)
        {
            return receivedAt + lifetime;
        }

        if (JwtExpiry.TryRead(parsed.AccessToken) is not { } exp || exp - receivedAt < OAuthResponseReader.MinLifetime)
        {
            return receivedAt + options.DefaultLifetime;
        }

        return receivedAt + Durations.Shorter(exp - receivedAt, OAuthResponseReader.MaxLifetime);
    }
}
