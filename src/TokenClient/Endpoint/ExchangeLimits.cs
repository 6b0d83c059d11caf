namespace TokenClient.Endpoint;

/// <summary>
/// How long, how large and how often one client's exchanges with its token endpoint may be, resolved once from its
/// validated options: the Polly pipeline's retries and timeouts, the failure cooldown, the largest answer read, and the
/// lifetime assumed for a token that states none.
/// </summary>
internal sealed record ExchangeLimits(
    int MaxRetries,
    TimeSpan RetryDelay,
    TimeSpan MaxRetryDelay,
    TimeSpan AttemptTimeout,
    TimeSpan TotalTimeout,
    TimeSpan FailureCooldown,
    int MaxResponseSize,
    TimeSpan DefaultLifetime)
{
    /// <summary>The limits of validated options.</summary>
    public static ExchangeLimits From(TokenClientOptions options) => new(
        options.MaxRetries,
        options.RetryDelay,
        options.MaxRetryDelay,
        options.AttemptTimeout,
        options.TotalTimeout,
        options.FailureCooldown,
        options.MaxResponseSize,
        options.DefaultLifetime);
}
