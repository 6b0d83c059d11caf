using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace TokenClient.Clients;

/// <summary>
/// The health of every registered client, read from what its own cache holds: no probe makes a token request.
/// Healthy while a valid token is held (or none was asked for yet), Degraded while renewals fail but the token
/// held is still valid, Unhealthy when no valid token is held and the last acquisition failed.
/// </summary>
internal sealed class TokenClientHealthCheck(TokenClientFactory factory) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var worst = HealthStatus.Healthy;
        var lines = new List<string>();
        var data = new Dictionary<string, object>(StringComparer.Ordinal);
        foreach (var name in factory.Registry.Names)
        {
            var client = factory.Named(name);
            var (status, description) = Check(client.Cache);
            worst = status < worst ? status : worst;
            lines.Add($"'{name}': {description}");
            data[name] = status.ToString();
        }

        return Task.FromResult(new HealthCheckResult(worst, string.Join("; ", lines), data: data));
    }

    private static (HealthStatus Status, string Description) Check(Caching.CachingTokenClient cache)
    {
        var failure = cache.LastFailure;
        if (cache.HoldsValidToken && cache.ExpiresAt is { } expiresAt)
        {
            return failure is null
                ? (HealthStatus.Healthy, $"token valid until {expiresAt:O}")
                : (HealthStatus.Degraded, $"token valid until {expiresAt:O}, but its renewal failed at {failure.At:O}: {failure.Exception.Message}");
        }

        return failure is null
            ? (HealthStatus.Healthy, "no token requested yet")
            : (HealthStatus.Unhealthy, $"no valid token; the last request failed at {failure.At:O}: {failure.Exception.Message}");
    }
}
